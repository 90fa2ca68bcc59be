/* SPDX-License-Identifier: MIT */
/* stats_format: a snapshot as `echodctl stats` lines, JSON, SIGUSR1 journal fields, STATUS=. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonout.h"
#include "stats.h"
#include "textesc.h"

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
	char name[LISTENER_STATS_NAME * 4], prefix[sizeof(name) + 16];

	fprintf(out, "echod.version=%s\n", snap->version);
	for (size_t i = 0; i < NPROCESS; i++)
		fprintf(out, "echod.%s=%" PRIu64 "\n", process_rows[i].name,
		    process_value(&snap->proc, i));
	text_counters(out, "total", &snap->total, STATS_ALL);
	for (size_t j = 0; j < snap->nlisteners; j++) {
		const struct stats_listener *l = &snap->listeners[j];

		/*
		 * "listener[tcp 127.0.0.1:7]": the name may hold dots (addresses,
		 * paths), the counter after the last "]." never holds a "]", so a
		 * shell splits there (echodctl(8)). A control character would
		 * break the line: escaped, with bytes that are not UTF-8.
		 */
		snprintf(prefix, sizeof(prefix), "listener[%s]",
		    textesc(l->name, true, name, sizeof(name)));
		text_counters(out, prefix, &l->t, l->applies);
		for (size_t i = 0; l->stateful && i < NSESSION; i++)
			fprintf(out, "%s.session_table_%s=%" PRIu64 "\n", prefix,
			    session_rows[i].name, session_value(&l->sessions, i));
	}
}

/* The counters of t that a listener of kind applies shows, into obj; refusals an object. */
static void
json_counters(json_t *obj, const struct echo_totals *t, unsigned applies)
{
	for (size_t k = 0; k < stats_nrows; k++) {
		const struct stats_row *r = &stats_rows[k];
		json_t *by;

		if ((r->applies & applies) == 0)
			continue;
		if (r->n == 1) {
			jsonout_set(obj, r->name, jsonout_uint(t->v[r->first]));
			continue;
		}
		by = json_object();
		for (unsigned i = 0; by != NULL && i < r->n; i++)
			if (row_shows(r, i, applies))
				jsonout_set(by, stats_row_value(r, i),
				    jsonout_uint(t->v[r->first + i]));
		jsonout_set(obj, r->name, by);
	}
}

static json_t *
json_listener(const struct stats_listener *l)
{
	json_t *obj = json_object();
	char key[64];

	if (obj == NULL)
		return NULL;
	jsonout_set(obj, "protocol", jsonout_string(l->protocol));
	json_counters(obj, &l->t, l->applies);
	for (size_t i = 0; l->stateful && i < NSESSION; i++) {
		snprintf(key, sizeof(key), "session_table_%s", session_rows[i].name);
		jsonout_set(obj, key, jsonout_uint(session_value(&l->sessions, i)));
	}
	return obj;
}

/* Keyed by name, as jsonout_string() writes it (a byte that is not UTF-8 as \xNN). */
static json_t *
json_listeners(const struct stats_snapshot *snap)
{
	json_t *all = json_object(), *name;

	for (size_t j = 0; all != NULL && j < snap->nlisteners; j++) {
		name = jsonout_string(snap->listeners[j].name);
		if (name != NULL)
			jsonout_set(all, json_string_value(name),
			    json_listener(&snap->listeners[j]));
		json_decref(name);
	}
	return all;
}

void
stats_format_json(const struct stats_snapshot *snap, FILE *out)
{
	json_t *obj = json_object(), *total = json_object();

	if (obj == NULL || total == NULL) {
		json_decref(obj);
		json_decref(total);
		return;
	}
	jsonout_set(obj, "version", jsonout_string(snap->version));
	for (size_t i = 0; i < NPROCESS; i++)
		jsonout_set(obj, process_rows[i].name, jsonout_uint(process_value(&snap->proc, i)));
	json_counters(total, &snap->total, STATS_ALL);
	jsonout_set(obj, "total", total);
	jsonout_set(obj, "listeners", json_listeners(snap));
	jsonout_line(obj, out);
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
