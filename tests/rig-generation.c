/* SPDX-License-Identifier: MIT */
/* rig-generation: publish a one-socket generation for a test that drives a worker's watch. */
#include <check.h>
#include <stdlib.h>

#include "dgram_conf.h"
#include "guard_conf.h"
#include "rig-generation.h"
#include "view.h"

struct generation *
rig_generation_publish(struct generation_slot *slot, const void *key,
    const struct listener_spec *spec, const struct echod_config *cfg)
{
	struct listener_view *all = calloc(1, sizeof(*all));
	struct generation *gen;

	ck_assert_ptr_nonnull(all);
	all->all = true;
	all->whole.listener = spec;
	all->whole.stream.acl = &spec->acl;
	dgram_conf_handler(&all->whole.dgram, spec);
	/* No configuration of its own: cfg stays the test's. */
	gen = generation_new(NULL, NULL, guard_conf_policy(cfg), 1);
	ck_assert_ptr_nonnull(gen);
	generation_set_view(gen, key, all);
	generation_publish(slot, gen);
	return gen;
}

void
rig_generation_free(struct generation_slot *slot)
{
	generation_free(slot->current);
	slot->current = NULL;
}
