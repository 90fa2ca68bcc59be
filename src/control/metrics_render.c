/* SPDX-License-Identifier: MIT */
/* metrics_render: echod's counters as Prometheus text (0.0.4) or OpenMetrics 1.0. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_render.h"

struct process_metric {
	const char *metric, *label, *help;
	enum stats_kind kind;
	size_t offset;
};

/* counters.h's process table: each family named after its family column. */
static const struct process_metric process_metrics[] = {
#define STATS_X(name, kind, family, label, help) \
	{ ECHOD_METRIC_NAME("", family, kind), label, help, STATS_##kind, \
	  offsetof(struct stats_process, name) },
	ECHOD_PROCESS_STATS(STATS_X)
#undef STATS_X
};
#define NPROCESS (sizeof(process_metrics) / sizeof(process_metrics[0]))

/* counters.h's session table rows, each a family with a series per stateful STAMP listener. */
static const struct process_metric session_metrics[] = {
#define STATS_X(name, kind, help) \
	{ ECHOD_METRIC_NAME(ECHOD_SESSION_TABLE, name, kind), "", help, STATS_##kind, \
	  offsetof(struct stats_session_table, name) },
	ECHOD_SESSION_TABLE_STATS(STATS_X)
#undef STATS_X
};
#define NSESSION (sizeof(session_metrics) / sizeof(session_metrics[0]))

/*
 * HELP and TYPE of a family. OpenMetrics names a counter family without its
 * _total (the sample keeps it); the 0.0.4 text format names it in full.
 */
static void
family_header(FILE *out, const char *metric, enum stats_kind kind, const char *help, bool om)
{
	size_t len = strlen(metric);

	if (om && kind == STATS_COUNTER && len > 6 && strcmp(metric + len - 6, "_total") == 0)
		len -= 6;
	fprintf(out, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int)len, metric, help, (int)len, metric,
	    kind == STATS_COUNTER ? "counter" : "gauge");
}

void
metrics_label_value(FILE *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			putc(*s, out);
	}
}

/* metric{protocol="udp",address="127.0.0.1:7" (the brace left open for more labels). */
static void
series_start(FILE *out, const char *metric, const struct stats_listener *l)
{
	fprintf(out, "%s{protocol=\"%s\",address=\"", metric, l->protocol);
	metrics_label_value(out, listener_stats_address(l->name));
	putc('"', out);
}

static void
render_process(const struct stats_snapshot *snap, bool om, FILE *out)
{
	const char *last = NULL;

	family_header(out, "echod_build_info", STATS_GAUGE, "echod's version (the value is 1)",
	    om);
	fputs("echod_build_info{version=\"", out);
	metrics_label_value(out, snap->version);
	fputs("\"} 1\n", out);
	for (size_t i = 0; i < NPROCESS; i++) {
		const struct process_metric *m = &process_metrics[i];
		uint64_t v;

		memcpy(&v, (const char *)&snap->proc + m->offset, sizeof(v));
		if (last == NULL || strcmp(last, m->metric) != 0)
			family_header(out, m->metric, m->kind, m->help, om);
		last = m->metric;
		if (m->label[0] != '\0')
			fprintf(out, "%s{%s} %" PRIu64 "\n", m->metric, m->label, v);
		else
			fprintf(out, "%s %" PRIu64 "\n", m->metric, v);
	}
}

/* Row r's samples of one listener: those that can rise there (stats_row_applies()). */
static void
render_listener(FILE *out, const struct stats_row *r, const struct stats_listener *l)
{
	for (unsigned i = 0; i < r->n; i++) {
		if (!stats_row_applies(r, i, l->applies))
			continue;
		series_start(out, r->metric, l);
		if (r->n > 1)
			fprintf(out, ",%s=\"%s\"", r->label, stats_row_value(r, i));
		fprintf(out, "} %" PRIu64 "\n", l->t.v[r->first + i]);
	}
}

/* The session tables: no family at all when no listener has one (nothing to show). */
static void
render_sessions(const struct stats_snapshot *snap, bool om, FILE *out)
{
	bool any = false;

	for (size_t j = 0; j < snap->nlisteners; j++)
		any |= snap->listeners[j].stateful;
	for (size_t i = 0; any && i < NSESSION; i++) {
		const struct process_metric *m = &session_metrics[i];

		family_header(out, m->metric, m->kind, m->help, om);
		for (size_t j = 0; j < snap->nlisteners; j++) {
			const struct stats_listener *l = &snap->listeners[j];
			uint64_t v;

			if (!l->stateful)
				continue;
			memcpy(&v, (const char *)&l->sessions + m->offset, sizeof(v));
			series_start(out, m->metric, l);
			fprintf(out, "} %" PRIu64 "\n", v);
		}
	}
}

void
metrics_render(const struct stats_snapshot *snap, const struct process_metrics *pm,
    bool openmetrics, FILE *out)
{
	const char *last = NULL;

	render_process(snap, openmetrics, out);
	if (pm != NULL)
		process_metrics_render(pm, openmetrics, out);
	for (size_t k = 0; k < stats_nrows; k++) {
		const struct stats_row *r = &stats_rows[k];

		if (last == NULL || strcmp(last, r->metric) != 0)
			family_header(out, r->metric, r->kind, r->help, openmetrics);
		last = r->metric;
		for (size_t j = 0; j < snap->nlisteners; j++)
			render_listener(out, r, &snap->listeners[j]);
	}
	render_sessions(snap, openmetrics, out);
}
