/* SPDX-License-Identifier: MIT */
/* stream_conn: one stream connection: read, echo, back-pressure, half-close, idle timeout. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "stream.h"

/* The largest single read; also what a worker's scratch buffer holds. */
#define STREAM_SCRATCH_SIZE	(256 * 1024)
/* Reads per readiness event before yielding to other sockets (fairness). */
#define STREAM_READ_BUDGET	8
/* First allocation for bytes a peer has not read yet; grows up to buffer_size. */
#define STREAM_PENDING_MIN	4096

/* Bytes received but not yet sent back: exists only while the peer is not reading. */
struct pending {
	size_t start, end, cap;
	char data[];
};

/* Kept small: an idle connection costs this struct and nothing else. */
struct stream_conn {
	struct watcher w;
	struct stream_worker *sw;
	struct stream_conn *older, *newer;
	struct pending *pend;
	struct listener_stats *ls;	/* its listener's counters (referenced: may outlive it) */
	struct echo_stats *slot;	/* this worker's slot of them */
	uint32_t active_s;		/* loop time, seconds, of the last traffic */
	bool eof;			/* the peer half-closed: flush, then close */
	bool counted;			/* in the per-source table: tell it at close */
	bool capped;			/* reading held back by max_buffered_bytes */
	bool inet;			/* peer is known (an IP client, not Unix) */
	struct sockaddr_in6 peer;	/* when inet: the client (IPv4 as ::ffff:a.b.c.d) */
};

static void conn_cb(int fd, uint32_t events, void *arg);

static size_t
pending_len(const struct stream_conn *c)
{
	return c->pend != NULL ? c->pend->end - c->pend->start : 0;
}

static void
lru_unlink(struct stream_worker *sw, struct stream_conn *c)
{
	if (c->older != NULL)
		c->older->newer = c->newer;
	else
		sw->oldest = c->newer;
	if (c->newer != NULL)
		c->newer->older = c->older;
	else
		sw->newest = c->older;
	c->older = c->newer = NULL;
}

static void
lru_append(struct stream_worker *sw, struct stream_conn *c)
{
	c->older = sw->newest;
	c->newer = NULL;
	if (sw->newest != NULL)
		sw->newest->newer = c;
	else
		sw->oldest = c;
	sw->newest = c;
}

/* At most one list move per connection per second, whatever the traffic. */
static void
conn_touch(struct stream_conn *c)
{
	uint32_t now_s = (uint32_t)(loop_now(c->sw->loop) / 1000);

	if (c->active_s == now_s)
		return;
	c->active_s = now_s;
	lru_unlink(c->sw, c);
	lru_append(c->sw, c);
}

static void
pending_free(struct stream_conn *c)
{
	if (c->pend == NULL)
		return;
	budget_give(&c->sw->shared->budget, c->pend->cap);
	free(c->pend);
	c->pend = NULL;
}

/*
 * Over max_buffered_bytes, a connection with nothing pending may still read
 * what its socket can send at once: an echo that leaves at once needs no
 * memory of ours, so a client that reads is not held back by those that do
 * not. Half the free space: the kernel charges a buffer for more than its
 * payload. Two system calls, made only while the cap is reached.
 */
static size_t
sndbuf_room(int fd)
{
	int sndbuf, queued;
	socklen_t len = sizeof(sndbuf);

	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len) == -1 ||
	    ioctl(fd, SIOCOUTQ, &queued) == -1 || sndbuf <= queued)
		return 0;
	return (size_t)(sndbuf - queued) / 2;
}

/* Held back by max_buffered_bytes: a refusal of sorts, counted and noted once per episode. */
static void
conn_set_capped(struct stream_conn *c, bool capped)
{
	if (capped && !c->capped)
		stream_refuse(c->sw, c->ls, c->slot, c->inet ? (struct sockaddr *)&c->peer : NULL,
		    REFUSAL_MAX_BUFFERED);
	c->capped = capped;
}

/* Remember the most ever held, for statistics; only on the buffering slow path. */
static void
note_buffered(struct stream_shared *sh)
{
	long used = budget_used(&sh->budget);
	long peak = atomic_load_explicit(&sh->buffered_peak, memory_order_relaxed);

	while (used > peak && !atomic_compare_exchange_weak_explicit(&sh->buffered_peak, &peak,
	    used, memory_order_relaxed, memory_order_relaxed))
		continue;
}

