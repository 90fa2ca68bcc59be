/* SPDX-License-Identifier: MIT */
/* metrics_render: echod's counters as Prometheus text (0.0.4) or OpenMetrics 1.0. */
#ifndef ECHOD_METRICS_RENDER_H
#define ECHOD_METRICS_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "process_metrics.h"
#include "stats.h"

/*
 * The exposition of snap: HELP and TYPE per family, names as counters.h
 * makes them, per-listener series labelled protocol and address (a Unix
 * listener's path), and reason or result where a row has them; then pm's
 * process_* families (pm NULL: none). openmetrics: TYPE and HELP name
 * counters without _total; the caller ends the text with "# EOF" after
 * what else it renders (the probes: probe_metrics.h).
 */
void	metrics_render(const struct stats_snapshot *snap, const struct process_metrics *pm,
	    bool openmetrics, FILE *out);

/* A label value, backslash, double quote and newline escaped, as both formats want. */
void	metrics_label_value(FILE *out, const char *s);

#endif
