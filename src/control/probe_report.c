/* SPDX-License-Identifier: MIT */
/* probe_report: `echodctl probes`: one line per target, as mtr's report, or one JSON object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonout.h"
#include "probe_report.h"
#include "textesc.h"

/* A target's text may hold anything the configuration's string does: one line, escaped. */
#define CELL_MAX	256

static double
percent(unsigned long long part, unsigned long long whole)
{
	return whole == 0 ? 0 : 100.0 * (double)part / (double)whole;
}

static json_t *
seconds_or_null(double v)
{
	return v < 0 ? json_null() : jsonout_real(v, 6);
}

static json_t *
row_json(const struct probe_row *r)
{
	const struct probe_figures *f = &r->f;
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	jsonout_set(o, "probe", jsonout_string(r->probe));
	jsonout_set(o, "target", jsonout_string(r->target));
	jsonout_set(o, "address", jsonout_string(r->address));
	jsonout_set(o, "protocol", jsonout_string(r->protocol));
	jsonout_set(o, "sent", jsonout_uint(f->sent));
	jsonout_set(o, "received", jsonout_uint(f->received));
	jsonout_set(o, "lost", jsonout_uint(f->lost));
	jsonout_set(o, "lost_forward", jsonout_uint(f->lost_forward));
	jsonout_set(o, "lost_backward", jsonout_uint(f->lost_backward));
	jsonout_set(o, "lost_unknown", jsonout_uint(f->lost_unknown));
	jsonout_set(o, "loss_percent", jsonout_real(percent(f->lost, f->sent), 3));
	jsonout_set(o, "loss_forward_percent", jsonout_real(percent(f->lost_forward, f->sent),
	    3));
	jsonout_set(o, "loss_backward_percent", jsonout_real(percent(f->lost_backward,
	    f->sent), 3));
	jsonout_set(o, "rtt_p50_seconds", seconds_or_null(r->p50));
	jsonout_set(o, "rtt_p99_seconds", seconds_or_null(r->p99));
	jsonout_set(o, "last_reply_age_seconds", seconds_or_null(f->last_reply_age));
	jsonout_set(o, "up", json_boolean(f->up));
	return o;
}

static void
report_json(const struct probe_row *rows, size_t n, struct report *rep)
{
	json_t *o = json_object(), *list = json_array();
	char *text = NULL;

	for (size_t i = 0; o != NULL && list != NULL && i < n; i++)
		if (json_array_append_new(list, row_json(&rows[i])) == -1)
			break;
	if (o != NULL && list != NULL) {
		json_object_set_new(o, "probes", list);
		list = NULL;
		text = jsonout_text(o);
	} else {
		json_decref(o);
	}
	json_decref(list);
	if (text == NULL)
		report_fail(rep, "error: out of memory");
	else
		report_add(rep, "%s", text);
	free(text);
}

/* "12.345" ms, or "-" for none. */
static void
ms_cell(double seconds, char *buf, size_t size)
{
	if (seconds < 0)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.3f", seconds * 1000);
}

/* The widths of the three columns of names: the widest cell, or the header's. */
static void
name_widths(const struct probe_row *rows, size_t n, size_t w[3])
{
	char buf[CELL_MAX];

	w[0] = strlen("PROBE");
	w[1] = strlen("TARGET");
	w[2] = strlen("ADDRESS");
	for (size_t i = 0; i < n; i++) {
		const char *cells[3] = { rows[i].probe, rows[i].target, rows[i].address };

		for (int k = 0; k < 3; k++) {
			size_t len = textesc_width(textesc(cells[k], true, buf, sizeof(buf)));

			if (len > w[k])
				w[k] = len;
		}
	}
}

/* cell, escaped, padded to width columns, into line at *pos. */
static void
put_cell(char *line, size_t size, size_t *pos, const char *cell, size_t width)
{
	char buf[CELL_MAX];
	size_t len = textesc_width(textesc(cell, true, buf, sizeof(buf)));
	int k = snprintf(line + *pos, size - *pos, "%s%*s  ", buf,
	    (int)(width > len ? width - len : 0), "");

	if (k > 0)
		*pos += (size_t)k < size - *pos ? (size_t)k : size - *pos - 1;
}

static void
report_text(const struct probe_row *rows, size_t n, struct report *rep)
{
	char line[4 * CELL_MAX], p50[32], p99[32], age[32];
	size_t w[3], pos;

	name_widths(rows, n, w);
	pos = 0;
	put_cell(line, sizeof(line), &pos, "PROBE", w[0]);
	put_cell(line, sizeof(line), &pos, "TARGET", w[1]);
	put_cell(line, sizeof(line), &pos, "ADDRESS", w[2]);
	report_add(rep, "%s%-5s %8s %6s %6s %6s %9s %9s %7s %s", line, "PROTO", "SENT", "LOSS%",
	    "FWD%", "BWD%", "P50(ms)", "P99(ms)", "LAST(s)", "UP");
	for (size_t i = 0; i < n; i++) {
		const struct probe_figures *f = &rows[i].f;

		pos = 0;
		put_cell(line, sizeof(line), &pos, rows[i].probe, w[0]);
		put_cell(line, sizeof(line), &pos, rows[i].target, w[1]);
		put_cell(line, sizeof(line), &pos, rows[i].address, w[2]);
		ms_cell(rows[i].p50, p50, sizeof(p50));
		ms_cell(rows[i].p99, p99, sizeof(p99));
		if (f->last_reply_age < 0)
			snprintf(age, sizeof(age), "-");
		else
			snprintf(age, sizeof(age), "%.1f", f->last_reply_age);
		report_add(rep, "%s%-5s %8llu %6.1f %6.1f %6.1f %9s %9s %7s %s", line,
		    rows[i].protocol, f->sent, percent(f->lost, f->sent),
		    percent(f->lost_forward, f->sent), percent(f->lost_backward, f->sent), p50, p99,
		    age, f->up ? "yes" : "no");
	}
}

void
probe_report(struct probe_pub *pub, bool json, struct report *rep)
{
	struct probe_row *rows;
	size_t n;

	if (probe_pub_copy(pub, &rows, &n) == -1) {
		report_fail(rep, "error: out of memory");
		return;
	}
	if (json)
		report_json(rows, n, rep);
	else if (n == 0)
		report_add(rep, "no probes (echod.conf(5), \"Probes\")");
	else
		report_text(rows, n, rep);
	probe_rows_free(rows, n);
}
