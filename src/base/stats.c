/* SPDX-License-Identifier: MIT */
/* stats: the counters of counters.h per worker and per listener, summed and shown. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

const struct stats_row stats_rows[] = {
#define STATS_X(name, kind, applies, n, flags, metric, help) \
	{ #name, STATS_##kind, STATS_##applies, (n), (flags), metric, help, STAT_##name },
	ECHOD_COUNTERS(STATS_X)
#undef STATS_X
};
const size_t stats_nrows = sizeof(stats_rows) / sizeof(stats_rows[0]);

/* The one row of n values is by reason: the enum must fit it. */
_Static_assert(STAT_refused_last - STAT_refused + 1 == REFUSAL_COUNT, "refusals by reason");

void
stats_accumulate(struct echo_totals *sum, const struct echo_stats *s)
{
	for (int i = 0; i < STAT_COUNT; i++)
		sum->v[i] += stats_get(s, (enum stat_id)i);
}

bool
stats_refusal_applies(enum refusal_reason why, unsigned applies)
{
	unsigned only;

	switch (why) {
	case REFUSAL_SOURCE_CONNECTIONS:
	case REFUSAL_CONNECTION_RATE:
	case REFUSAL_MAX_CONNECTIONS:
	case REFUSAL_MAX_BUFFERED:
		only = STATS_STREAM;
		break;
	case REFUSAL_DATAGRAM_RATE:
	case REFUSAL_REPLY_BYTES:
	case REFUSAL_SOURCE_PORT:
	case REFUSAL_OVERSIZE:
		only = STATS_DGRAM;
		break;
	default:
		only = STATS_ALL;
		break;
	}
	return (only & applies) != 0;
}

struct listener_stats *
listener_stats_new(const char *name, const char *protocol, unsigned applies, size_t nslots)
{
	struct listener_stats *ls;
	size_t size;

	if (nslots == 0)
		nslots = 1;
	/* aligned_alloc() wants a multiple of the alignment. */
	size = sizeof(*ls) + nslots * sizeof(ls->slot[0]);
	size = (size + 63) / 64 * 64;
	ls = aligned_alloc(64, size);
	if (ls == NULL)
		return NULL;
	memset(ls, 0, size);
	atomic_init(&ls->refs, 1);
	ls->applies = applies;
	ls->protocol = protocol;
	snprintf(ls->name, sizeof(ls->name), "%s", name);
	ls->nslots = nslots;
	return ls;
}

void
listener_stats_hold(struct listener_stats *ls)
{
	atomic_fetch_add_explicit(&ls->refs, 1, memory_order_relaxed);
}

void
listener_stats_release(struct listener_stats *ls)
{
	if (ls != NULL && atomic_fetch_sub_explicit(&ls->refs, 1, memory_order_acq_rel) == 1)
		free(ls);
}

struct echo_stats *
listener_stats_slot(struct listener_stats *ls, int id)
{
	return &ls->slot[(size_t)id < ls->nslots ? (size_t)id : ls->nslots - 1];
}

void
listener_stats_sum(const struct listener_stats *ls, struct echo_totals *sum)
{
	for (size_t i = 0; i < ls->nslots; i++)
		stats_accumulate(sum, &ls->slot[i]);
}

void
stats_snapshot_free(struct stats_snapshot *snap)
{
	free(snap->listeners);
	snap->listeners = NULL;
	snap->nlisteners = 0;
}
