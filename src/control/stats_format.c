/* SPDX-License-Identifier: MIT */
/* stats_format: a snapshot as `echodctl stats` lines, JSON, SIGUSR1 journal fields, STATUS=. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

struct process_row {
	const char *name;
	size_t offset;
};

static const struct process_row process_rows[] = {
#define STATS_X(name, kind, family, label, help) \
	{ #name, offsetof(struct stats_process, name) },
	ECHOD_PROCESS_STATS(STATS_X)
#undef STATS_X
};
#define NPROCESS (sizeof(process_rows) / sizeof(process_rows[0]))

/* counters.h's session table rows: key (after "session_table_") and field. */
static const struct process_row session_rows[] = {
#define STATS_X(name, kind, help) \
	{ #name, offsetof(struct stats_session_table, name) },
	ECHOD_SESSION_TABLE_STATS(STATS_X)
#undef STATS_X
};
#define NSESSION (sizeof(session_rows) / sizeof(session_rows[0]))

static uint64_t
session_value(const struct stats_session_table *t, size_t i)
{
	uint64_t v;

	memcpy(&v, (const char *)t + session_rows[i].offset, sizeof(v));
	return v;
}

static uint64_t
process_value(const struct stats_process *p, size_t i)
{
	uint64_t v;

	memcpy(&v, (const char *)p + process_rows[i].offset, sizeof(v));
	return v;
}

/* Does value i of row r show for a listener of kind applies (STATS_ALL: the totals)? */
static bool
row_shows(const struct stats_row *r, unsigned i, unsigned applies)
{
	return stats_row_applies(r, i, applies);
}

/* The counters of t that a listener of kind applies shows, as "prefix.name=value" lines. */
static void
text_counters(FILE *out, const char *prefix, const struct echo_totals *t, unsigned applies)
{
	for (size_t k = 0; k < stats_nrows; k++) {
		const struct stats_row *r = &stats_rows[k];

		for (unsigned i = 0; i < r->n; i++) {
			if (!row_shows(r, i, applies))
				continue;
			if (r->n == 1)
				fprintf(out, "%s.%s=%" PRIu64 "\n", prefix, r->name,
				    t->v[r->first]);
			else
				fprintf(out, "%s.%s.%s=%" PRIu64 "\n", prefix, r->name,
				    stats_row_value(r, i),
				    t->v[r->first + i]);
		}
	}
}

void
stats_format_text(const struct stats_snapshot *snap, FILE *out)
{
	char prefix[LISTENER_STATS_NAME + 16];

	fprintf(out, "echod.version=%s\n", snap->version);
	for (size_t i = 0; i < NPROCESS; i++)
		fprintf(out, "echod.%s=%" PRIu64 "\n", process_rows[i].name,
		    process_value(&snap->proc, i));
	text_counters(out, "total", &snap->total, STATS_ALL);
	for (size_t j = 0; j < snap->nlisteners; j++) {
		const struct stats_listener *l = &snap->listeners[j];
		const char *space = strchr(l->name, ' ');

		/* "tcp 127.0.0.1:7" -> "listener.tcp.127.0.0.1:7". */
		snprintf(prefix, sizeof(prefix), "listener.%s.%s", l->protocol,
		    space != NULL ? space + 1 : l->name);
		text_counters(out, prefix, &l->t, l->applies);
		for (size_t i = 0; l->stateful && i < NSESSION; i++)
			fprintf(out, "%s.session_table_%s=%" PRIu64 "\n", prefix,
			    session_rows[i].name, session_value(&l->sessions, i));
	}
}

static void
json_string(FILE *out, const char *s)
{
	putc('"', out);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			putc(c, out);
	}
	putc('"', out);
}

static void
json_counters(FILE *out, const struct echo_totals *t, unsigned applies)
{
	const char *sep = "";

	for (size_t k = 0; k < stats_nrows; k++) {
		const struct stats_row *r = &stats_rows[k];
		const char *inner = "";

		if ((r->applies & applies) == 0)
			continue;
		if (r->n == 1) {
			fprintf(out, "%s\"%s\":%" PRIu64, sep, r->name, t->v[r->first]);
			sep = ",";
			continue;
		}
		fprintf(out, "%s\"%s\":{", sep, r->name);
		for (unsigned i = 0; i < r->n; i++) {
			if (!row_shows(r, i, applies))
				continue;
			fprintf(out, "%s\"%s\":%" PRIu64, inner,
			    stats_row_value(r, i), t->v[r->first + i]);
			inner = ",";
		}
		putc('}', out);
		sep = ",";
	}
}

