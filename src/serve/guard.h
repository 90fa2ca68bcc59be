/* SPDX-License-Identifier: MIT */
/* guard: whether a connection or datagram from a peer is served (ACL, port guard, size, limits). */
#ifndef ECHOD_GUARD_H
#define ECHOD_GUARD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "acl.h"
#include "portguard.h"
#include "refusal_log.h"
#include "srclimit.h"

/*
 * The rules every worker reads for each datagram and connection. Part of a
 * generation (generation.h): immutable once published, retired with it.
 */
struct guard_policy {
	struct cidr *exempt;		/* not subject to the per-source limits */
	size_t nexempt;
	size_t max_datagram;		/* larger datagrams are dropped; 0 = any size */
	bool conn_limits;		/* max_connections_per_source or connection_rate on */
	bool udp_limits;		/* udp_rate or udp_max_reply_bytes_per_second on */
	/*
	 * Source ports never answered: port 0, udp_drop_source_ports, and the
	 * port of every udp listener configured (two of our ports would answer
	 * each other). Applied to every source: exempt lifts the rates only.
	 */
	struct portguard ports;
	uint16_t min_source_port;	/* top-level udp_min_source_port (no listener known) */
};

/* What to do with one peer. */
enum guard_verdict {
	GUARD_PASS,			/* serve it */
	GUARD_PASS_COUNTED,		/* serve it; call guard_connection_closed() at close */
	GUARD_DENIED,			/* allow/deny refused the address */
	GUARD_SOURCE_PORT,		/* a source-port rule (see portguard_refuses()) */
	GUARD_OVERSIZE,			/* over max_datagram, or truncated by the kernel */
	GUARD_SOURCE_CONNECTIONS,	/* max_connections_per_source (or the table is full) */
	GUARD_CONNECTION_RATE,		/* connection_rate */
	GUARD_DATAGRAM_RATE,		/* udp_rate */
	GUARD_REPLY_BYTES,		/* udp_max_reply_bytes_per_second */
	GUARD_UNLISTED,			/* sent to a local address the configuration omits */
};

/* Shared by every worker and every generation: the per-source state outlives reloads. */
struct guard {
	struct srclimit *table;
};

/*
 * An empty policy (everything off) holding a copy of the exempt list, for the
 * caller to fill in before it publishes it (guard_conf.c builds one from a
 * configuration). NULL with errno on failure.
 */
struct guard_policy *guard_policy_new(const struct cidr *exempt, size_t nexempt);
void	guard_policy_free(struct guard_policy *p);

/* A per-source table of capacity sources with limits conf. 0, or -1 with errno. */
int	guard_init(struct guard *g, size_t capacity, const struct srclimit_conf *conf);
/* Frees the table; no worker may use g any more. */
void	guard_fini(struct guard *g);

/* New per-source limits (reload), from any thread: the table applies them as it goes. */
void	guard_update(struct guard *g, const struct srclimit_conf *conf);

/* The per-source table's counters (SIGUSR1, statistics), from any thread. */
void	guard_get_stats(struct guard *g, struct srclimit_stats *out);

/* The refusal reason of a verdict that refuses (REFUSAL_COUNT for the passing ones). */
enum refusal_reason guard_verdict_reason(enum guard_verdict v);

/*
 * A TCP connection from peer was accepted on a listener whose ACL is acl
 * (NULL: everyone), under policy p. Non-IP peers (Unix) always pass.
 * now_ms: CLOCK_MONOTONIC.
 */
enum guard_verdict guard_connection(struct guard *g, const struct guard_policy *p,
	    const struct acl *acl, const struct sockaddr *peer, uint64_t now_ms);
/* A connection that got GUARD_PASS_COUNTED closed. */
void	guard_connection_closed(struct guard *g, const struct sockaddr *peer);

/*
 * A datagram of len bytes (truncated: the kernel cut it) from peer arrived on
 * a socket bound to port local, at an address whose configured listener has
 * the ACL acl (NULL: everyone) and min_source_port (its udp_min_source_port;
 * p->min_source_port where no listener is known): answer it? Checks,
 * cheapest first: size, source port, ACL, then the per-source limits unless
 * peer is exempt; the source-port rules hold for exempt peers too. No lock
 * is taken unless a per-source UDP limit applies to peer.
 */
enum guard_verdict guard_datagram(struct guard *g, const struct guard_policy *p,
	    const struct acl *acl, uint16_t min_source_port, uint16_t local,
	    const struct sockaddr *peer, size_t len, bool truncated, uint64_t now_ms);
/*
 * The same for a datagram of class cls (SRCLIMIT_STAMP: a stamp listener's
 * test packet, limited by stamp_rate and stamp_max_reply_bytes_per_second)
 * whose reply will be reply_len bytes (a STAMP reply to a short packet is
 * the base packet: longer than the test packet).
 */
enum guard_verdict guard_datagram_class(struct guard *g, const struct guard_policy *p,
	    const struct acl *acl, uint16_t min_source_port, uint16_t local,
	    const struct sockaddr *peer, size_t len, bool truncated, enum srclimit_class cls,
	    size_t reply_len, uint64_t now_ms);

#endif
