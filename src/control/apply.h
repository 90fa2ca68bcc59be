/* SPDX-License-Identifier: MIT */
/* apply: changes the open listeners to what a configuration lists, through the workers. */
#ifndef ECHOD_APPLY_H
#define ECHOD_APPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "listener.h"
#include "report.h"
#include "worker.h"

/* What the workers may still read until they have all synced: freed after. */
struct retired_views {
	struct listener_view **items;
	size_t count;
};

/* Was this line of an apply_config() report logged by apply already (a listener's failure)? */
bool	apply_line_logged(const char *line);

struct apply_ctx {
	struct listener_set *set;	/* the listeners open now; changed in place */
	struct worker **workers;
	size_t nworkers;
	bool activated;			/* systemd passed sockets: hints name systemctl */
};

/*
 * Make the set serve cfg: keep what stays, open what is new (beside what it
 * replaces, which closes only once the replacement serves), close what is
 * gone, and give every listener the view cfg implies (a passed socket is
 * never closed: the part of it cfg does not list is refused or dropped).
 * Every change and failure is a line of rep (rep->failed: some configured
 * listener is not fully served); unserved gets one status line for each of
 * those. Views replaced go to retired. Returns the number of failures.
 */
int	apply_config(struct apply_ctx *ctx, const struct echod_config *cfg, struct report *rep,
	    struct report *unserved, struct retired_views *retired);

/* One status line per listener: protocol, address, origin, state, where configured. */
void	apply_describe(const struct listener_set *set, const struct echod_config *cfg,
	    struct report *out);

void	retired_views_free(struct retired_views *r);

/* The commands that make systemd bind what echod.conf lists (echod.socket, generator). */
#define APPLY_SYSTEMD_REBIND "systemctl daemon-reload && systemctl restart echod.socket"

#endif
