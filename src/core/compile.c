/* SPDX-License-Identifier: MIT */
/* compile: a configuration and the open sockets into one generation for the workers. */
#include "compile.h"
#include "guard_conf.h"
#include "view_build.h"

/* What a datagram socket is asked to deliver with each datagram (listener.prepared_for). */
enum prepared_for {
	PREPARED_NOTHING = 0,
	PREPARED_STAMP,			/* receive time, TTL, TOS */
	PREPARED_TOS,			/* TOS: a udp echo reflecting DSCP */
	PREPARED_NO_TOS,		/* a udp echo that does not */
};

/*
 * The one place a socket learns it serves STAMP (opened, passed, or made so
 * by a reload): TTL, TOS and T2 from its next datagram on. Only on a change:
 * a reload of 1 000 unchanged listeners costs no system call here.
 */
static void
prepare_socket(struct listener *l, const struct listener_view *v)
{
	enum prepared_for want = PREPARED_NOTHING;

	if (view_serves(v, PROTO_STAMP))
		want = PREPARED_STAMP;
	else if (proto_is_datagram(l->spec.proto))
		want = view_reflects_dscp(v) ? PREPARED_TOS : PREPARED_NO_TOS;
	if (want == PREPARED_NOTHING || want == (enum prepared_for)l->prepared_for)
		return;
	if (want == PREPARED_STAMP)
		listener_prepare_stamp(l->fd);
	else
		listener_prepare_tos(l->fd, want == PREPARED_TOS);
	l->prepared_for = want;
}

/* generation_release_fn: the configuration goes with the generation. */
static void
release_config(void *cfg)
{
	config_free(cfg);
}

struct generation *
compile_generation(const struct listener_set *set, struct echod_config *cfg,
    struct report *rep)
{
	struct guard_policy *policy = guard_conf_policy(cfg);
	struct generation *gen;

	if (policy == NULL) {
		config_free(cfg);
		report_fail(rep, "out of memory: the configuration was not applied");
		return NULL;
	}
	gen = generation_new(cfg, release_config, policy, set->count);
	if (gen == NULL) {
		report_fail(rep, "out of memory: the configuration was not applied");
		return NULL;
	}
	for (size_t i = 0; i < set->count; i++) {
		struct listener *l = set->items[i];
		struct listener_view *v;

		if (l->parked)
			continue;
		v = view_build(&l->spec, cfg);
		if (v == NULL) {
			report_fail(rep, "%s: out of memory: it serves nothing until the next "
			    "reload", l->name);
			continue;
		}
		prepare_socket(l, v);
		generation_set_view(gen, l, v);
	}
	return gen;
}

void
compile_stream_limits(const struct echod_config *cfg, struct stream_limits *out)
{
	out->max_connections = cfg->limits.max_connections;
	out->idle_timeout = cfg->limits.idle_timeout;
	out->buffer_size = cfg->limits.buffer_size;
	out->max_buffered_bytes = cfg->limits.max_buffered_bytes;
}
