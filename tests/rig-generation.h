/* SPDX-License-Identifier: MIT */
/* rig-generation: publish a one-socket generation for a test that drives a worker's watch. */
#ifndef ECHOD_RIG_GENERATION_H
#define ECHOD_RIG_GENERATION_H

#include "config.h"
#include "generation.h"

/*
 * Publish in slot a generation in which the socket key is served whole by
 * spec (its stream ACL and datagram handler), under cfg's guard policy
 * (cfg stays the caller's). Returns it, for rig_generation_free().
 */
struct generation *rig_generation_publish(struct generation_slot *slot, const void *key,
	    const struct listener_spec *spec, const struct echod_config *cfg);
/* Free what rig_generation_publish() made (no worker thread reads it). */
void	rig_generation_free(struct generation_slot *slot);

#endif
