/* SPDX-License-Identifier: MIT */
/* tcp: accept, echo with bounded back-pressure, half-close, idle timeout (TCP and Unix). */
#ifndef ECHOD_TCP_H
#define ECHOD_TCP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "acl.h"
#include "view.h"
#include "guard.h"
#include "loop.h"
#include "stats.h"

/* Limits shared by every worker; the reload path stores new values. */
struct tcp_shared {
	_Atomic long max_connections;
	_Atomic long idle_timeout;	/* seconds; 0 = never */
	_Atomic long buffer_size;
	_Atomic long max_buffered;	/* max_buffered_bytes; 0 = no cap */
	_Atomic long buffered;		/* bytes allocated for pending data, all workers */
	_Atomic long open;		/* connections open in all workers */
	_Atomic bool limit_logged;	/* "max_connections reached" said for this episode */
};

struct tcp_conn;

/* One listening stream socket as one worker watches it. */
struct tcp_port {
	struct watcher w;
	struct tcp_worker *tw;
	/* The listener's: what it serves and the ACL there (NULL: all); reload swaps it. */
	_Atomic(const struct listener_view *) *view;
	bool nodelay;			/* TCP, not Unix */
	bool paused;			/* out of descriptors: not in epoll until resumed */
	struct tcp_port *next_paused;
};

/* A worker's TCP state. */
struct tcp_worker {
	struct loop *loop;
	struct tcp_shared *shared;
	struct guard *guard;
	struct echo_stats *stats;
	char *scratch;			/* echo goes through here when the peer keeps up */
	size_t scratch_size;
	struct tcp_conn *oldest, *newest;	/* by last activity, for idle timeouts */
	struct tcp_port *paused;
	uint64_t resume_at;		/* when paused ports are tried again (ms) */
	uint64_t pause_logged_at;	/* last "out of descriptors" warning (ms) */
};

int	tcp_worker_init(struct tcp_worker *tw, struct loop *loop, struct tcp_shared *shared,
	    struct guard *guard, struct echo_stats *stats);
/* Closes every connection the worker holds. */
void	tcp_worker_fini(struct tcp_worker *tw);

/*
 * Start and stop watching a listening socket in this worker. drain: first
 * accept what waits in the backlog (a reload removing the listener must not
 * reset connections clients already made).
 */
int	tcp_port_start(struct tcp_port *port, struct tcp_worker *tw, int fd, bool nodelay,
	    _Atomic(const struct listener_view *) *view);
void	tcp_port_stop(struct tcp_port *port, bool drain);

/*
 * Serve an accepted stream socket from peer (any family; Unix peers are not
 * checked), or close it at once when max_connections, the ACL or a
 * per-source limit refuses it. Takes ownership of fd.
 */
void	tcp_conn_start(struct tcp_worker *tw, int fd, bool nodelay, const struct sockaddr *peer,
	    const struct acl *acl);

/*
 * Periodic work: close idle connections, retry paused accepts. Returns the
 * next deadline (ms) it wants, or UINT64_MAX.
 */
uint64_t tcp_worker_tick(struct tcp_worker *tw, uint64_t now_ms);

#endif
