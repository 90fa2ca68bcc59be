/* SPDX-License-Identifier: MIT */
/* stamp_session: what the session table says beyond stamp.h's stamp_sessions_stats(). */
#ifndef ECHOD_STAMP_SESSION_H
#define ECHOD_STAMP_SESSION_H

#include <stdint.h>

#include "stamp.h"

/*
 * Sessions restarted at zero so far: a known session that came back after
 * its timeout, or whose sender began again at sequence 0 (stamp_session.c
 * says when a 0 counts as a new run).
 */
uint64_t stamp_sessions_restarts(struct stamp_sessions *s);

#endif
