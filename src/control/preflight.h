/* SPDX-License-Identifier: MIT */
/* preflight: asks the system what a loaded configuration needs from it, before anything starts. */
#ifndef ECHOD_PREFLIGHT_H
#define ECHOD_PREFLIGHT_H

#include "config.h"

/* The user and group exist and are not root's (what privdrop_apply() needs). */
#define PREFLIGHT_IDENTITY	(1u << 0)
/*
 * Every tcp/udp listener below net.ipv4.ip_unprivileged_port_start is either
 * passed by systemd (LISTEN_FDS) or bindable: CAP_NET_BIND_SERVICE in the
 * effective set.
 */
#define PREFLIGHT_PORTS		(1u << 1)
/* The directory of every unix listener's path exists, unless systemd passes it. */
#define PREFLIGHT_UNIX_DIRS	(1u << 2)
/*
 * The metrics endpoint's port, like a listener's: below the unprivileged
 * start, systemd passes it (a socket named "metrics") or echod can bind it
 * once it runs as itself: the endpoint starts after root is given up, so
 * only a non-root echod with CAP_NET_BIND_SERVICE can.
 */
#define PREFLIGHT_METRICS	(1u << 3)
#define PREFLIGHT_ALL		(PREFLIGHT_IDENTITY | PREFLIGHT_PORTS | PREFLIGHT_UNIX_DIRS | \
				 PREFLIGHT_METRICS)

/*
 * Run the checks named by flags on cfg (from config_load()). Each problem is
 * appended to errs as "file:line: message", like config_load()'s errors (the
 * caller frees them with config_errors_free()). Returns the number of
 * problems: 0 when start would not refuse the configuration for any of the
 * reasons checked. Opens no socket, changes no identity and never exits;
 * safe in any one thread at a time (reentrant lookups). Passed sockets are
 * only looked at, never taken: LISTEN_* stays set for activation_collect().
 */
int	preflight_check(const struct echod_config *cfg, unsigned flags,
	    struct config_errors *errs);

#endif
