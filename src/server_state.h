/* SPDX-License-Identifier: MIT */
/* server_state: struct server, shared by server.c and reload.c only (nothing else includes it). */
#ifndef ECHOD_SERVER_STATE_H
#define ECHOD_SERVER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "apply.h"
#include "config.h"
#include "control.h"
#include "guard.h"
#include "listener.h"
#include "loop.h"
#include "reload.h"
#include "report.h"
#include "stream.h"
#include "worker.h"

struct server {
	struct echod_config *cfg;
	time_t loaded_at;
	struct stream_shared shared;
	struct guard guard;
	bool guard_ready;
	struct worker **workers;
	size_t nworkers;
	struct listener_set listeners;
	bool activated;			/* systemd passed sockets at start */
	struct report unserved;		/* configured listeners not open, for status */
	struct control *control;
	int sigfd;
	struct watcher sig_watcher;
	uint64_t next_status_ms;
	uint64_t watchdog_ms, next_watchdog_ms;
	char status[256];
	struct reload reload;
};

/* How many workers cfg asks for (workers = 0: one per CPU this process may use). */
size_t	server_workers_wanted(const struct echod_config *cfg);
/* What apply_config() works on: the listener set and the workers. */
struct apply_ctx server_apply_ctx(struct server *s);

#endif
