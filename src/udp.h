/* SPDX-License-Identifier: MIT */
/* udp: datagrams in by the batch, the same datagrams back to their senders. */
#ifndef ECHOD_UDP_H
#define ECHOD_UDP_H

#include <stdatomic.h>
#include <stdint.h>

#include "acl.h"
#include "view.h"
#include "guard.h"
#include <sys/socket.h>

#include "loop.h"
#include "stats.h"

struct udp_batch;

struct udp_worker {
	struct loop *loop;
	struct guard *guard;
	struct echo_stats *stats;
	struct udp_batch *batch;	/* per worker: receive buffers and headers */
};

struct udp_port {
	struct watcher w;
	struct udp_worker *uw;
	uint16_t port;			/* the socket's: no datagram from it is answered */
	/* The listener's: what it serves and the ACL there (NULL: all); reload swaps it. */
	_Atomic(const struct listener_view *) *view;
};

int	udp_worker_init(struct udp_worker *uw, struct loop *loop, struct guard *guard,
	    struct echo_stats *stats);
void	udp_worker_fini(struct udp_worker *uw);

/*
 * On a socket bound to a wildcard address, ask the kernel for each
 * datagram's destination, so that replies leave from it. A socket bound to
 * one address replies from it anyway: nothing to do (no per-datagram cmsg).
 */
int	udp_socket_prepare(int fd, const struct sockaddr *bound);

/* local: the port fd is bound to (a passed socket's too). */
int	udp_port_start(struct udp_port *port, struct udp_worker *uw, int fd, uint16_t local,
	    _Atomic(const struct listener_view *) *view);

/*
 * Count a datagram that will not be answered, by the guard's reason (or a
 * failed send: GUARD_PASS). Exposed for the fuzzing harness.
 */
void	udp_count_drop(struct echo_stats *stats, enum guard_verdict why);
/*
 * The one test seam: tests/check_udp_send.c scripts sendmmsg() failures
 * (NULL: sendmmsg() again), since loopback never fills a UDP send buffer.
 * No other caller.
 */
typedef int udp_sendmmsg_fn(int fd, struct mmsghdr *msgs, unsigned int n, int flags);
void	udp_sendmmsg_set(udp_sendmmsg_fn *fn);

/* drain: answer what the socket already holds first (a reload closing it). */
void	udp_port_stop(struct udp_port *port, bool drain);

#endif
