/* SPDX-License-Identifier: MIT */
/* probe_metrics: the probes' published figures as Prometheus text (0.0.4) or OpenMetrics. */
#include <string.h>

#include "metrics_render.h"
#include "probe_metrics.h"

enum kind { COUNTER, GAUGE, HISTOGRAM };

static void
header(FILE *out, const char *name, enum kind kind, const char *help, bool om)
{
	static const char *const types[] = { "counter", "gauge", "histogram" };
	size_t len = strlen(name);

	/* OpenMetrics names a counter family without _total; the samples keep it. */
	if (om && kind == COUNTER)
		len -= strlen("_total");
	fprintf(out, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int)len, name, help, (int)len, name,
	    types[kind]);
}

/* name{probe="..",target="..",protocol=".." (the brace left open for more labels). */
static void
series(FILE *out, const char *name, const char *suffix, const struct probe_row *r)
{
	fprintf(out, "%s%s{probe=\"", name, suffix);
	metrics_label_value(out, r->probe);
	fputs("\",target=\"", out);
	metrics_label_value(out, r->target);
	fprintf(out, "\",protocol=\"%s\"", r->protocol);
}

static void
counter(FILE *out, const char *name, const struct probe_row *r, unsigned long long v)
{
	series(out, name, "", r);
	fprintf(out, "} %llu\n", v);
}

/* _bucket (cumulative, +Inf last), _sum and _count; extra: one more label, or "". */
static void
histogram(FILE *out, const char *name, const char *extra, const struct probe_row *r,
    const struct probe_hist *h)
{
	for (int i = 0; i <= PROBE_BUCKETS; i++) {
		series(out, name, "_bucket", r);
		fputs(extra, out);
		if (i < PROBE_BUCKETS)
			fprintf(out, ",le=\"%g\"} ", probe_bucket_le[i]);
		else
			fputs(",le=\"+Inf\"} ", out);
		fprintf(out, "%llu\n", probe_hist_cumulative(h, i));
	}
	series(out, name, "_sum", r);
	fprintf(out, "%s} %.9g\n", extra, h->sum);
	series(out, name, "_count", r);
	fprintf(out, "%s} %llu\n", extra, h->count);
}

static void
render_counts(const struct probe_row *rows, size_t n, bool om, FILE *out)
{
	static const char *const dirs[] = { "forward", "backward", "unknown" };

	header(out, "echod_probe_sent_total", COUNTER, "probes sent to the target", om);
	for (size_t i = 0; i < n; i++)
		counter(out, "echod_probe_sent_total", &rows[i], rows[i].f.sent);
	header(out, "echod_probe_received_total", COUNTER, "replies received from the target "
	    "(late ones too)", om);
	for (size_t i = 0; i < n; i++)
		counter(out, "echod_probe_received_total", &rows[i], rows[i].f.received);
	header(out, "echod_probe_lost_total", COUNTER, "probes lost (no reply within the "
	    "timeout), by direction where STAMP tells it", om);
	for (size_t i = 0; i < n; i++) {
		const unsigned long long v[] = { rows[i].f.lost_forward, rows[i].f.lost_backward,
		    rows[i].f.lost_unknown };

		for (size_t d = 0; d < 3; d++) {
			series(out, "echod_probe_lost_total", "", &rows[i]);
			fprintf(out, ",direction=\"%s\"} %llu\n", dirs[d], v[d]);
		}
	}
}

static void
render_histograms(const struct probe_row *rows, size_t n, bool om, FILE *out)
{
	bool oneway = false;

	header(out, "echod_probe_rtt_seconds", HISTOGRAM, "round trips of the replies received "
	    "in time", om);
	for (size_t i = 0; i < n; i++) {
		histogram(out, "echod_probe_rtt_seconds", "", &rows[i], &rows[i].f.rtt);
		oneway |= rows[i].f.oneway;
	}
	if (!oneway)
		return;
	header(out, "echod_probe_one_way_delay_seconds", HISTOGRAM, "one-way delays, where "
	    "both clocks are synchronised", om);
	for (size_t i = 0; i < n; i++) {
		if (!rows[i].f.oneway)
			continue;
		histogram(out, "echod_probe_one_way_delay_seconds", ",direction=\"forward\"",
		    &rows[i], &rows[i].f.forward);
		histogram(out, "echod_probe_one_way_delay_seconds", ",direction=\"backward\"",
		    &rows[i], &rows[i].f.backward);
	}
}

/* A gauge's value for a row; false: it has none (no dwell, hops or DSCP seen yet). */
typedef bool gauge_fn(const struct probe_row *r, double *v);

static bool
dwell(const struct probe_row *r, double *v)
{
	*v = r->f.dwell.last;
	return r->f.dwell.count > 0;
}

static bool
hops(const struct probe_row *r, double *v)
{
	*v = r->f.hops;
	return r->f.hops >= 0;
}

static bool
reply_dscp(const struct probe_row *r, double *v)
{
	*v = r->f.reply_dscp;
	return r->f.reply_dscp >= 0;
}

static bool
up(const struct probe_row *r, double *v)
{
	*v = r->f.up;
	return true;
}

/* A gauge family, with the rows that have a value; no family when none has. */
static void
render_gauge(FILE *out, const struct probe_row *rows, size_t n, bool om, const char *name,
    const char *help, gauge_fn *value)
{
	bool any = false;
	double v;

	for (size_t i = 0; i < n && !any; i++)
		any = value(&rows[i], &v);
	if (!any)
		return;
	header(out, name, GAUGE, help, om);
	for (size_t i = 0; i < n; i++) {
		if (!value(&rows[i], &v))
			continue;
		series(out, name, "", &rows[i]);
		fprintf(out, "} %.9g\n", v);
	}
}

void
probe_metrics_render(const struct probe_row *rows, size_t n, bool om, FILE *out)
{
	if (n == 0)
		return;
	render_counts(rows, n, om, out);
	render_histograms(rows, n, om, out);
	render_gauge(out, rows, n, om, "echod_probe_reflector_dwell_seconds", "time the last "
	    "probe spent inside the reflector (STAMP)", dwell);
	render_gauge(out, rows, n, om, "echod_probe_hops", "hops the last probe took to the "
	    "reflector (from the TTL it arrived with; STAMP)", hops);
	render_gauge(out, rows, n, om, "echod_probe_reply_dscp", "DSCP the last reply came "
	    "back with", reply_dscp);
	render_gauge(out, rows, n, om, "echod_probe_up", "1 while the target answers (a reply "
	    "within the last 3 intervals), else 0", up);
}
