/* SPDX-License-Identifier: MIT */
/* probe_target: one probe target's text -> host, port and, for a literal, its address. */
#ifndef ECHOD_PROBE_TARGET_H
#define ECHOD_PROBE_TARGET_H

#include <stddef.h>

#include "probe_spec.h"

/*
 * Parse text as "host", "host:port", "192.0.2.1", "192.0.2.1:7", "2001:db8::1",
 * "[2001:db8::1]:862" or "[fe80::1%eth0]:862" into t (text, host, port,
 * literal and addr; where is left to the caller). A target without a port
 * takes default_port. Returns 0, or -1 with the reason in why (t untouched,
 * nothing to free). Opens nothing and resolves nothing.
 */
int	probe_target_parse(const char *text, int default_port, struct probe_target *t,
	    char *why, size_t size);
void	probe_target_free(struct probe_target *t);

#endif
