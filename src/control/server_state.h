/* SPDX-License-Identifier: MIT */
/* server_state: struct server, shared by server.c, reload.c and snapshot.c only. */
#ifndef ECHOD_SERVER_STATE_H
#define ECHOD_SERVER_STATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "apply.h"
#include "config.h"
#include "control.h"
#include "generation.h"
#include "guard.h"
#include "listener.h"
#include "loop.h"
#include "refusal_log.h"
#include "reload_state.h"
#include "report.h"
#include "stats.h"
#include "stream.h"
#include "worker.h"

struct server {
	/*
	 * The control thread's loop (the main thread's): signals, the control
	 * socket, reloads, sd_notify. No listener is ever watched here.
	 */
	struct loop *loop;
	/*
	 * The configuration in force: the server's until the first generation
	 * is published, then that generation's (freed with it, by RCU).
	 */
	struct echod_config *cfg;
	/* What the workers serve by: published under listeners_lock. */
	struct generation_slot generations;
	time_t loaded_at;
	struct stream_shared shared;
	struct guard guard;
	bool guard_ready;
	struct worker **workers;
	size_t nworkers;
	struct listener_set listeners;
	/*
	 * Held while the set's membership changes and a generation is published
	 * (start-up, reloads, in the control thread), while another thread walks
	 * the set and the generation (snapshot_take() for /metrics), and by the
	 * retirement of a generation before it frees it: a listener in the set
	 * and the generation in force stay alive meanwhile. Never taken by the
	 * echo path.
	 */
	pthread_mutex_t listeners_lock;
	uint64_t started_ms;		/* CLOCK_MONOTONIC, for the uptime */
	struct refusal_log *refusals;	/* refused clients, logged rate-limited */
	struct watcher refusal_watcher;	/* its queue's eventfd: records to drain */
	uint64_t next_refusal_tick_ms;
	bool activated;			/* systemd passed sockets at start */
	struct status_rows unserved;	/* configured listeners not open, for status */
	struct control *control;
	struct metrics_endpoint *metrics;	/* NULL: no metrics block, or it failed */
	/* The configured probes, run on this loop (never on a worker); set once, in server_new(). */
	struct probe_run *probes;
	int sigfd;
	struct watcher sig_watcher;
	uint64_t next_status_ms;
	struct echo_totals status_prev;	/* the totals at the last STATUS=, for rates */
	uint64_t status_prev_ms;
	uint64_t watchdog_ms, next_watchdog_ms;
	char status[256];
	struct reload reload;
};

/* How many workers cfg asks for (workers = 0: one per CPU this process may use). */
size_t	server_workers_wanted(const struct echod_config *cfg);
/* The limits connections and sources are held to from now on: cfg's (any thread may read). */
void	server_set_limits(struct server *s, const struct echod_config *cfg);
/* What apply_config() works on: the listener set and the workers. */
struct apply_ctx server_apply_ctx(struct server *s);

#endif
