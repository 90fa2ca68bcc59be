/* SPDX-License-Identifier: MIT */
/* stream: echo over stream sockets (TCP and Unix): what workers and the server see of it. */
#ifndef ECHOD_STREAM_H
#define ECHOD_STREAM_H

/*
 * The module is four files: stream_accept.c (a worker's watch on a listening
 * socket: accept, the address dialled, admit), stream_conn.c (one
 * connection: read, echo, back-pressure, half-close, idle timeout),
 * stream_admission.c (what a connection holds while open, refusals, and
 * listeners paused out of descriptors; both others call it, it calls
 * neither) and budget.c (max_buffered_bytes, shared by every worker).
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "acl.h"
#include "budget.h"
#include "generation.h"
#include "guard.h"
#include "loop.h"
#include "refusal_log.h"
#include "stats.h"
#include "view.h"

/* The limits a configuration sets on connections (config/stream_conf.c fills them). */
struct stream_limits {
	long max_connections;
	long idle_timeout;		/* seconds; 0 = never */
	long buffer_size;
	long max_buffered_bytes;
};

/* Limits shared by every worker; the reload path stores new values. */
struct stream_shared {
	_Atomic long max_connections;
	_Atomic long idle_timeout;	/* seconds; 0 = never */
	_Atomic long buffer_size;
	struct budget budget;		/* max_buffered_bytes */
	_Atomic long buffered_peak;	/* most of budget.used seen at once */
	_Atomic long open;		/* connections open in all workers */
	struct refusal_log *refusals;	/* every refusal is noted here (NULL: none) */
};

/* Any thread (start-up, reload): the limits connections read from now on. */
void	stream_shared_set_limits(struct stream_shared *sh, const struct stream_limits *limits);
/* Bytes held for echoes peers have not read yet, all workers: now, and the most at once. */
long	stream_shared_buffered(const struct stream_shared *sh);
long	stream_shared_buffered_peak(const struct stream_shared *sh);

struct stream_conn;

/* One listening stream socket as one worker watches it (see struct listener). */
struct stream_watch {
	struct watcher w;
	struct stream_worker *sw;
	/* What the listener serves, and the ACL there, in the generation in force. */
	struct generation_cursor served;
	struct listener_stats *ls;	/* the listener's counters (its reference) */
	struct echo_stats *slot;	/* this worker's slot of them */
	bool nodelay;			/* TCP, not Unix */
	bool paused;			/* out of descriptors: not in epoll until resumed */
	struct stream_watch *next_paused;
};

/* A worker's stream state. */
struct stream_worker {
	struct loop *loop;
	struct stream_shared *shared;
	struct guard *guard;
	const struct generation_slot *generations;	/* the one in force */
	struct echo_stats *stats;	/* the worker's totals */
	int id;				/* the worker's: its slot in listener counters */
	char *scratch;			/* echo goes through here when the peer keeps up */
	size_t scratch_size;
	struct stream_conn *oldest, *newest;	/* by last activity, for idle timeouts */
	struct stream_watch *paused;
	uint64_t resume_at;		/* when paused watches are tried again (ms) */
	uint64_t pause_logged_at;	/* last "out of descriptors" warning (ms) */
};

int	stream_worker_init(struct stream_worker *sw, struct loop *loop,
	    struct stream_shared *shared, struct guard *guard,
	    const struct generation_slot *generations, struct echo_stats *stats, int id);
/* Closes every connection the worker holds. */
void	stream_worker_fini(struct stream_worker *sw);

/*
 * Start and stop watching a listening socket in this worker; key: its
 * struct listener, what generations know it by. drain: first
 * accept what waits in the backlog (a reload removing the listener must not
 * reset connections clients already made).
 */
int	stream_watch_start(struct stream_watch *watch, struct stream_worker *sw, int fd,
	    bool nodelay, const void *key, struct listener_stats *ls);
void	stream_watch_stop(struct stream_watch *watch, bool drain);

/*
 * Serve a socket accepted on watch from peer (any family; Unix peers are
 * not checked), or close it at once when max_connections, the ACL or a
 * per-source limit refuses it, under policy p. Takes ownership of fd.
 */
void	stream_admit(struct stream_watch *watch, int fd, const struct sockaddr *peer,
	    const struct guard_policy *p, const struct acl *acl);

/*
 * Periodic work: close idle connections, retry paused accepts. Returns the
 * next deadline (ms) it wants, or UINT64_MAX.
 */
uint64_t stream_worker_tick(struct stream_worker *sw, uint64_t now_ms);

/*
 * Between the module's files; nothing outside it calls these.
 *
 * stream_conn_start(): serve fd, admitted already (stream_admit()) on
 * watch; peer: the client (its address is kept for the refusal log when IP);
 * counted: the per-source table counted it. 0, or -1 (fd left open, the
 * admission still held).
 */
int	stream_conn_start(struct stream_watch *watch, int fd, const struct sockaddr *peer,
	    bool counted);
/*
 * stream_admission.c: the checks stream_admit() makes, cheapest first, under
 * policy p and the ACL acl; a refusal is counted and noted. GUARD_PASS or
 * GUARD_PASS_COUNTED: the connection holds an admission (stream_admit_release()).
 */
enum guard_verdict stream_admission_take(struct stream_watch *watch, const struct sockaddr *peer,
	    const struct guard_policy *p, const struct acl *acl);
/* A connection closed: give back what stream_admit() took (counted: as above). */
void	stream_admit_release(struct stream_worker *sw, const struct sockaddr *counted);
/* Out of descriptors: stop watching the listener for a while instead of spinning on it. */
void	stream_watch_pause(struct stream_watch *watch);
/*
 * Watch again the listening sockets paused for want of a descriptor; one
 * that cannot be watched again stays paused, tried again at sw->resume_at.
 */
void	stream_watch_resume(struct stream_worker *sw);
/*
 * Tests only: what stream_watch_resume() calls instead of loop_add(), to
 * script its failures (NULL: loop_add() again). No other caller.
 */
typedef int stream_loop_add_fn(struct loop *loop, struct watcher *w, int fd, uint32_t events,
	    loop_cb *cb, void *arg);
void	stream_resume_add_set(stream_loop_add_fn *fn);
/* Count a refusal (worker totals and slot) and tell the refusal log; peer may be NULL. */
void	stream_refuse(struct stream_worker *sw, struct listener_stats *ls,
	    struct echo_stats *slot, const struct sockaddr *peer, enum refusal_reason why);

/* Count n in the worker's totals and in a listener's slot. */
static inline void
stream_count(struct stream_worker *sw, struct echo_stats *slot, enum stat_id id, uint64_t n)
{
	stats_add(sw->stats, id, n);
	stats_add(slot, id, n);
}

#endif
