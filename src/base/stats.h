/* SPDX-License-Identifier: MIT */
/* stats: the counters of counters.h per worker and per listener, summed and shown. */
#ifndef ECHOD_STATS_H
#define ECHOD_STATS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "counters.h"
#include "refusal_log.h"

enum stats_kind { STATS_COUNTER, STATS_GAUGE };
/*
 * applies: which listeners show a row. STATS_LOCAL marks a listener whose
 * peers have no address (Unix): no ACL, per-source or unlisted refusal can
 * happen there, so those series are not shown (stats_row_applies()).
 */
enum { STATS_STREAM = 1, STATS_DGRAM = 2, STATS_STAMP = 4, STATS_ALL = 7, STATS_LOCAL = 8 };
enum { STATS_STATUS = 1 };					/* flags */

/* The stamp_dropped counter's reasons (counters.h), in its order. */
enum stats_stamp_drop {
#define STATS_X(reason) STATS_STAMP_DROP_##reason,
	ECHOD_STAMP_DROPS(STATS_X)
#undef STATS_X
	STATS_STAMP_DROP_COUNT
};

/* How many values a row of counters.h holds, by its "by" column. */
#define STATS_N_ONE		1
#define STATS_N_REFUSAL		REFUSAL_COUNT
#define STATS_N_STAMP_DROP	STATS_STAMP_DROP_COUNT

/* One index per value: a row of n values takes n (STAT_refused + reason). */
enum stat_id {
#define STATS_X(name, kind, applies, by, flags, help) \
	STAT_##name, STAT_##name##_last = STAT_##name + STATS_N_##by - 1,
	ECHOD_COUNTERS(STATS_X)
#undef STATS_X
	STAT_COUNT
};

/*
 * One writer (the worker that owns the counters), any number of readers.
 * Relaxed load + store instead of an atomic add: no locked instruction on the
 * hot path, and readers still never see a torn value. A cache line of its
 * own: a listener's slots, one per worker, sit side by side.
 */
struct echo_stats {
	_Atomic uint64_t v[STAT_COUNT];
} __attribute__((aligned(64)));

static inline void
stats_add(struct echo_stats *s, enum stat_id id, uint64_t n)
{
	atomic_store_explicit(&s->v[id], atomic_load_explicit(&s->v[id],
	    memory_order_relaxed) + n, memory_order_relaxed);
}

static inline uint64_t
stats_get(const struct echo_stats *s, enum stat_id id)
{
	return atomic_load_explicit(&s->v[id], memory_order_relaxed);
}

/* A plain snapshot, for reporting. */
struct echo_totals {
	uint64_t v[STAT_COUNT];
};

void	stats_accumulate(struct echo_totals *sum, const struct echo_stats *one);

/*
 * A row of counters.h, for the code that shows them. A row of n > 1 values
 * is labelled: value i is keyed and labelled label="<stats_row_value(r, i)>".
 */
struct stats_row {
	const char *name;
	enum stats_kind kind;
	unsigned applies, n, flags;
	const char *metric, *help;
	enum stat_id first;
	const char *label;		/* "reason", or NULL when n == 1 */
};
extern const struct stats_row stats_rows[];
extern const size_t stats_nrows;

/* Value i's name (a refusal reason, a STAMP drop reason; [a-z_]), NULL when n == 1. */
const char *stats_row_value(const struct stats_row *r, unsigned i);
/*
 * Does value i of row r show for a listener of kind applies (STATS_STREAM,
 * STATS_DGRAM, STATS_STAMP, STATS_LOCAL bits; STATS_ALL: the totals)?
 */
bool	stats_row_applies(const struct stats_row *r, unsigned i, unsigned applies);
/* Does a reason apply to listeners of kind applies (as above)? */
bool	stats_refusal_applies(enum refusal_reason why, unsigned applies);

/*
 * A listener's counters: one slot per worker (each written by its worker
 * only), referenced by the listener and by each stream connection accepted
 * on it, which may outlive the listener (a reload removes it). Also holds
 * the listener's name for those connections' refusal log lines.
 */
#define LISTENER_STATS_NAME	128
struct listener_stats {
	atomic_int refs;
	unsigned applies;		/* STATS_STREAM or STATS_DGRAM, and STATS_STAMP, STATS_LOCAL */
	const char *protocol;		/* "tcp", "udp", "unix": static */
	char name[LISTENER_STATS_NAME];	/* "tcp 127.0.0.1:7", as echod prints it */
	size_t nslots;
	struct echo_stats slot[];
};

/* nslots: the worker count (0 counts as 1). NULL with errno. One reference. */
struct listener_stats *listener_stats_new(const char *name, const char *protocol,
	    unsigned applies, size_t nslots);
void	listener_stats_hold(struct listener_stats *ls);
void	listener_stats_release(struct listener_stats *ls);
/* Worker id's slot (ids beyond nslots share the last one: single writer lost, not memory). */
struct echo_stats *listener_stats_slot(struct listener_stats *ls, int id);
void	listener_stats_sum(const struct listener_stats *ls, struct echo_totals *sum);
/* The address or path in a listener's name ("tcp 127.0.0.1:7" -> "127.0.0.1:7"). */
const char *listener_stats_address(const char *name);

/* Process-wide values (counters.h's second table). */
struct stats_process {
#define STATS_X(name, kind, family, label, help) uint64_t name;
	ECHOD_PROCESS_STATS(STATS_X)
#undef STATS_X
};

/* A stateful STAMP listener's session table (counters.h's third table). */
struct stats_session_table {
#define STATS_X(name, kind, help) uint64_t name;
	ECHOD_SESSION_TABLE_STATS(STATS_X)
#undef STATS_X
};

struct stats_listener {
	char name[LISTENER_STATS_NAME];
	const char *protocol;
	unsigned applies;
	struct echo_totals t;
	bool stateful;			/* a STAMP session table: sessions says it */
	struct stats_session_table sessions;
};

/* Everything a reader shows, taken at one moment. */
struct stats_snapshot {
	const char *version;
	struct stats_process proc;
	struct echo_totals total;
	struct stats_listener *listeners;
	size_t nlisteners;
};

void	stats_snapshot_free(struct stats_snapshot *snap);

/*
 * `echodctl stats`: one "key=value" line each. Keys: echod.<process value>,
 * total.<counter>, listener[<name>].<counter> (the name as echod prints it,
 * "tcp 127.0.0.1:7", control characters and bytes not UTF-8 as \xNN), where
 * a counter of n values is <name>.<reason>.
 */
void	stats_format_text(const struct stats_snapshot *snap, FILE *out);
/* `echodctl stats --json`: one JSON object, one line. */
void	stats_format_json(const struct stats_snapshot *snap, FILE *out);
/*
 * The SIGUSR1 journal fields, ECHOD_<NAME>=value for every process value
 * and total (ECHOD_REFUSED_ACL=...), into fields[0..max) (NULL-terminated,
 * each malloc'd: stats_fields_free()). Returns the count.
 */
size_t	stats_format_fields(const struct stats_snapshot *snap, char **fields, size_t max);
void	stats_fields_free(char **fields);
/*
 * STATUS=: uptime, then each STATS_STATUS counter with its rate since prev,
 * elapsed_ms ago (0: no rate yet). One short line.
 */
void	stats_format_status(const struct stats_snapshot *snap, const struct echo_totals *prev,
	    uint64_t elapsed_ms, char *buf, size_t size);

#endif