void
stats_format_json(const struct stats_snapshot *snap, FILE *out)
{
	fputs("{\"version\":", out);
	json_string(out, snap->version);
	for (size_t i = 0; i < NPROCESS; i++)
		fprintf(out, ",\"%s\":%" PRIu64, process_rows[i].name,
		    process_value(&snap->proc, i));
	fputs(",\"total\":{", out);
	json_counters(out, &snap->total, STATS_ALL);
	fputs("},\"listeners\":{", out);
	for (size_t j = 0; j < snap->nlisteners; j++) {
		const struct stats_listener *l = &snap->listeners[j];

		if (j > 0)
			putc(',', out);
		json_string(out, l->name);
		fputs(":{\"protocol\":", out);
		json_string(out, l->protocol);
		putc(',', out);
		json_counters(out, &l->t, l->applies);
		for (size_t i = 0; l->stateful && i < NSESSION; i++)
			fprintf(out, ",\"session_table_%s\":%" PRIu64, session_rows[i].name,
			    session_value(&l->sessions, i));
		putc('}', out);
	}
	fputs("}}\n", out);
}

/* ECHOD_ + name in upper case (journal field names: [A-Z0-9_]). */
static char *
field_new(const char *name, const char *sub, const char *value)
{
	char *f;

	if (asprintf(&f, "ECHOD_%s%s%s=%s", name, sub != NULL ? "_" : "", sub != NULL ? sub : "",
	    value) == -1)
		return NULL;
	for (char *p = f + 6; *p != '='; p++)
		*p = (char)toupper((unsigned char)*p);
	return f;
}

size_t
stats_format_fields(const struct stats_snapshot *snap, char **fields, size_t max)
{
	char value[32];
	size_t n = 0, kept = 0;

	if (max == 0)
		return 0;
	fields[n++] = field_new("version", NULL, snap->version);
	for (size_t i = 0; i < NPROCESS && n + 1 < max; i++) {
		snprintf(value, sizeof(value), "%" PRIu64, process_value(&snap->proc, i));
		fields[n++] = field_new(process_rows[i].name, NULL, value);
	}
	for (size_t k = 0; k < stats_nrows; k++) {
		const struct stats_row *r = &stats_rows[k];

		for (unsigned i = 0; i < r->n && n + 1 < max; i++) {
			snprintf(value, sizeof(value), "%" PRIu64, snap->total.v[r->first + i]);
			fields[n++] = field_new(r->name, r->n == 1 ? NULL :
			    stats_row_value(r, i), value);
		}
	}
	/* A field lost to memory shortage: close the gap, never pass NULL mid-list. */
	for (size_t i = 0; i < n; i++)
		if (fields[i] != NULL)
			fields[kept++] = fields[i];
	fields[kept < max ? kept : max - 1] = NULL;
	return kept;
}

void
stats_fields_free(char **fields)
{
	for (size_t i = 0; fields[i] != NULL; i++)
		free(fields[i]);
}

static uint64_t
row_sum(const struct echo_totals *t, const struct stats_row *r)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < r->n; i++)
		sum += t->v[r->first + i];
	return sum;
}

void
stats_format_status(const struct stats_snapshot *snap, const struct echo_totals *prev,
    uint64_t elapsed_ms, char *buf, size_t size)
{
	uint64_t up = snap->proc.uptime_seconds;
	size_t used;

	if (up >= 3600)
		used = (size_t)snprintf(buf, size, "up %" PRIu64 "h%02" PRIu64 "m", up / 3600,
		    up / 60 % 60);
	else
		used = (size_t)snprintf(buf, size, "up %" PRIu64 "m%02" PRIu64 "s", up / 60,
		    up % 60);
	for (size_t k = 0; k < stats_nrows && used < size; k++) {
		const struct stats_row *r = &stats_rows[k];
		uint64_t now = row_sum(&snap->total, r), then = row_sum(prev, r);

		if (!(r->flags & STATS_STATUS))
			continue;
		if (r->kind == STATS_GAUGE || elapsed_ms == 0)
			used += (size_t)snprintf(buf + used, size - used, "; %" PRIu64 " %s", now,
			    r->name);
		else
			used += (size_t)snprintf(buf + used, size - used, "; %" PRIu64 " %s "
			    "(%.1f/s)", now, r->name, now >= then ?
			    (double)(now - then) * 1000.0 / (double)elapsed_ms : 0.0);
	}
}
