/* SPDX-License-Identifier: MIT */
/* guard: whether a connection or datagram from a peer is served (ACL, port guard, size, limits). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"

struct guard_policy *
guard_policy_new(const struct cidr *exempt, size_t nexempt)
{
	struct guard_policy *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	if (nexempt > 0) {
		p->exempt = malloc(nexempt * sizeof(*p->exempt));
		if (p->exempt == NULL) {
			free(p);
			return NULL;
		}
		memcpy(p->exempt, exempt, nexempt * sizeof(*p->exempt));
		p->nexempt = nexempt;
	}
	portguard_init(&p->ports, NULL, 0);
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
guard_init(struct guard *g, size_t capacity, const struct srclimit_conf *conf)
{
	memset(g, 0, sizeof(*g));
	g->table = srclimit_new(capacity, conf);
	return g->table == NULL ? -1 : 0;
}

void
guard_fini(struct guard *g)
{
	srclimit_free(g->table);
	g->table = NULL;
}

void
guard_update(struct guard *g, const struct srclimit_conf *conf)
{
	srclimit_set_conf(g->table, conf);
}

void
guard_get_stats(struct guard *g, struct srclimit_stats *out)
{
	srclimit_get_stats(g->table, out);
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
guard_connection(struct guard *g, const struct guard_policy *p, const struct acl *acl,
    const struct sockaddr *peer, uint64_t now_ms)
{
	enum srclimit_reason why = SRCLIMIT_TABLE_FULL;

	if (!is_inet(peer))
		return GUARD_PASS;
	if (!acl_permits(acl, peer))
		return GUARD_DENIED;
	if (!p->conn_limits || exempt(p, peer))
		return GUARD_PASS;
	if (srclimit_conn_open_why(g->table, peer, now_ms, &why))
		return GUARD_PASS_COUNTED;
	/* A full table refuses like max_connections_per_source: too many sources at once. */
	return why == SRCLIMIT_CONNECTION_RATE ? GUARD_CONNECTION_RATE : GUARD_SOURCE_CONNECTIONS;
}

void
guard_connection_closed(struct guard *g, const struct sockaddr *peer)
{
	srclimit_conn_close(g->table, peer);
}

enum guard_verdict
guard_datagram(struct guard *g, const struct guard_policy *p, const struct acl *acl,
    uint16_t min_source_port, uint16_t local, const struct sockaddr *peer, size_t len,
    bool truncated, uint64_t now_ms)
{
	return guard_datagram_class(g, p, acl, min_source_port, local, peer, len, truncated,
	    SRCLIMIT_ECHO, len, now_ms);
}

enum guard_verdict
guard_datagram_class(struct guard *g, const struct guard_policy *p, const struct acl *acl,
    uint16_t min_source_port, uint16_t local, const struct sockaddr *peer, size_t len,
    bool truncated, enum srclimit_class cls, size_t reply_len, uint64_t now_ms)
{
	enum srclimit_reason why = SRCLIMIT_TABLE_FULL;

	/* Dropped, not cut: a truncated echo would be a wrong answer. */
	if (truncated || (p->max_datagram > 0 && len > p->max_datagram))
		return GUARD_OVERSIZE;
	/* Before the exempt test: a loop between two exempt services never ends otherwise. */
	if (portguard_refuses(&p->ports, peer, local, min_source_port))
		return GUARD_SOURCE_PORT;
	if (!acl_permits(acl, peer))
		return GUARD_DENIED;
	if (!p->udp_limits || exempt(p, peer))
		return GUARD_PASS;
	if (srclimit_datagram(g->table, peer, cls, reply_len, now_ms, &why))
		return GUARD_PASS;
	/* A full table refuses like udp_rate: too many sources at once. */
	return why == SRCLIMIT_UDP_BYTES ? GUARD_REPLY_BYTES : GUARD_DATAGRAM_RATE;
}

enum refusal_reason
guard_verdict_reason(enum guard_verdict v)
{
	switch (v) {
	case GUARD_DENIED:
		return REFUSAL_ACL;
	case GUARD_SOURCE_PORT:
		return REFUSAL_SOURCE_PORT;
	case GUARD_OVERSIZE:
		return REFUSAL_OVERSIZE;
	case GUARD_SOURCE_CONNECTIONS:
		return REFUSAL_SOURCE_CONNECTIONS;
	case GUARD_CONNECTION_RATE:
		return REFUSAL_CONNECTION_RATE;
	case GUARD_DATAGRAM_RATE:
		return REFUSAL_DATAGRAM_RATE;
	case GUARD_REPLY_BYTES:
		return REFUSAL_REPLY_BYTES;
	case GUARD_UNLISTED:
		return REFUSAL_UNLISTED;
	default:
		return REFUSAL_COUNT;
	}
}
