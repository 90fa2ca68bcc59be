/* SPDX-License-Identifier: MIT */
/* guard_conf: the guard's policy and limits from a configuration: where guard meets config. */
#include "guard_conf.h"

#define GUARD_MIN_CAPACITY	65536
#define GUARD_MAX_CAPACITY	(1u << 20)
#define GUARD_SLOTS_PER_CONN	16

size_t
guard_conf_capacity(const struct echod_config *cfg)
{
	size_t want = (size_t)cfg->limits.max_connections * GUARD_SLOTS_PER_CONN;

	if (want < GUARD_MIN_CAPACITY)
		return GUARD_MIN_CAPACITY;
	return want > GUARD_MAX_CAPACITY ? GUARD_MAX_CAPACITY : want;
}

void
guard_conf_limits(const struct echod_limits *limits, struct srclimit_conf *conf)
{
	conf->max_connections_per_source = (uint32_t)limits->max_connections_per_source;
	conf->connection_rate = (uint32_t)limits->connection_rate;
	conf->udp_rate = (uint32_t)limits->udp_rate;
	conf->udp_max_reply_bytes_per_second = (uint32_t)limits->udp_max_reply_bytes_per_second;
	conf->stamp_rate = (uint32_t)limits->stamp_rate;
	conf->stamp_max_reply_bytes_per_second =
	    (uint32_t)limits->stamp_max_reply_bytes_per_second;
}

struct guard_policy *
guard_conf_policy(const struct echod_config *cfg)
{
	struct guard_policy *p = guard_policy_new(cfg->exempt, cfg->nexempt);

	if (p == NULL)
		return NULL;
	p->max_datagram = (size_t)cfg->limits.max_datagram;
	p->conn_limits = cfg->limits.max_connections_per_source > 0 ||
	    cfg->limits.connection_rate > 0;
	p->udp_limits = cfg->limits.udp_rate > 0 || cfg->limits.udp_max_reply_bytes_per_second > 0 ||
	    cfg->limits.stamp_rate > 0 || cfg->limits.stamp_max_reply_bytes_per_second > 0;
	portguard_init(&p->ports, cfg->drop_ports, cfg->ndrop_ports);
	/*
	 * A datagram from one of our own udp ports to another (two listeners of
	 * this echod, or two hosts sharing its configuration) would loop between
	 * them, exempt sources included. Folded into the set: no cost per datagram.
	 */
	for (size_t i = 0; i < cfg->nlisteners; i++)
		if (proto_is_datagram(cfg->listeners[i].proto))
			portguard_add(&p->ports, (uint16_t)cfg->listeners[i].port);
	p->min_source_port = (uint16_t)cfg->udp_min_source_port;
	return p;
}

int
guard_conf_init(struct guard *g, const struct echod_config *cfg)
{
	struct srclimit_conf conf;

	guard_conf_limits(&cfg->limits, &conf);
	return guard_init(g, guard_conf_capacity(cfg), &conf);
}

void
guard_conf_update(struct guard *g, const struct echod_limits *limits)
{
	struct srclimit_conf conf;

	guard_conf_limits(limits, &conf);
	guard_update(g, &conf);
}
