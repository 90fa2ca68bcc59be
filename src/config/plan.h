/* SPDX-License-Identifier: MIT */
/* plan: what a reload must do to the open sockets to serve a configuration (pure). */
#ifndef ECHOD_PLAN_H
#define ECHOD_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* One socket open now. */
struct plan_socket {
	const struct listener_spec *spec;	/* bound to (passed) or opened for (echod's) */
	bool passed;				/* systemd's: never closed by echod */
};

/* What becomes of a socket open now. */
enum plan_fate {
	PLAN_KEEP,		/* still wanted, or spanned by a wider listener (passed ones
				   always: their view may narrow) */
	PLAN_CLOSE,		/* echod's, and no configured listener needs it */
	PLAN_REPLACE,		/* echod's, closed once every replacement serves */
};

/* How a configured listener comes to be served. */
enum plan_how {
	PLAN_SERVED,		/* by sockets open now: the same one, or passed ones spanning it */
	PLAN_OPEN,		/* a new socket, overlapping none open now */
	PLAN_REBIND,		/* a new socket on a port sockets open now share (SO_REUSEPORT) */
};

struct plan {
	size_t ncurrent, nwanted;
	enum plan_fate *fate;		/* [ncurrent] */
	enum plan_how *how;		/* [nwanted] */
	bool *overlaps;			/* [nwanted * ncurrent]: wanted j and current i share */
};

/*
 * Compare the sockets open now with cfg's listeners. have_ipv6: false on a
 * host without IPv6, where a listener without address is whole on IPv4
 * alone. Returns 0 (free with plan_free()), or -1 (ENOMEM).
 */
int	plan_make(const struct plan_socket *cur, size_t ncur, const struct echod_config *cfg,
	    bool have_ipv6, struct plan *out);
void	plan_free(struct plan *p);

static inline bool
plan_overlaps(const struct plan *p, size_t wanted, size_t current)
{
	return p->overlaps[wanted * p->ncurrent + current];
}

#endif
