/* SPDX-License-Identifier: MIT */
/* probe_metrics: the probes' published figures as Prometheus text (0.0.4) or OpenMetrics. */
#ifndef ECHOD_PROBE_METRICS_H
#define ECHOD_PROBE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "probe_pub.h"

/*
 * The echod_probe_* families, one series per target labelled probe, target
 * (as the configuration writes it) and protocol: no family at all without a
 * target. openmetrics: counter families named without _total.
 */
void	probe_metrics_render(const struct probe_row *rows, size_t n, bool openmetrics,
	    FILE *out);

#endif