static void
conn_close(struct stream_conn *c)
{
	struct stream_worker *sw = c->sw;

	/* close() also takes the fd out of epoll: it is never duplicated. */
	close(c->w.fd);
	lru_unlink(sw, c);
	pending_free(c);
	stream_count(sw, c->slot, STAT_connections_open, (uint64_t)-1);
	stream_count(sw, c->slot, STAT_connections_closed, 1);
	listener_stats_release(c->ls);
	stream_admit_release(sw, c->counted ? (const struct sockaddr *)&c->peer : NULL);
	free(c);
}

/*
 * Room for at least one byte after the pending data, up to buffer_size in all
 * and within max_buffered_bytes. Returns 0 when neither allows more.
 */
static size_t
pending_room(struct stream_conn *c, size_t limit)
{
	struct pending *p = c->pend, *grown;
	size_t len = pending_len(c), cap, left;

	if (len >= limit)
		return 0;
	if (p->start > 0 && p->end == p->cap) {
		memmove(p->data, p->data + p->start, len);
		p->start = 0;
		p->end = len;
	}
	if (p->end == p->cap) {
		cap = p->cap * 2 > limit ? limit : p->cap * 2;
		/* Near the global cap, grow by what is left rather than not at all. */
		left = budget_left(&c->sw->shared->budget);
		if (cap - p->cap > left)
			cap = p->cap + left;
		if (cap <= p->cap || !budget_take(&c->sw->shared->budget, cap - p->cap))
			return 0;
		grown = realloc(p, sizeof(*p) + cap);
		if (grown == NULL) {
			budget_give(&c->sw->shared->budget, cap - p->cap);
			return 0;
		}
		p = c->pend = grown;
		p->cap = cap;
		note_buffered(c->sw->shared);
	}
	return p->cap - p->end < limit - len ? p->cap - p->end : limit - len;
}

/* Keep what the peer did not take yet (nothing is pending: a new buffer). */
static int
pending_keep(struct stream_conn *c, const char *data, size_t len, size_t limit)
{
	size_t cap = len > STREAM_PENDING_MIN ? len : STREAM_PENDING_MIN;
	size_t left = budget_left(&c->sw->shared->budget);
	struct pending *p;

	if (cap > limit)
		cap = limit > len ? limit : len;
	/*
	 * The room beyond len is a convenience: it must not take the budget
	 * over max_buffered_bytes (len itself was read within what was left).
	 */
	if (cap > left)
		cap = left > len ? left : len;
	p = malloc(sizeof(*p) + cap);
	if (p == NULL)
		return -1;
	budget_force(&c->sw->shared->budget, cap);
	note_buffered(c->sw->shared);
	p->start = 0;
	p->end = len;
	p->cap = cap;
	memcpy(p->data, data, len);
	c->pend = p;
	return 0;
}

/* May the connection read now without breaking buffer_size or max_buffered_bytes? */
static bool
conn_has_room(const struct stream_conn *c, size_t limit)
{
	const struct pending *p = c->pend;

	if (p == NULL)
		return budget_left(&c->sw->shared->budget) > 0 || sndbuf_room(c->w.fd) > 0;
	if (p->end - p->start >= limit)
		return false;
	return p->cap > p->end - p->start || budget_left(&c->sw->shared->budget) > 0;
}

/* Send what is pending; free the buffer once the peer has taken it all. */
static int
conn_flush(struct stream_conn *c)
{
	struct pending *p = c->pend;

	while (p != NULL && p->end > p->start) {
		ssize_t n = send(c->w.fd, p->data + p->start, p->end - p->start, MSG_NOSIGNAL);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -1;
		}
		p->start += (size_t)n;
		stream_count(c->sw, c->slot, STAT_echoed_bytes, (uint64_t)n);
	}
	pending_free(c);
	return 0;
}

/*
 * Nothing pending: echo straight from the worker's scratch buffer. Reads at
 * most what could be kept if the peer took none of it (buffer_size, and what
 * is left of max_buffered_bytes) or, near that cap, what can be sent at once.
 */
