/* SPDX-License-Identifier: MIT */
/* status: `echodctl status` as aligned text or one JSON object, from plain data (status.h). */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonout.h"
#include "status.h"
#include "textesc.h"

/* The longest label, "configuration:", and one space: every value starts in this column. */
#define STATUS_LABEL	"%-15s"
/* A listener row's field, escaped (textesc.h): at most 4 bytes for each byte of a name. */
#define STATUS_FIELD	2048
#define STATUS_COLUMNS	4

static void
format_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "-");
}

/* 3712 -> "1h01m52s"; a day or more: "2d03h04m05s". */
static void
format_uptime(uint64_t s, char *buf, size_t size)
{
	if (s >= 86400)
		snprintf(buf, size, "%" PRIu64 "d%02" PRIu64 "h%02" PRIu64 "m%02" PRIu64 "s",
		    s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
	else if (s >= 3600)
		snprintf(buf, size, "%" PRIu64 "h%02" PRIu64 "m%02" PRIu64 "s", s / 3600,
		    s / 60 % 60, s % 60);
	else
		snprintf(buf, size, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
}

/* The fields of a row as printed: escaped, "-" for none. */
static void
row_fields(const struct status_row *row, char field[STATUS_COLUMNS][STATUS_FIELD])
{
	const char *raw[STATUS_COLUMNS] = { row->name, row->origin, row->where, row->state };

	for (int c = 0; c < STATUS_COLUMNS; c++)
		textesc(raw[c] != NULL && raw[c][0] != '\0' ? raw[c] : "-", true, field[c],
		    STATUS_FIELD);
}

/* One line of columns, each padded to its width and two spaces (the last one not at all). */
static void
add_columns(struct report *out, char field[STATUS_COLUMNS][STATUS_FIELD],
    const size_t *width)
{
	/* Each column: a field (< STATUS_FIELD) and its padding (<= STATUS_FIELD + 1). */
	char line[STATUS_COLUMNS * 2 * (STATUS_FIELD + 2)];
	size_t used = 0;
	int pad;

	for (int c = 0; c < STATUS_COLUMNS; c++) {
		pad = c + 1 < STATUS_COLUMNS ? (int)(width[c] + 2 - textesc_width(field[c])) : 0;
		used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s%*s",
		    c == 0 ? "  " : "", field[c], pad, "");
	}
	report_add(out, "%s", line);
}

/*
 * The listeners under a header, every column as wide as its widest field, a
 * listener that failed to open in the same columns as the others.
 */
static void
text_listeners(const struct status_rows *rows, struct report *out)
{
	char field[STATUS_COLUMNS][STATUS_FIELD];
	static const char *const header[STATUS_COLUMNS] = {
		"NAME", "ORIGIN", "CONFIGURED", "STATE",
	};
	size_t width[STATUS_COLUMNS];

	for (int c = 0; c < STATUS_COLUMNS; c++)
		width[c] = strlen(header[c]);
	for (size_t i = 0; i < rows->count; i++) {
		row_fields(&rows->items[i], field);
		for (int c = 0; c < STATUS_COLUMNS; c++)
			if (textesc_width(field[c]) > width[c])
				width[c] = textesc_width(field[c]);
	}
	for (int c = 0; c < STATUS_COLUMNS; c++)
		snprintf(field[c], STATUS_FIELD, "%s", header[c]);
	add_columns(out, field, width);
	for (size_t i = 0; i < rows->count; i++) {
		row_fields(&rows->items[i], field);
		add_columns(out, field, width);
	}
}

static void
text_files(const struct status_info *st, struct report *out)
{
	char files[4096], esc[1024];
	size_t used = 0;

	files[0] = '\0';
	for (size_t i = 0; i < st->nfiles && used < sizeof(files); i++)
		used += (size_t)snprintf(files + used, sizeof(files) - used, "%s%s",
		    i == 0 ? "" : " ", st->files[i] == NULL ? "-" :
		    textesc(st->files[i], true, esc, sizeof(esc)));
	report_add(out, STATUS_LABEL "%s", "files:", st->nfiles > 0 ? files : "-");
}

void
status_format_text(const struct status_info *st, struct report *out)
{
	char buf[1024];

	report_add(out, STATUS_LABEL "%s", "version:", st->version);
	report_add(out, STATUS_LABEL "%ld", "pid:", st->pid);
	format_uptime(st->uptime_seconds, buf, sizeof(buf));
	report_add(out, STATUS_LABEL "%s (%" PRIu64 " s)", "uptime:", buf, st->uptime_seconds);
	report_add(out, STATUS_LABEL "%" PRIu64, "workers:", st->workers);
	report_add(out, STATUS_LABEL "%" PRIu64 " open", "connections:", st->connections_open);
	report_add(out, STATUS_LABEL "%s", "configuration:",
	    textesc(st->configuration, true, buf, sizeof(buf)));
	text_files(st, out);
	format_time(st->loaded_at, buf, sizeof(buf));
	report_add(out, STATUS_LABEL "%s", "loaded:", buf);
	report_add(out, STATUS_LABEL "%" PRIu64 " ok, %" PRIu64 " failed", "reloads:",
	    st->reloads_ok, st->reloads_failed);
	format_time(st->last_reload_at, buf, sizeof(buf));
	if (st->last_reload->count == 0)
		report_add(out, STATUS_LABEL "none", "last reload:");
	else
		report_add(out, STATUS_LABEL "%s (%s)", "last reload:",
		    st->last_reload->failed ? "failed" : "ok", buf);
	for (size_t i = 0; i < st->last_reload->count; i++)
		report_add(out, "  %s", st->last_reload->lines[i]);
	report_add(out, "listeners:");
	text_listeners(st->listeners, out);
}

static json_t *
json_time(time_t t)
{
	char buf[32];

	if (t == 0)
		return json_null();
	format_time(t, buf, sizeof(buf));
	return json_string(buf);
}

/* {"result":"ok"|"failed","at":"...","lines":[...]}, or null before the first reload. */
static json_t *
json_last_reload(const struct status_info *st)
{
	json_t *obj, *lines;

	if (st->last_reload->count == 0)
		return json_null();
	obj = json_object();
	lines = json_array();
	for (size_t i = 0; lines != NULL && i < st->last_reload->count; i++)
		json_array_append_new(lines, jsonout_string(st->last_reload->lines[i]));
	if (obj != NULL) {
		jsonout_set(obj, "result", json_string(st->last_reload->failed ? "failed" : "ok"));
		jsonout_set(obj, "at", json_time(st->last_reload_at));
		jsonout_set(obj, "lines", lines);
	} else {
		json_decref(lines);
	}
	return obj;
}

static json_t *
json_listeners(const struct status_rows *rows)
{
	json_t *all = json_array(), *l;

	for (size_t i = 0; all != NULL && i < rows->count; i++) {
		const struct status_row *row = &rows->items[i];

		l = json_object();
		if (l == NULL)
			break;
		jsonout_set(l, "name", jsonout_string(row->name));
		jsonout_set(l, "origin", jsonout_string(row->origin));
		jsonout_set(l, "configured", jsonout_string(row->where != NULL &&
		    row->where[0] != '\0' ? row->where : NULL));
		jsonout_set(l, "state", jsonout_string(row->state));
		/* "serving", or "serving ADDRESS, ... only (narrowed)". */
		jsonout_set(l, "serving", json_boolean(row->state != NULL &&
		    strncmp(row->state, "serving", 7) == 0));
		json_array_append_new(all, l);
	}
	return all;
}

void
status_format_json(const struct status_info *st, struct report *out)
{
	json_t *obj = json_object(), *files = json_array();
	char *text;

	for (size_t i = 0; files != NULL && i < st->nfiles; i++)
		json_array_append_new(files, jsonout_string(st->files[i]));
	if (obj == NULL) {
		json_decref(files);
		report_fail(out, "error: out of memory");
		return;
	}
	jsonout_set(obj, "version", jsonout_string(st->version));
	jsonout_set(obj, "pid", json_integer(st->pid));
	jsonout_set(obj, "uptime_seconds", jsonout_uint(st->uptime_seconds));
	jsonout_set(obj, "workers", jsonout_uint(st->workers));
	jsonout_set(obj, "connections_open", jsonout_uint(st->connections_open));
	jsonout_set(obj, "configuration", jsonout_string(st->configuration));
	jsonout_set(obj, "files", files);
	jsonout_set(obj, "loaded", json_time(st->loaded_at));
	jsonout_set(obj, "reloads_ok", jsonout_uint(st->reloads_ok));
	jsonout_set(obj, "reloads_failed", jsonout_uint(st->reloads_failed));
	jsonout_set(obj, "last_reload", json_last_reload(st));
	jsonout_set(obj, "listeners", json_listeners(st->listeners));
	text = jsonout_text(obj);
	if (text == NULL) {
		report_fail(out, "error: out of memory");
		return;
	}
	report_add(out, "%s", text);
	free(text);
}
