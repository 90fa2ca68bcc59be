/* SPDX-License-Identifier: MIT */
/* compile: a configuration and the open sockets into one generation for the workers. */
#ifndef ECHOD_COMPILE_H
#define ECHOD_COMPILE_H

#include "config.h"
#include "generation.h"
#include "listener.h"
#include "report.h"
#include "stream.h"

/*
 * The generation serving cfg on the sockets of set: each socket's view (its
 * handlers, ACLs, STAMP state), and the guard policy cfg implies. Takes
 * cfg over (freed with the generation, or here on failure). Sockets get
 * what their view needs first (STAMP timestamps, TOS with each datagram).
 * A socket whose view cannot be built serves nothing (a line of rep says
 * so); a parked one gets none. NULL: out of memory (a line of rep).
 */
struct generation *compile_generation(const struct listener_set *set, struct echod_config *cfg,
	    struct report *rep);

/* The limits cfg sets on connections (stream_shared_set_limits()). */
void	compile_stream_limits(const struct echod_config *cfg, struct stream_limits *out);

#endif