static int
read_direct(struct stream_conn *c, size_t limit, bool *more)
{
	struct stream_worker *sw = c->sw;
	size_t want = sw->scratch_size < limit ? sw->scratch_size : limit;
	size_t left = budget_left(&sw->shared->budget), room;
	ssize_t n, sent;

	if (want > left) {
		room = sndbuf_room(c->w.fd);
		if (room < left)
			room = left;
		if (want > room)
			want = room;
	}
	if (want == 0) {
		*more = false;
		return 1;
	}
	n = recv(c->w.fd, sw->scratch, want, 0);
	if (n <= 0)
		return n;
	sent = send(c->w.fd, sw->scratch, (size_t)n, MSG_NOSIGNAL);
	if (sent == -1) {
		if (errno != EAGAIN)
			return -1;
		sent = 0;
	}
	stream_count(sw, c->slot, STAT_echoed_bytes, (uint64_t)sent);
	if (sent < n && pending_keep(c, sw->scratch + sent, (size_t)(n - sent), limit) == -1)
		return -1;
	/* A short read means the socket is (almost surely) empty: skip the EAGAIN call. */
	*more = (size_t)n == want && sent == n;
	return 1;
}

/* Something pending: keep order by reading behind it, up to buffer_size. */
static int
read_behind_pending(struct stream_conn *c, size_t limit, bool *more)
{
	size_t room = pending_room(c, limit);
	ssize_t n;

	*more = false;
	if (room == 0)
		return 1;
	n = recv(c->w.fd, c->pend->data + c->pend->end, room, 0);
	if (n <= 0)
		return n;
	c->pend->end += (size_t)n;
	return conn_flush(c) == -1 ? -1 : 1;
}

/* Returns 0, or -1 when the connection must be closed. Sets eof on FIN. */
static int
conn_read(struct stream_conn *c)
{
	size_t limit = (size_t)atomic_load_explicit(&c->sw->shared->buffer_size,
	    memory_order_relaxed);
	bool more = true;

	for (int budget = STREAM_READ_BUDGET; more && budget > 0; budget--) {
		int r = c->pend == NULL ? read_direct(c, limit, &more) :
		    read_behind_pending(c, limit, &more);

		if (r == 0) {
			c->eof = true;
			return 0;
		}
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -1;
		}
	}
	return 0;
}

/*
 * Level-triggered: read only while there is room. A connection held back by
 * buffer_size or max_buffered_bytes waits for EPOLLOUT: its peer took some
 * echo, so pending data shrank or, with nothing pending, the socket's send
 * buffer has room again (then sndbuf_room() > 0: no busy loop).
 */
static uint32_t
conn_wanted_events(struct stream_conn *c)
{
	size_t limit = (size_t)atomic_load_explicit(&c->sw->shared->buffer_size,
	    memory_order_relaxed);
	size_t len = pending_len(c);
	bool capped = false;
	uint32_t ev = 0;

	if (!c->eof && len < limit) {
		if (conn_has_room(c, limit))
			ev |= EPOLLIN;
		else
			capped = true;
	}
	conn_set_capped(c, capped);
	if (len > 0 || capped)
		ev |= EPOLLOUT;
	return ev;
}

static void
conn_cb(int fd, uint32_t events, void *arg)
{
	struct stream_conn *c = arg;

	/* ERR: reset or failed; HUP: both directions shut, nothing can be delivered. */
	if (events & (EPOLLERR | EPOLLHUP))
		goto close;
	if ((events & EPOLLOUT) && conn_flush(c) == -1)
		goto close;
	if ((events & EPOLLIN) && !c->eof && conn_read(c) == -1)
		goto close;
	if (c->eof && c->pend == NULL)
		goto close;
	conn_touch(c);
	if (loop_mod(c->sw->loop, &c->w, conn_wanted_events(c)) == -1)
		goto close;
	return;
close:
	if (log_enabled(LOG_DEBUG))
		log_debug("connection fd %d closed%s", fd, c->eof ? " after half-close" : "");
	conn_close(c);
}

/* The source as the per-source table knows it, in a fixed small size. */
static void
conn_keep_peer(struct stream_conn *c, const struct sockaddr *peer)
{
	memset(&c->peer, 0, sizeof(c->peer));
	c->peer.sin6_family = AF_INET6;
	(void)addr_to_v6(peer, c->peer.sin6_addr.s6_addr);
}

