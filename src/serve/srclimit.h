/* SPDX-License-Identifier: MIT */
/* srclimit: per-source connection counts and token buckets in a fixed-size shared table. */
#ifndef ECHOD_SRCLIMIT_H
#define ECHOD_SRCLIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * A source is an IPv4 address (an IPv4-mapped IPv6 peer counts as that IPv4
 * address) or an IPv6 /64: one subscriber usually gets a whole /64, so
 * counting per address would let them multiply every limit by 2^64.
 *
 * Limits, per source; 0 switches a limit off:
 */
struct srclimit_conf {
	uint32_t max_connections_per_source;	/* TCP connections open at once */
	uint32_t connection_rate;		/* new TCP connections per second */
	uint32_t udp_rate;			/* datagrams answered per second */
	uint32_t udp_max_reply_bytes_per_second;
	/*
	 * The same two for STAMP test packets, in buckets of their own: a
	 * measurement runs at its own rate and must not spend (or be refused by)
	 * the echo budget, nor echo traffic the measurement's.
	 */
	uint32_t stamp_rate;
	uint32_t stamp_max_reply_bytes_per_second;
};

/*
 * Burst: every bucket holds one second's worth of tokens, and the connection
 * and datagram buckets at least SRCLIMIT_MIN_BURST, so that a client opening a
 * handful of connections at once is not refused when the rate is set very low.
 * A new source starts with full buckets. Over any interval T a source gets at
 * most burst + rate * T, so the long-run rate is exact. The byte bucket may go
 * into debt: a reply is sent while the bucket is not empty and then charged in
 * full, so a datagram larger than one second's budget is delayed, never
 * refused forever, and the average still holds.
 */
#define SRCLIMIT_MIN_BURST 4

enum srclimit_reason {
	SRCLIMIT_CONNECTIONS,		/* max_connections_per_source reached */
	SRCLIMIT_CONNECTION_RATE,	/* connection_rate bucket empty */
	SRCLIMIT_UDP_RATE,		/* udp_rate bucket empty */
	SRCLIMIT_UDP_BYTES,		/* udp_max_reply_bytes_per_second bucket empty */
	SRCLIMIT_TABLE_FULL,		/* new source; every slot it may take has connections */
	SRCLIMIT_NREASONS
};

struct srclimit_stats {
	uint64_t refused[SRCLIMIT_NREASONS];
	uint64_t evicted;		/* idle sources forgotten to make room for new ones */
	uint64_t unbalanced;		/* srclimit_conn_close() with nothing open: a caller bug */
	size_t entries;			/* sources tracked now */
	size_t capacity;		/* most sources ever tracked */
};

struct srclimit;

/*
 * Allocate the whole table once: capacity sources (rounded up to a multiple
 * of 8), 64 bytes each, and never allocate again. The hash key is drawn from
 * getrandom(2), which blocks only before the kernel's generator is first
 * seeded. Returns NULL with errno EINVAL (capacity 0 or over 16777216),
 * ENOMEM, or getrandom()'s errno.
 *
 * Sizing: a source with open connections pins its slot, and a new source that
 * finds all 8 slots of its group pinned is refused (SRCLIMIT_TABLE_FULL). With
 * capacity >= 16 * max_connections that needs 8 of at most 1 in 16 slots
 * pinned in one group chosen by a secret hash: it does not happen in practice.
 *
 * Threads: one table is shared by all workers, so limits hold per source
 * whichever worker sees the packet. Sources are spread over 8-slot groups by
 * the keyed hash; groups are guarded by striped mutexes held only for a hash
 * lookup and a few additions. Every function below may be called from any
 * thread at any time, including srclimit_set_conf() during traffic.
 */
struct srclimit *srclimit_new(size_t capacity, const struct srclimit_conf *conf);
void	srclimit_free(struct srclimit *sl);

/*
 * Apply new limits (reload). Sources keep their open-connection counts and
 * their token debts; a lower limit applies from the next call.
 */
void	srclimit_set_conf(struct srclimit *sl, const struct srclimit_conf *conf);

/*
 * A TCP connection from sa was accepted: may it stay? Checks the per-source
 * count, then the connection rate. On true the source's count went up and the
 * caller must call srclimit_conn_close() exactly once for this connection (keep
 * a flag in the connection: the exempt list may change before it closes). On
 * false close the connection at once; the refusal has been counted. Non-IP
 * peers (AF_UNIX) are not limited. now_ms: CLOCK_MONOTONIC in milliseconds.
 */
bool	srclimit_conn_open(struct srclimit *sl, const struct sockaddr *sa, uint64_t now_ms);
/* The same; on false, *why (when not NULL) is the limit that refused. */
bool	srclimit_conn_open_why(struct srclimit *sl, const struct sockaddr *sa, uint64_t now_ms,
	    enum srclimit_reason *why);
void	srclimit_conn_close(struct srclimit *sl, const struct sockaddr *sa);

/*
 * A datagram from sa would be answered with reply_bytes bytes: may it be? On
 * false drop it; the refusal has been counted. Costs nothing when both UDP
 * limits are off.
 */
bool	srclimit_udp(struct srclimit *sl, const struct sockaddr *sa, size_t reply_bytes,
	    uint64_t now_ms);
/* The same; on false, *why (when not NULL) is the limit that refused. */
bool	srclimit_udp_why(struct srclimit *sl, const struct sockaddr *sa, size_t reply_bytes,
	    uint64_t now_ms, enum srclimit_reason *why);

/* Which buckets a datagram is charged to: echo's (udp_*) or STAMP's (stamp_*). */
enum srclimit_class { SRCLIMIT_ECHO, SRCLIMIT_STAMP };
/* srclimit_udp_why() for a datagram of either class. */
bool	srclimit_datagram(struct srclimit *sl, const struct sockaddr *sa, enum srclimit_class cls,
	    size_t reply_bytes, uint64_t now_ms, enum srclimit_reason *why);

/* TCP connections the table counts as open from sa's source (for tests and debugging). */
uint32_t srclimit_connections(struct srclimit *sl, const struct sockaddr *sa);

/* Totals since creation, summed over all locks; for STATUS= and SIGUSR1. */
void	srclimit_get_stats(struct srclimit *sl, struct srclimit_stats *st);

/* "connections", "connection_rate", "udp_rate", "udp_bytes", "table_full". */
const char *srclimit_reason_name(enum srclimit_reason reason);

#endif
