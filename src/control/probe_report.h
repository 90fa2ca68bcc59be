/* SPDX-License-Identifier: MIT */
/* probe_report: `echodctl probes`: one line per target, as mtr's report, or one JSON object. */
#ifndef ECHOD_PROBE_REPORT_H
#define ECHOD_PROBE_REPORT_H

#include <stdbool.h>

#include "probe_pub.h"
#include "report.h"

/*
 * The published figures into rep: a header and one aligned line per target
 * (probe, target, address, protocol, sent, loss % and its forward/backward
 * part, rtt p50/p99 over the last minute in ms, last reply's age, up), or
 * with json one line: {"probes":[{...}, ...]}.
 */
void	probe_report(struct probe_pub *pub, bool json, struct report *rep);

#endif