int
stream_conn_start(struct stream_watch *watch, int fd, const struct sockaddr *peer, bool counted)
{
	struct stream_worker *sw = watch->sw;
	struct stream_conn *c;
	int on = 1;

	/* Echo is request/response: Nagle plus delayed ACK would stall every reply. */
	if (watch->nodelay)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	c = calloc(1, sizeof(*c));
	if (c == NULL || loop_add(sw->loop, &c->w, fd, EPOLLIN, conn_cb, c) == -1) {
		log_warn("cannot take connection");
		free(c);
		return -1;
	}
	c->sw = sw;
	c->active_s = (uint32_t)(loop_now(sw->loop) / 1000);
	c->counted = counted;
	if (peer->sa_family == AF_INET || peer->sa_family == AF_INET6) {
		c->inet = true;
		conn_keep_peer(c, peer);
	}
	listener_stats_hold(watch->ls);
	c->ls = watch->ls;
	c->slot = watch->slot;
	lru_append(sw, c);
	stream_count(sw, c->slot, STAT_connections_open, 1);
	stream_count(sw, c->slot, STAT_connections_accepted, 1);
	/* Under max_buffered_bytes it may have to wait before reading at all. */
	if (loop_mod(sw->loop, &c->w, conn_wanted_events(c)) == -1)
		log_warn("connection fd %d", fd);
	return 0;
}

void
stream_shared_set_limits(struct stream_shared *sh, const struct stream_limits *limits)
{
	atomic_store(&sh->max_connections, limits->max_connections);
	atomic_store(&sh->idle_timeout, limits->idle_timeout);
	atomic_store(&sh->buffer_size, limits->buffer_size);
	budget_set_max(&sh->budget, limits->max_buffered_bytes);
}

long
stream_shared_buffered(const struct stream_shared *sh)
{
	return budget_used(&sh->budget);
}

long
stream_shared_buffered_peak(const struct stream_shared *sh)
{
	return atomic_load_explicit(&sh->buffered_peak, memory_order_relaxed);
}

int
stream_worker_init(struct stream_worker *sw, struct loop *loop, struct stream_shared *shared,
    struct guard *guard, const struct generation_slot *generations, struct echo_stats *stats,
    int id)
{
	memset(sw, 0, sizeof(*sw));
	sw->id = id;
	sw->loop = loop;
	sw->shared = shared;
	sw->guard = guard;
	sw->generations = generations;
	sw->stats = stats;
	sw->scratch_size = STREAM_SCRATCH_SIZE;
	sw->scratch = malloc(sw->scratch_size);
	return sw->scratch == NULL ? -1 : 0;
}

void
stream_worker_fini(struct stream_worker *sw)
{
	while (sw->oldest != NULL)
		conn_close(sw->oldest);
	free(sw->scratch);
	sw->scratch = NULL;
}

uint64_t
stream_worker_tick(struct stream_worker *sw, uint64_t now_ms)
{
	long timeout = atomic_load_explicit(&sw->shared->idle_timeout, memory_order_relaxed);
	uint32_t now_s = (uint32_t)(now_ms / 1000);
	uint64_t next = UINT64_MAX;

	if (sw->paused != NULL && now_ms >= sw->resume_at)
		stream_watch_resume(sw);
	if (sw->paused != NULL)
		next = sw->resume_at;
	/*
	 * No connection, nothing to time out: sleep until one comes (the hook
	 * runs after the event that accepts it, and arms the tick again).
	 */
	if (timeout <= 0 || sw->oldest == NULL)
		return next;
	/* Whole seconds on both sides: "more than timeout" guarantees at least timeout idle. */
	while (sw->oldest != NULL && now_s - sw->oldest->active_s > (uint32_t)timeout) {
		log_debug("connection fd %d idle for %ld s: closed", sw->oldest->w.fd, timeout);
		conn_close(sw->oldest);
	}
	/* Once a second is enough: timeouts are whole seconds. */
	return next < (now_s + 1) * (uint64_t)1000 ? next : (now_s + 1) * (uint64_t)1000;
}
