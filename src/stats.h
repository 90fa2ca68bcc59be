/* SPDX-License-Identifier: MIT */
/* stats: counters each worker keeps for itself; summed for status lines. */
#ifndef ECHOD_STATS_H
#define ECHOD_STATS_H

#include <stdatomic.h>
#include <stdint.h>

/*
 * One writer (the worker that owns the counters), any number of readers.
 * Relaxed load + store instead of an atomic add: no locked instruction on the
 * hot path, and readers still never see a torn value.
 */
struct echo_stats {
	_Atomic uint64_t tcp_open;		/* connections open now */
	_Atomic uint64_t tcp_accepted;		/* connections accepted since start */
	_Atomic uint64_t tcp_refused;		/* closed at once: max_connections reached */
	_Atomic uint64_t tcp_denied;		/* closed at once: allow/deny */
	_Atomic uint64_t tcp_limited;		/* closed at once: a per-source limit */
	_Atomic uint64_t tcp_unlisted;		/* reset at once: local address not configured */
	_Atomic uint64_t tcp_starved;		/* reading stopped by max_buffered_bytes */
	_Atomic uint64_t tcp_bytes;		/* bytes echoed over TCP and Unix streams */
	_Atomic uint64_t udp_datagrams;		/* datagrams echoed */
	_Atomic uint64_t udp_bytes;		/* bytes echoed over UDP */
	_Atomic uint64_t udp_dropped;		/* datagrams not echoed, whatever the reason */
	_Atomic uint64_t udp_denied;		/* of which: allow/deny */
	/* source port: 0, below udp_min_source_port, a listener's, udp_drop_source_ports */
	_Atomic uint64_t udp_source_port;
	_Atomic uint64_t udp_oversize;		/* over max_datagram */
	_Atomic uint64_t udp_limited;		/* a per-source limit */
	_Atomic uint64_t udp_send_failed;	/* the reply could not be sent */
	_Atomic uint64_t udp_unlisted;		/* local address not in the configuration */
};

#define STAT_ADD(field, n) atomic_store_explicit(&(field),			\
	atomic_load_explicit(&(field), memory_order_relaxed) + (uint64_t)(n),	\
	memory_order_relaxed)
#define STAT_SUB(field, n) STAT_ADD(field, -(uint64_t)(n))
#define STAT_GET(field) atomic_load_explicit(&(field), memory_order_relaxed)

/* A plain snapshot, for reporting. */
struct echo_totals {
	uint64_t tcp_open, tcp_accepted, tcp_refused, tcp_denied, tcp_limited, tcp_starved;
	uint64_t tcp_unlisted, udp_unlisted;
	uint64_t tcp_bytes;
	uint64_t udp_datagrams, udp_bytes, udp_dropped, udp_denied, udp_source_port;
	uint64_t udp_oversize, udp_limited, udp_send_failed;
};

void	stats_accumulate(struct echo_totals *sum, const struct echo_stats *one);

#endif
