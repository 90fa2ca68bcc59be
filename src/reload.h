/* SPDX-License-Identifier: MIT */
/* reload: re-read the configuration and apply it, one reload at a time, answering who asked. */
#ifndef ECHOD_RELOAD_H
#define ECHOD_RELOAD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "apply.h"
#include "config.h"
#include "guard.h"
#include "report.h"

struct server;
struct control_client;

/* Control clients waiting for a reload's result. */
struct waiters {
	struct control_client **items;
	size_t count;
};

/*
 * One reload at a time: it is done once every worker has applied it (then
 * READY=1 and the answers). Asked for meanwhile (SIGHUP or echodctl), another
 * follows it and reads the files then.
 */
struct reload {
	bool running, queued;
	atomic_int acks;		/* workers yet to apply the one running */
	struct waiters answer_now, answer_next;
	struct report report;		/* of the reload in progress */
	struct report last;		/* of the last one done */
	time_t last_at;
	/* What workers may still read until they have all synced: freed by reload_poll(). */
	struct echod_config *retired_cfg;
	const struct guard_policy *retired_policy;
	struct retired_views retired_views;
	/* Reloads done since start (read by other threads: statistics). */
	_Atomic uint64_t count_ok, count_failed;
};

/*
 * Re-read the configuration and apply it; asker (or NULL: SIGHUP) is
 * answered once every worker has applied it. Asked for during a reload,
 * another follows it. Runs in the control thread, like reload_poll().
 */
void	reload_start(struct server *s, struct control_client *asker);
/*
 * Finish the reload running once every worker has applied it. -1 while it
 * waits for them (ask again soon), 0 otherwise.
 */
int	reload_poll(struct server *s);
/* Free what the reload state holds; no worker may run any more. */
void	reload_fini(struct reload *r);

#endif
