/* SPDX-License-Identifier: MIT */
/* probe_describe: echod -t's line per probe: its targets as start would see them. */
#ifndef ECHOD_PROBE_DESCRIBE_H
#define ECHOD_PROBE_DESCRIBE_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"

/*
 * One line per probe of cfg to out: name, protocol, interval, and each
 * target with what it resolved to, "own address: skipped" or
 * "unresolvable: why". Names are resolved as echod would (probe_resolve.h),
 * waiting at most timeout_ms for them all; one still unanswered then is
 * "no answer yet". Blocks: for echod -t, never the control thread. 0, or -1
 * with errno when the resolver or the address list cannot be had.
 */
int	probe_describe(const struct echod_config *cfg, FILE *out, uint64_t timeout_ms);

#endif
