/* SPDX-License-Identifier: MIT */
/*
 * server_state: what server.c and reload.c both ask of struct server, here so
 * that reload.c calls down into it and never back up into server.c.
 */
#include <sched.h>

#include "compile.h"
#include "guard_conf.h"
#include "server_state.h"

size_t
server_workers_wanted(const struct echod_config *cfg)
{
	cpu_set_t set;

	if (cfg->workers > 0)
		return (size_t)cfg->workers;
	/* One per CPU this process may run on (taskset and CPUAffinity= are respected). */
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (size_t)CPU_COUNT(&set);
	return 1;
}

struct apply_ctx
server_apply_ctx(struct server *s)
{
	return (struct apply_ctx){
		.set = &s->listeners,
		.workers = s->workers,
		.nworkers = s->nworkers,
		.generations = &s->generations,
		.activated = s->activated,
	};
}

/* The limits connections and sources are held to, from now on. */
void
server_set_limits(struct server *s, const struct echod_config *cfg)
{
	struct stream_limits limits;

	compile_stream_limits(cfg, &limits);
	stream_shared_set_limits(&s->shared, &limits);
	if (s->guard_ready)
		guard_conf_update(&s->guard, &cfg->limits);
}
