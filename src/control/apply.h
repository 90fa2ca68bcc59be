/* SPDX-License-Identifier: MIT */
/* apply: changes the open listeners to what a configuration lists, through the workers. */
#ifndef ECHOD_APPLY_H
#define ECHOD_APPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "generation.h"
#include "listener.h"
#include "report.h"
#include "status_rows.h"
#include "worker.h"

/* Was this line of an apply_config() report logged by apply already (a listener's failure)? */
bool	apply_line_logged(const char *line);

struct apply_ctx {
	struct listener_set *set;	/* the listeners open now; changed in place */
	struct worker **workers;
	size_t nworkers;
	struct generation_slot *generations;	/* what the workers read */
	size_t unwatched;		/* apply_config(): sockets the workers were told to drop */
	bool activated;			/* systemd passed sockets: hints name systemctl */
};

/*
 * Make the set's sockets what cfg lists: keep what stays, open what is new
 * (beside what it replaces, which closes once the workers have let it go),
 * close what is gone (a passed socket is never closed: the part of it cfg
 * does not list is refused or dropped). New sockets are not watched yet:
 * see apply_publish(). Every change and failure is a line of rep
 * (rep->failed: some configured listener is not fully served); unserved
 * gets one status line for each of those. Returns the number of failures.
 */
int	apply_config(struct apply_ctx *ctx, const struct echod_config *cfg, struct report *rep,
	    struct status_rows *unserved);

/*
 * Make gen (compiled for the set: compile.h) the generation in force, then
 * have every worker watch the sockets it serves that none watched yet. Notes
 * narrowed sockets in rep.
 */
void	apply_publish(struct apply_ctx *ctx, struct generation *gen, struct report *rep);

/*
 * One status row per listener: its name, origin, where configured (in cfg,
 * gen's configuration), state (its view in gen).
 */
void	apply_describe(const struct listener_set *set, const struct generation *gen,
	    const struct echod_config *cfg, struct status_rows *out);

/* The commands that make systemd bind what echod.conf lists (echod.socket, generator). */
#define APPLY_SYSTEMD_REBIND "systemctl daemon-reload && systemctl restart echod.socket"

#endif
