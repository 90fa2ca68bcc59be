/* SPDX-License-Identifier: MIT */
/* probe_sync: the engine's targets made to match the configuration and the names' answers. */
#ifndef ECHOD_PROBE_SYNC_H
#define ECHOD_PROBE_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "config.h"
#include "ownaddr.h"
#include "probe.h"
#include "probe_resolve.h"
#include "stamp.h"

/* An unanswered probe is lost after max(1 s, 3 intervals), at most this. */
#define PROBE_SYNC_TIMEOUT_MIN	1.0
#define PROBE_SYNC_TIMEOUT_MAX	30.0

/* One target as the engine probes it: what it was added with, and the engine's handle. */
struct probe_held {
	char *probe, *text;			/* probe name, target text: copies */
	struct probe_target_conf c;		/* c.name is text; c.addr is &addr */
	struct sockaddr_storage addr;
	struct stamp_key key;			/* c.key points here when the probe has one */
	struct probe_target *t;			/* NULL: the engine refused it (logged) */
	bool keep;
};

/* A probe's key, read at each load (kept from the last one when the file cannot be read). */
struct probe_key {
	char *probe;
	bool ok;
	struct stamp_key key;
};

struct probe_sync {
	struct probe_engine *engine;		/* borrowed */
	struct probe_held **held;
	size_t n;
	struct probe_key *keys;		/* one per probe loaded */
	size_t nkeys;
};

/*
 * Read cfg's probes' keys into ps. A key that cannot be read (echod runs as
 * its user at a reload) keeps the one the probe of that name had, with a
 * warning; with none, the probe's targets are left out. 0, or -1 (ENOMEM).
 */
int	probe_sync_keys(struct probe_sync *ps, const struct echod_config *cfg);
/*
 * Make the engine's targets those of cfg's probes as r resolved them (one
 * per probe and target text: its first address), leaving own's out but for
 * skip_own = false. A target that stays as it was keeps its counters; one
 * whose name is not answered yet keeps the address it had. Returns whether
 * the set changed.
 */
bool	probe_sync_apply(struct probe_sync *ps, const struct echod_config *cfg,
	    const struct probe_resolver *r, const struct ownaddr *own);
/* Every target out of the engine, every key forgotten. */
void	probe_sync_clear(struct probe_sync *ps);

#endif
