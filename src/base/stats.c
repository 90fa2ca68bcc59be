/* SPDX-License-Identifier: MIT */
/* stats: the counters of counters.h per worker and per listener, summed and shown. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

/* A labelled row's label: the reasons of refusals and of STAMP drops alike. */
#define STATS_LABEL_ONE		NULL
#define STATS_LABEL_REFUSAL	"reason"
#define STATS_LABEL_STAMP_DROP	"reason"

const struct stats_row stats_rows[] = {
#define STATS_X(name, kind, applies, by, flags, help) \
	{ #name, STATS_##kind, STATS_##applies, STATS_N_##by, (flags), \
	  ECHOD_METRIC_NAME("", name, kind), help, STAT_##name, STATS_LABEL_##by },
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

static const char *const stamp_drop_names[] = {
#define STATS_X(reason) #reason,
	ECHOD_STAMP_DROPS(STATS_X)
#undef STATS_X
};

const char *
stats_row_value(const struct stats_row *r, unsigned i)
{
	if (r->n == 1)
		return NULL;
	if (r->first == STAT_stamp_dropped)
		return i < STATS_STAMP_DROP_COUNT ? stamp_drop_names[i] : "unknown";
	return refusal_reason_name((enum refusal_reason)i);
}

bool
stats_row_applies(const struct stats_row *r, unsigned i, unsigned applies)
{
	if ((r->applies & applies) == 0)
		return false;
	return r->first != STAT_refused || stats_refusal_applies((enum refusal_reason)i, applies);
}

bool
stats_refusal_applies(enum refusal_reason why, unsigned applies)
{
	unsigned only;

	switch (why) {
	case REFUSAL_ACL:
	case REFUSAL_UNLISTED:
		/* A Unix peer has no address to match or dial: never refused so. */
		return (applies & STATS_LOCAL) == 0;
	case REFUSAL_SOURCE_CONNECTIONS:
	case REFUSAL_CONNECTION_RATE:
		if (applies & STATS_LOCAL)
			return false;	/* per source: a Unix peer is none (guard.c) */
		only = STATS_STREAM;
		break;
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

const char *
listener_stats_address(const char *name)
{
	const char *space = strchr(name, ' ');

	return space != NULL ? space + 1 : name;
}

void
stats_snapshot_free(struct stats_snapshot *snap)
{
	free(snap->listeners);
	snap->listeners = NULL;
	snap->nlisteners = 0;
}
