/* SPDX-License-Identifier: MIT */
/* probe_run: the configured probes, run on the control thread's loop; their figures published. */
#ifndef ECHOD_PROBE_RUN_H
#define ECHOD_PROBE_RUN_H

#include <stdint.h>

#include "config.h"
#include "loop.h"
#include "probe_pub.h"

/* The figures readers see are at most this old (while any target is probed). */
#define PROBE_RUN_PUBLISH_MS	250

struct probe_run;

/*
 * A runner on loop (the control thread's): nothing runs, no thread or socket
 * is made, until a configuration with probes is loaded. NULL with ENOMEM.
 */
struct probe_run *probe_run_new(struct loop *loop);
/*
 * Read cfg's probes' key files now (at start, as root, before the privilege
 * drop: a key file may be root's alone); the load of cfg uses them. 0, or
 * -1 (ENOMEM). A key that cannot be read is logged, and its probe not run.
 */
int	probe_run_keys(struct probe_run *r, const struct echod_config *cfg);
/* Stops every probe; the published figures go with it (no reader may hold it). */
void	probe_run_free(struct probe_run *r);
/*
 * Probe cfg's probes from now on (at start, and when a reload publishes
 * cfg): targets that stay keep their counters, the others come and go; names
 * are resolved off this thread. cfg must stay until the next load or
 * probe_run_free(). 0, or -1 (out of memory, or the resolver's threads):
 * every probe stops until a load succeeds.
 */
int	probe_run_load(struct probe_run *r, const struct echod_config *cfg);
/*
 * The loop hook's part: send what is due, count losses, ask names due again,
 * keep the loop watching the engine's sockets, publish. Returns when it
 * wants to be called next (loop_now() milliseconds; UINT64_MAX: never).
 */
uint64_t probe_run_tick(struct probe_run *r, uint64_t now_ms);
/* The published figures (any thread: probe_pub_copy()). */
struct probe_pub *probe_run_pub(struct probe_run *r);

#endif
