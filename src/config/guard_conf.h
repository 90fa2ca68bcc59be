/* SPDX-License-Identifier: MIT */
/* guard_conf: the guard's policy and limits from a configuration: where guard meets config. */
#ifndef ECHOD_GUARD_CONF_H
#define ECHOD_GUARD_CONF_H

#include <stddef.h>

#include "config.h"
#include "guard.h"
#include "srclimit.h"

/*
 * Per-source table size for a configuration: 16 slots per connection
 * max_connections allows (see srclimit_new() on why), at least 65536 sources,
 * at most 1 Mi (64 MiB). Chosen once at start: a reload does not resize it.
 */
size_t	guard_conf_capacity(const struct echod_config *cfg);
/* The per-source limits of a configuration. */
void	guard_conf_limits(const struct echod_limits *limits, struct srclimit_conf *conf);
/* A policy from a configuration (copies what it needs). NULL with errno on failure. */
struct guard_policy *guard_conf_policy(const struct echod_config *cfg);

/* guard_init() for a configuration: its table size and limits. 0, or -1 with errno. */
int	guard_conf_init(struct guard *g, const struct echod_config *cfg);
/* guard_update() with a configuration's limits. */
void	guard_conf_update(struct guard *g, const struct echod_limits *limits);

#endif
