/* SPDX-License-Identifier: MIT */
/* udp: datagrams in by the batch, the same datagrams back to their senders. */
#ifndef ECHOD_UDP_H
#define ECHOD_UDP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "generation.h"
#include "guard.h"
#include "loop.h"
#include "refusal_log.h"
#include "stats.h"
#include "view.h"

struct udp_batch;

struct udp_worker {
	struct loop *loop;
	struct guard *guard;
	const struct generation_slot *generations;	/* the one in force */
	struct echo_stats *stats;	/* the worker's totals */
	int id;				/* the worker's: its slot in listener counters */
	struct refusal_log *refusals;	/* every refused datagram is noted here (NULL: none) */
	struct udp_batch *batch;	/* per worker: receive buffers and headers */
};

/* One datagram socket as one worker watches it (see struct listener). */
struct udp_watch {
	struct watcher w;
	struct udp_worker *uw;
	uint16_t local_port;		/* the socket's: no datagram from it is answered */
	/* What the listener serves, and the rules there, in the generation in force. */
	struct generation_cursor served;
	struct listener_stats *ls;	/* the listener's counters (its reference) */
	struct echo_stats *slot;	/* this worker's slot of them */
};

/* id: the worker's; refusals may be NULL. */
int	udp_worker_init(struct udp_worker *uw, struct loop *loop, struct guard *guard,
	    const struct generation_slot *generations, struct echo_stats *stats, int id,
	    struct refusal_log *refusals);
void	udp_worker_fini(struct udp_worker *uw);

/*
 * key: the socket's struct listener, what generations know it by.
 * local: the port fd is bound to (a passed socket's too). A wildcard socket
 * must have had listener_prepare_datagram(): replies leave from the address
 * each datagram was sent to.
 */
int	udp_watch_start(struct udp_watch *watch, struct udp_worker *uw, int fd, uint16_t local,
	    const void *key, struct listener_stats *ls);

/*
 * The one test seam: tests/check_udp_send.c scripts sendmmsg() failures
 * (NULL: sendmmsg() again), since loopback never fills a UDP send buffer.
 * No other caller.
 */
typedef int udp_sendmmsg_fn(int fd, struct mmsghdr *msgs, unsigned int n, int flags);
void	udp_sendmmsg_set(udp_sendmmsg_fn *fn);

/* drain: answer what the socket already holds first (a reload closing it). */
void	udp_watch_stop(struct udp_watch *watch, bool drain);

#endif
