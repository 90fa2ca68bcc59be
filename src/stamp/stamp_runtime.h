/* SPDX-License-Identifier: MIT */
/*
 * stamp_runtime: what one stamp listener's reflector needs while it runs (its
 * key, its session table, the clock state its Error Estimates say). Made
 * from the configuration by stamp_conf.c; the reflector handler
 * (udp_stamp.c) reads it and knows nothing of the configuration.
 */
#ifndef ECHOD_STAMP_RUNTIME_H
#define ECHOD_STAMP_RUNTIME_H

#include <stdatomic.h>
#include <stdint.h>

#include "stamp.h"

struct stamp_runtime {
	struct stamp_reflector reflector;	/* what stamp_reflect() is given */
	struct stamp_key key;
	/* The session table's size and timeout as configured: what a reload compares. */
	long	sessions, session_timeout;
	/* The clock state that Error Estimates say, refreshed once a second (stamp_conf_clock()). */
	_Atomic uint64_t clock_at;		/* monotonic seconds of the last refresh, +1 */
	_Atomic uint32_t clock;			/* struct stamp_clock, packed */
};

/* The clock state for Error Estimates at now_s (monotonic seconds): read once a second. */
struct stamp_clock stamp_runtime_clock(struct stamp_runtime *run, uint64_t now_s);

#endif
