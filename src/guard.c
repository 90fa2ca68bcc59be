/* SPDX-License-Identifier: MIT */
/* guard: whether a connection or datagram from a peer is served (ACL, port guard, size, limits). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"

#define GUARD_MIN_CAPACITY	65536
#define GUARD_MAX_CAPACITY	(1u << 20)
#define GUARD_SLOTS_PER_CONN	16

size_t
guard_table_capacity(const struct echod_config *cfg)
{
	size_t want = (size_t)cfg->limits.max_connections * GUARD_SLOTS_PER_CONN;

	if (want < GUARD_MIN_CAPACITY)
		return GUARD_MIN_CAPACITY;
	return want > GUARD_MAX_CAPACITY ? GUARD_MAX_CAPACITY : want;
}

void
guard_limits_conf(const struct echod_limits *limits, struct srclimit_conf *conf)
{
	conf->max_connections_per_source = (uint32_t)limits->max_connections_per_source;
	conf->connection_rate = (uint32_t)limits->connection_rate;
	conf->udp_rate = (uint32_t)limits->udp_rate;
	conf->udp_max_reply_bytes_per_second = (uint32_t)limits->udp_max_reply_bytes_per_second;
}

struct guard_policy *
guard_policy_new(const struct echod_config *cfg)
{
	struct guard_policy *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	if (cfg->nexempt > 0) {
		p->exempt = malloc(cfg->nexempt * sizeof(*p->exempt));
		if (p->exempt == NULL) {
			free(p);
			return NULL;
		}
		memcpy(p->exempt, cfg->exempt, cfg->nexempt * sizeof(*p->exempt));
		p->nexempt = cfg->nexempt;
	}
	p->max_datagram = (size_t)cfg->limits.max_datagram;
	p->conn_limits = cfg->limits.max_connections_per_source > 0 ||
	    cfg->limits.connection_rate > 0;
	p->udp_limits = cfg->limits.udp_rate > 0 || cfg->limits.udp_max_reply_bytes_per_second > 0;
	portguard_init(&p->ports, cfg->drop_ports, cfg->ndrop_ports);
	/*
	 * A datagram from one of our own udp ports to another (two listeners of
	 * this echod, or two hosts sharing its configuration) would loop between
	 * them, exempt sources included. Folded into the set: no cost per datagram.
	 */
	for (size_t i = 0; i < cfg->nlisteners; i++)
		if (cfg->listeners[i].proto == PROTO_UDP)
			portguard_add(&p->ports, (uint16_t)cfg->listeners[i].port);
	p->min_source_port = (uint16_t)cfg->udp_min_source_port;
	return p;
}

void
guard_policy_free(struct guard_policy *p)
{
	if (p == NULL)
		return;
	free(p->exempt);
	free(p);
}

int
guard_init(struct guard *g, const struct echod_config *cfg)
{
	struct srclimit_conf conf;
	struct guard_policy *p;

	guard_limits_conf(&cfg->limits, &conf);
	memset(g, 0, sizeof(*g));
	p = guard_policy_new(cfg);
	if (p == NULL)
		return -1;
	g->table = srclimit_new(guard_table_capacity(cfg), &conf);
	if (g->table == NULL) {
		int saved = errno;

		guard_policy_free(p);
		errno = saved;
		return -1;
	}
	atomic_init(&g->policy, p);
	return 0;
}

void
guard_fini(struct guard *g)
{
	/* The policy was built by guard_policy_new(): const only for its readers. */
	guard_policy_free((struct guard_policy *)(uintptr_t)guard_policy_get(g));
	atomic_store(&g->policy, NULL);
	srclimit_free(g->table);
	g->table = NULL;
}

const struct guard_policy *
guard_update(struct guard *g, struct guard_policy *p, const struct echod_limits *limits)
{
	struct srclimit_conf conf;

	guard_limits_conf(limits, &conf);
	srclimit_set_conf(g->table, &conf);
	if (p == NULL)
		return NULL;
	return atomic_exchange_explicit(&g->policy, p, memory_order_acq_rel);
}

static bool
is_inet(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET || sa->sa_family == AF_INET6;
}

static bool
exempt(const struct guard_policy *p, const struct sockaddr *peer)
{
	return acl_list_contains(p->exempt, p->nexempt, peer);
}

enum guard_verdict
guard_connection(struct guard *g, const struct acl *acl, const struct sockaddr *peer,
    uint64_t now_ms)
{
	const struct guard_policy *p;

	if (!is_inet(peer))
		return GUARD_PASS;
	if (!acl_permits(acl, peer))
		return GUARD_DENIED;
	p = guard_policy_get(g);
	if (!p->conn_limits || exempt(p, peer))
		return GUARD_PASS;
	return srclimit_conn_open(g->table, peer, now_ms) ? GUARD_PASS_COUNTED : GUARD_LIMITED;
}

void
guard_connection_closed(struct guard *g, const struct sockaddr *peer)
{
	srclimit_conn_close(g->table, peer);
}

enum guard_verdict
guard_datagram(struct guard *g, const struct guard_policy *p, const struct listener_spec *served,
    uint16_t local, const struct sockaddr *peer, size_t len, bool truncated, uint64_t now_ms)
{
	const struct acl *acl = served != NULL ? &served->acl : NULL;
	uint16_t min = served != NULL ? served->udp_min_source_port : p->min_source_port;

	/* Dropped, not cut: a truncated echo would be a wrong answer. */
	if (truncated || (p->max_datagram > 0 && len > p->max_datagram))
		return GUARD_OVERSIZE;
	/* Before the exempt test: a loop between two exempt services never ends otherwise. */
	if (portguard_refuses(&p->ports, peer, local, min))
		return GUARD_SOURCE_PORT;
	if (!acl_permits(acl, peer))
		return GUARD_DENIED;
	if (!p->udp_limits || exempt(p, peer))
		return GUARD_PASS;
	return srclimit_udp(g->table, peer, len, now_ms) ? GUARD_PASS : GUARD_LIMITED;
}
