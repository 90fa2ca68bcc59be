/* SPDX-License-Identifier: MIT */
/* snapshot: every counter of the running echod at one moment, for readers on any thread. */
#ifndef ECHOD_SNAPSHOT_H
#define ECHOD_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "report.h"
#include "stats.h"

struct server;

/*
 * Totals and process values; with listeners, also each listener's counters
 * (under the listener set's lock, never held by the echo path). Any thread.
 * 0, or -1 (out of memory: out has no listeners). Free with stats_snapshot_free().
 */
int	snapshot_take(struct server *s, bool listeners, struct stats_snapshot *out);

/*
 * The control socket's statistics commands: "stats" (key=value lines),
 * "stats json" (one JSON line), "metrics" (the Prometheus text). Returns
 * false when command is none of them (rep untouched).
 */
bool	snapshot_report(struct server *s, const char *command, struct report *rep);

/*
 * metrics_render_fn for metrics_http (metrics_http.h): arg is the struct
 * server *. Thread-safe: reads counters atomically and takes only the
 * listener set's lock, which the echo path never holds. *text malloc'd.
 * 0, or -1 (out of memory).
 */
int	snapshot_metrics_render(void *server, bool openmetrics, char **text, size_t *len);

#endif
