/* SPDX-License-Identifier: MIT */
/* snapshot: every counter of the running echod at one moment, for readers on any thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "metrics_render.h"
#include "probe_metrics.h"
#include "probe_run.h"
#include "server_state.h"
#include "snapshot.h"
#include "stamp_conf.h"

/* The session table of a configured listener, if it is a stateful STAMP one. */
static struct stamp_sessions *
spec_sessions(const struct listener_spec *spec)
{
	if (spec == NULL || spec->proto != PROTO_STAMP || spec->stamp.run == NULL)
		return NULL;
	return spec->stamp.run->reflector.sessions;
}

/*
 * The session tables of the configured STAMP listeners a socket serves (one;
 * several on a wildcard socket that listeners share by address), summed.
 * The generation cannot be retired meanwhile: retiring takes the set's lock.
 */
static void
take_sessions(const struct generation *gen, const struct listener *l,
    struct stats_listener *out)
{
	const struct listener_view *v = gen != NULL ? generation_view(gen, l) : NULL;
	struct stamp_sessions *seen[8];
	size_t nseen = 0, n;

	if (v == NULL)
		return;
	n = v->all ? 1 : v->n;
	for (size_t i = 0; i < n && nseen < sizeof(seen) / sizeof(seen[0]); i++) {
		struct stamp_sessions *ss = spec_sessions(v->all ? v->whole.listener :
		    v->entry[i].listener);
		struct stamp_sessions_stats st;
		bool dup = false;

		for (size_t k = 0; k < nseen; k++)
			dup |= seen[k] == ss;
		if (ss == NULL || dup)
			continue;
		seen[nseen++] = ss;
		stamp_sessions_stats(ss, &st);
		out->stateful = true;
#define STATS_X(name, kind, help) out->sessions.name += st.name;
		ECHOD_SESSION_TABLE_STATS(STATS_X)
#undef STATS_X
	}
}

/* Called with the set's lock held: every listener in the set is alive. */
static int
take_listeners(struct server *s, struct stats_snapshot *out)
{
	const struct listener_set *set = &s->listeners;
	const struct generation *gen = generation_current(&s->generations);

	if (set->count == 0)
		return 0;
	out->listeners = calloc(set->count, sizeof(*out->listeners));
	if (out->listeners == NULL)
		return -1;
	for (size_t i = 0; i < set->count; i++) {
		const struct listener_stats *ls = set->items[i]->stats;
		struct stats_listener *l = &out->listeners[out->nlisteners];

		if (ls == NULL)
			continue;
		memcpy(l->name, ls->name, sizeof(l->name));
		l->protocol = ls->protocol;
		l->applies = ls->applies;
		listener_stats_sum(ls, &l->t);
		take_sessions(gen, set->items[i], l);
		out->nlisteners++;
	}
	return 0;
}

/* The guard's per-source table (limits): how full it is, and what its fullness cost. */
static void
take_source_table(struct server *s, struct stats_process *proc)
{
	struct srclimit_stats st;

	guard_get_stats(&s->guard, &st);
	proc->source_table_entries = st.entries;
	proc->source_table_capacity = st.capacity;
	proc->source_table_evictions = st.evicted;
	proc->source_table_full = st.refused[SRCLIMIT_TABLE_FULL];
	proc->source_table_unbalanced = st.unbalanced;
}

int
snapshot_take(struct server *s, bool listeners, struct stats_snapshot *out)
{
	int r = 0;

	memset(out, 0, sizeof(*out));
	out->version = PACKAGE_VERSION;
	out->proc.uptime_seconds = (clock_monotonic_ms() - s->started_ms) / 1000;
	out->proc.workers = s->nworkers;
	out->proc.reloads_ok = atomic_load(&s->reload.count_ok);
	out->proc.reloads_failed = atomic_load(&s->reload.count_failed);
	out->proc.config_last_reload_successful = atomic_load(&s->reload.last_ok);
	out->proc.config_last_reload_success_timestamp_seconds = atomic_load(&s->reload.ok_at);
	out->proc.buffered_bytes = (uint64_t)stream_shared_buffered(&s->shared);
	out->proc.buffered_bytes_peak = (uint64_t)stream_shared_buffered_peak(&s->shared);
	take_source_table(s, &out->proc);
	for (size_t i = 0; i < s->nworkers; i++)
		stats_accumulate(&out->total, worker_stats(s->workers[i]));
	if (listeners) {
		pthread_mutex_lock(&s->listeners_lock);
		r = take_listeners(s, out);
		pthread_mutex_unlock(&s->listeners_lock);
	}
	return r;
}

/*
 * The exposition of snap, with this process's process_* values as they are
 * now and the probes' figures as the control thread last published them.
 */
static void
metrics_render_now(struct server *s, const struct stats_snapshot *snap, bool openmetrics,
    FILE *out)
{
	struct process_metrics pm;
	struct probe_row *rows;
	size_t n;

	process_metrics_read(&pm);
	metrics_render(snap, &pm, openmetrics, out);
	if (s->probes != NULL && probe_pub_copy(probe_run_pub(s->probes), &rows, &n) == 0) {
		probe_metrics_render(rows, n, openmetrics, out);
		probe_rows_free(rows, n);
	}
	if (openmetrics)
		fputs("# EOF\n", out);
}

/* Each line of text (newline-terminated) as a line of rep. */
static void
report_text(struct report *rep, char *text, size_t len)
{
	char *line = text, *end = text + len, *nl;

	while (line < end && (nl = memchr(line, '\n', (size_t)(end - line))) != NULL) {
		*nl = '\0';
		report_add(rep, "%s", line);
		line = nl + 1;
	}
}

bool
snapshot_report(struct server *s, const char *command, struct report *rep)
{
	struct stats_snapshot snap;
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	if (strcmp(command, "stats") != 0 && strcmp(command, "stats json") != 0 &&
	    strcmp(command, "metrics") != 0)
		return false;
	out = open_memstream(&text, &len);
	if (out == NULL || snapshot_take(s, true, &snap) == -1) {
		if (out != NULL)
			fclose(out);
		free(text);
		report_fail(rep, "error: out of memory");
		return true;
	}
	if (strcmp(command, "stats") == 0)
		stats_format_text(&snap, out);
	else if (strcmp(command, "stats json") == 0)
		stats_format_json(&snap, out);
	else
		metrics_render_now(s, &snap, false, out);
	stats_snapshot_free(&snap);
	if (fclose(out) != 0)
		report_fail(rep, "error: out of memory");
	else
		report_text(rep, text, len);
	free(text);
	return true;
}

int
snapshot_metrics_render(void *server, bool openmetrics, char **text, size_t *len)
{
	struct stats_snapshot snap;
	FILE *out;
	int r = 0;

	*text = NULL;
	*len = 0;
	out = open_memstream(text, len);
	if (out == NULL)
		return -1;
	if (snapshot_take(server, true, &snap) == -1)
		r = -1;
	else
		metrics_render_now(server, &snap, openmetrics, out);
	stats_snapshot_free(&snap);
	if (fclose(out) != 0)
		r = -1;
	if (r == -1) {
		free(*text);
		*text = NULL;
		*len = 0;
	}
	return r;
}
