/* SPDX-License-Identifier: MIT */
/*
 * reload_state: what struct server holds for reload.c (struct reload), apart
 * from reload.c's functions, so that server_state.h needs no reload.h.
 */
#ifndef ECHOD_RELOAD_STATE_H
#define ECHOD_RELOAD_STATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "apply.h"
#include "config.h"
#include "report.h"

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
	/*
	 * Applied to the sockets, its generation not published yet: the workers
	 * first drain the sockets it closed (NULL: none waits).
	 */
	struct echod_config *next_cfg;
	time_t last_at;
	/* Reloads done since start (read by other threads: statistics). */
	_Atomic uint64_t count_ok, count_failed;
	/* Did the last reload succeed (1; the start counts), and when did one last (unix time). */
	_Atomic uint64_t last_ok, ok_at;
};

#endif
