/* SPDX-License-Identifier: MIT */
/* tcp: accept, echo with bounded back-pressure, half-close, idle timeout (TCP and Unix). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "tcp.h"

/* The largest single read; also what a worker's scratch buffer holds. */
#define TCP_SCRATCH_SIZE	(256 * 1024)
/* Reads per readiness event before yielding to other sockets (fairness). */
#define TCP_READ_BUDGET		8
/* Connections accepted per readiness event before yielding. */
#define TCP_ACCEPT_BUDGET	64
/* First allocation for bytes a peer has not read yet; grows up to buffer_size. */
#define TCP_PENDING_MIN		4096
/* At most this many connections taken from a listener's backlog as it is removed. */
#define TCP_DRAIN_MAX		4096
/* Out of descriptors: how long a paused listener waits before it tries again. */
#define TCP_ACCEPT_RETRY_MS	100

/* Bytes received but not yet sent back: exists only while the peer is not reading. */
struct pending {
	size_t start, end, cap;
	char data[];
};

/* Kept small: an idle connection costs this struct and nothing else. */
struct tcp_conn {
	struct watcher w;
	struct tcp_worker *tw;
	struct tcp_conn *older, *newer;
	struct pending *pend;
	uint32_t active_s;		/* loop time, seconds, of the last traffic */
	bool eof;			/* the peer half-closed: flush, then close */
	bool counted;			/* in the per-source table: tell it at close */
	bool capped;			/* reading held back by max_buffered_bytes */
	struct sockaddr_in6 peer;	/* when counted: the source (IPv4 as ::ffff:a.b.c.d) */
};

static void conn_cb(int fd, uint32_t events, void *arg);

static size_t
pending_len(const struct tcp_conn *c)
{
	return c->pend != NULL ? c->pend->end - c->pend->start : 0;
}

static void
lru_unlink(struct tcp_worker *tw, struct tcp_conn *c)
{
	if (c->older != NULL)
		c->older->newer = c->newer;
	else
		tw->oldest = c->newer;
	if (c->newer != NULL)
		c->newer->older = c->older;
	else
		tw->newest = c->older;
	c->older = c->newer = NULL;
}

static void
lru_append(struct tcp_worker *tw, struct tcp_conn *c)
{
	c->older = tw->newest;
	c->newer = NULL;
	if (tw->newest != NULL)
		tw->newest->newer = c;
	else
		tw->oldest = c;
	tw->newest = c;
}

/* At most one list move per connection per second, whatever the traffic. */
static void
conn_touch(struct tcp_conn *c)
{
	uint32_t now_s = (uint32_t)(loop_now(c->tw->loop) / 1000);

	if (c->active_s == now_s)
		return;
	c->active_s = now_s;
	lru_unlink(c->tw, c);
	lru_append(c->tw, c);
}

static void
resume_paused(struct tcp_worker *tw)
{
	struct tcp_port *port;

	while ((port = tw->paused) != NULL) {
		tw->paused = port->next_paused;
		port->next_paused = NULL;
		port->paused = false;
		if (loop_add(tw->loop, &port->w, port->w.fd, EPOLLIN | EPOLLEXCLUSIVE,
		    port->w.cb, port) == -1)
			log_warn("cannot watch listening socket again");
	}
}

/*
 * max_buffered_bytes: the memory of every pending buffer is charged to one
 * counter shared by all workers. Only the buffering slow path touches it;
 * the common case (the peer reads, nothing is pending) reads it once per read.
 */
static size_t
budget_left(const struct tcp_shared *sh)
{
	long max = atomic_load_explicit(&sh->max_buffered, memory_order_relaxed);
	long used = atomic_load_explicit(&sh->buffered, memory_order_relaxed);

	if (max == 0)
		return SIZE_MAX;
	return used >= max ? 0 : (size_t)(max - used);
}

/* Take bytes of the budget, or fail without taking any. */
static bool
budget_take(struct tcp_shared *sh, size_t bytes)
{
	long max = atomic_load_explicit(&sh->max_buffered, memory_order_relaxed);
	long used = atomic_load_explicit(&sh->buffered, memory_order_relaxed);

	do {
		if (max != 0 && used + (long)bytes > max)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&sh->buffered, &used, used + (long)bytes,
	    memory_order_relaxed, memory_order_relaxed));
	return true;
}

/*
 * Bytes already read must be kept whatever the budget says. The reader
 * checked budget_left() before reading at most that much, so the counter
 * overshoots only by what other workers took in the same instant.
 */
static void
budget_force(struct tcp_shared *sh, size_t bytes)
{
	atomic_fetch_add_explicit(&sh->buffered, (long)bytes, memory_order_relaxed);
}

static void
budget_give(struct tcp_shared *sh, size_t bytes)
{
	atomic_fetch_sub_explicit(&sh->buffered, (long)bytes, memory_order_relaxed);
}

static void
pending_free(struct tcp_conn *c)
{
	if (c->pend == NULL)
		return;
	budget_give(c->tw->shared, c->pend->cap);
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

static void
conn_set_capped(struct tcp_conn *c, bool capped)
{
	if (capped && !c->capped)
		STAT_ADD(c->tw->stats->tcp_starved, 1);
	c->capped = capped;
}

static void
conn_close(struct tcp_conn *c)
{
	struct tcp_worker *tw = c->tw;

	/* close() also takes the fd out of epoll: it is never duplicated. */
	close(c->w.fd);
	lru_unlink(tw, c);
	pending_free(c);
	if (c->counted)
		guard_connection_closed(tw->guard, (const struct sockaddr *)&c->peer);
	free(c);
	STAT_SUB(tw->stats->tcp_open, 1);
	if (atomic_fetch_sub(&tw->shared->open, 1) <= atomic_load(&tw->shared->max_connections))
		atomic_store(&tw->shared->limit_logged, false);
	/* A descriptor was just freed: a listener paused for want of one may go on. */
	if (tw->paused != NULL)
		resume_paused(tw);
}

/*
 * Room for at least one byte after the pending data, up to buffer_size in all
 * and within max_buffered_bytes. Returns 0 when neither allows more.
 */
static size_t
pending_room(struct tcp_conn *c, size_t limit)
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
		left = budget_left(c->tw->shared);
		if (cap - p->cap > left)
			cap = p->cap + left;
		if (cap <= p->cap || !budget_take(c->tw->shared, cap - p->cap))
			return 0;
		grown = realloc(p, sizeof(*p) + cap);
		if (grown == NULL) {
			budget_give(c->tw->shared, cap - p->cap);
			return 0;
		}
		p = c->pend = grown;
		p->cap = cap;
	}
	return p->cap - p->end < limit - len ? p->cap - p->end : limit - len;
}

/* Keep what the peer did not take yet (nothing is pending: a new buffer). */
static int
pending_keep(struct tcp_conn *c, const char *data, size_t len, size_t limit)
{
	size_t cap = len > TCP_PENDING_MIN ? len : TCP_PENDING_MIN;
	struct pending *p;

	if (cap > limit)
		cap = limit > len ? limit : len;
	p = malloc(sizeof(*p) + cap);
	if (p == NULL)
		return -1;
	budget_force(c->tw->shared, cap);
	p->start = 0;
	p->end = len;
	p->cap = cap;
	memcpy(p->data, data, len);
	c->pend = p;
	return 0;
}

/* May the connection read now without breaking buffer_size or max_buffered_bytes? */
static bool
conn_has_room(const struct tcp_conn *c, size_t limit)
{
	const struct pending *p = c->pend;

	if (p == NULL)
		return budget_left(c->tw->shared) > 0 || sndbuf_room(c->w.fd) > 0;
	if (p->end - p->start >= limit)
		return false;
	return p->cap > p->end - p->start || budget_left(c->tw->shared) > 0;
}

/* Send what is pending; free the buffer once the peer has taken it all. */
static int
conn_flush(struct tcp_conn *c)
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
		STAT_ADD(c->tw->stats->tcp_bytes, n);
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
read_direct(struct tcp_conn *c, size_t limit, bool *more)
{
	struct tcp_worker *tw = c->tw;
	size_t want = tw->scratch_size < limit ? tw->scratch_size : limit;
	size_t left = budget_left(tw->shared), room;
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
	n = recv(c->w.fd, tw->scratch, want, 0);
	if (n <= 0)
		return n;
	sent = send(c->w.fd, tw->scratch, (size_t)n, MSG_NOSIGNAL);
	if (sent == -1) {
		if (errno != EAGAIN)
			return -1;
		sent = 0;
	}
	STAT_ADD(tw->stats->tcp_bytes, sent);
	if (sent < n && pending_keep(c, tw->scratch + sent, (size_t)(n - sent), limit) == -1)
		return -1;
	/* A short read means the socket is (almost surely) empty: skip the EAGAIN call. */
	*more = (size_t)n == want && sent == n;
	return 1;
}

/* Something pending: keep order by reading behind it, up to buffer_size. */
static int
read_behind_pending(struct tcp_conn *c, size_t limit, bool *more)
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
conn_read(struct tcp_conn *c)
{
	size_t limit = (size_t)atomic_load_explicit(&c->tw->shared->buffer_size,
	    memory_order_relaxed);
	bool more = true;

	for (int budget = TCP_READ_BUDGET; more && budget > 0; budget--) {
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
conn_wanted_events(struct tcp_conn *c)
{
	size_t limit = (size_t)atomic_load_explicit(&c->tw->shared->buffer_size,
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
	struct tcp_conn *c = arg;

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
	if (loop_mod(c->tw->loop, &c->w, conn_wanted_events(c)) == -1)
		goto close;
	return;
close:
	if (log_enabled(LOG_DEBUG))
		log_debug("connection fd %d closed%s", fd, c->eof ? " after half-close" : "");
	conn_close(c);
}

static void
conn_log_accepted(int fd, const struct sockaddr *peer, socklen_t len)
{
	char text[ADDR_STRLEN], field[ADDR_STRLEN + 12];
	const char *fields[] = { field, NULL };

	snprintf(field, sizeof(field), "ECHOD_PEER=%s", addr_format(peer, len, text,
	    sizeof(text)));
	log_struct(LOG_DEBUG, NULL, fields, "connection fd %d from %s", fd, text);
}

static int
over_connection_limit(struct tcp_worker *tw)
{
	struct tcp_shared *sh = tw->shared;
	long max = atomic_load_explicit(&sh->max_connections, memory_order_relaxed);

	if (atomic_fetch_add(&sh->open, 1) < max)
		return 0;
	atomic_fetch_sub(&sh->open, 1);
	STAT_ADD(tw->stats->tcp_refused, 1);
	if (!atomic_exchange(&sh->limit_logged, true)) {
		char field[48];
		const char *fields[] = { field, NULL };

		snprintf(field, sizeof(field), "ECHOD_LIMIT=max_connections");
		log_struct(LOG_WARNING, ECHOD_MSGID_LIMIT_REACHED, fields,
		    "max_connections (%ld) reached: new connections are closed at once", max);
	}
	return 1;
}

/* The source as the per-source table knows it, in a fixed small size. */
static void
conn_keep_peer(struct tcp_conn *c, const struct sockaddr *peer)
{
	memset(&c->peer, 0, sizeof(c->peer));
	c->peer.sin6_family = AF_INET6;
	if (peer->sa_family == AF_INET6) {
		c->peer.sin6_addr = ((const struct sockaddr_in6 *)(const void *)peer)->sin6_addr;
	} else {
		c->peer.sin6_addr.s6_addr[10] = 0xff;
		c->peer.sin6_addr.s6_addr[11] = 0xff;
		memcpy(&c->peer.sin6_addr.s6_addr[12],
		    &((const struct sockaddr_in *)(const void *)peer)->sin_addr, 4);
	}
}

/* Checks cheapest first; max_connections last, so refused peers never trigger its warning. */
static enum guard_verdict
conn_admit(struct tcp_worker *tw, const struct sockaddr *peer, const struct acl *acl)
{
	enum guard_verdict v = guard_connection(tw->guard, acl, peer, loop_now(tw->loop));

	switch (v) {
	case GUARD_PASS:
	case GUARD_PASS_COUNTED:
		break;
	case GUARD_DENIED:
		STAT_ADD(tw->stats->tcp_denied, 1);
		return v;
	default:
		STAT_ADD(tw->stats->tcp_limited, 1);
		return v;
	}
	if (over_connection_limit(tw)) {
		if (v == GUARD_PASS_COUNTED)
			guard_connection_closed(tw->guard, peer);
		return GUARD_LIMITED;
	}
	return v;
}

void
tcp_conn_start(struct tcp_worker *tw, int fd, bool nodelay, const struct sockaddr *peer,
    const struct acl *acl)
{
	enum guard_verdict v = conn_admit(tw, peer, acl);
	struct tcp_conn *c;
	int on = 1;

	if (v != GUARD_PASS && v != GUARD_PASS_COUNTED) {
		close(fd);
		return;
	}
	/* Echo is request/response: Nagle plus delayed ACK would stall every reply. */
	if (nodelay)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	c = calloc(1, sizeof(*c));
	if (c == NULL || loop_add(tw->loop, &c->w, fd, EPOLLIN, conn_cb, c) == -1) {
		log_warn("cannot take connection");
		if (v == GUARD_PASS_COUNTED)
			guard_connection_closed(tw->guard, peer);
		free(c);
		close(fd);
		atomic_fetch_sub(&tw->shared->open, 1);
		return;
	}
	c->tw = tw;
	c->active_s = (uint32_t)(loop_now(tw->loop) / 1000);
	if (v == GUARD_PASS_COUNTED) {
		c->counted = true;
		conn_keep_peer(c, peer);
	}
	lru_append(tw, c);
	STAT_ADD(tw->stats->tcp_open, 1);
	STAT_ADD(tw->stats->tcp_accepted, 1);
	/* Under max_buffered_bytes it may have to wait before reading at all. */
	if (loop_mod(tw->loop, &c->w, conn_wanted_events(c)) == -1)
		log_warn("connection fd %d", fd);
}

/*
 * Is the address the peer dialled one the configuration lists? Only a
 * narrowed listener (a socket systemd passed that the file narrowed or no
 * longer names) needs to ask the kernel. Sets *acl to the ACL in force there.
 */
static bool
conn_local_listed(int cfd, const struct listener_view *view, const struct acl **acl)
{
	const struct listener_spec *served = NULL;
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	bool listed;

	if (!view_is_narrowed(view))
		listed = view_allows(view, NULL, &served);
	else if (view->n == 0 || getsockname(cfd, (struct sockaddr *)&local, &len) == -1)
		return false;
	else
		listed = view_allows(view, (struct sockaddr *)&local, &served);
	*acl = served != NULL ? &served->acl : NULL;
	return listed;
}

/* A reset, not a FIN: the client learns at once that nothing is served there. */
static void
conn_reset(int fd)
{
	struct linger lg = { 1, 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* accept4() with the peer's address; the view in force is read once per connection. */
static int
port_accept(struct tcp_port *port)
{
	const struct listener_view *view = atomic_load_explicit(port->view, memory_order_acquire);
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	const struct acl *acl;
	int cfd = accept4(port->w.fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (cfd == -1)
		return -1;
	if (len < sizeof(sa_family_t) || len > sizeof(ss))
		ss.ss_family = AF_UNSPEC;
	if (!conn_local_listed(cfd, view, &acl)) {
		STAT_ADD(port->tw->stats->tcp_unlisted, 1);
		conn_reset(cfd);
		return 0;
	}
	if (log_enabled(LOG_DEBUG))
		conn_log_accepted(cfd, (struct sockaddr *)&ss, len);
	tcp_conn_start(port->tw, cfd, port->nodelay, (struct sockaddr *)&ss, acl);
	return 0;
}

/* Out of descriptors: stop watching the listener instead of spinning on it. */
static void
port_pause(struct tcp_port *port)
{
	struct tcp_worker *tw = port->tw;

	if (port->paused)
		return;
	/* Said at most every 10 s: under a flood this would otherwise fill the journal. */
	if (tw->pause_logged_at == 0 || loop_now(tw->loop) - tw->pause_logged_at >= 10000) {
		log_warn("accept on fd %d (pausing it for %d ms)", port->w.fd,
		    TCP_ACCEPT_RETRY_MS);
		tw->pause_logged_at = loop_now(tw->loop);
	}
	if (loop_del(tw->loop, &port->w) == -1)
		return;
	port->paused = true;
	port->next_paused = tw->paused;
	tw->paused = port;
	tw->resume_at = loop_now(tw->loop) + TCP_ACCEPT_RETRY_MS;
}

static void
accept_cb(int fd, uint32_t events, void *arg)
{
	struct tcp_port *port = arg;

	for (int budget = TCP_ACCEPT_BUDGET; budget > 0; budget--) {
		if (port_accept(port) == 0)
			continue;
		switch (errno) {
		case EAGAIN:
			return;
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
		case EPERM:		/* refused by a firewall rule */
			continue;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			port_pause(port);
			return;
		default:
			log_warn("accept on fd %d", fd);
			return;
		}
	}
}

int
tcp_port_start(struct tcp_port *port, struct tcp_worker *tw, int fd, bool nodelay,
    _Atomic(const struct listener_view *) *view)
{
	port->tw = tw;
	port->view = view;
	port->nodelay = nodelay;
	port->paused = false;
	port->next_paused = NULL;
	/* EXCLUSIVE: one worker wakes per new connection, not all of them. */
	return loop_add(tw->loop, &port->w, fd, EPOLLIN | EPOLLEXCLUSIVE, accept_cb, port);
}

/*
 * Closing a listening socket resets the connections still in its backlog:
 * clients that completed the handshake before a reload. Take them first.
 */
static void
port_drain_backlog(struct tcp_port *port)
{
	for (int i = 0; i < TCP_DRAIN_MAX && !port->paused; i++) {
		if (port_accept(port) == -1 && errno != EINTR && errno != ECONNABORTED)
			return;
	}
}

void
tcp_port_stop(struct tcp_port *port, bool drain)
{
	struct tcp_worker *tw = port->tw;

	if (drain)
		port_drain_backlog(port);
	if (!port->paused) {
		loop_del(tw->loop, &port->w);
		return;
	}
	for (struct tcp_port **pp = &tw->paused; *pp != NULL; pp = &(*pp)->next_paused) {
		if (*pp == port) {
			*pp = port->next_paused;
			break;
		}
	}
	port->paused = false;
}

int
tcp_worker_init(struct tcp_worker *tw, struct loop *loop, struct tcp_shared *shared,
    struct guard *guard, struct echo_stats *stats)
{
	memset(tw, 0, sizeof(*tw));
	tw->loop = loop;
	tw->shared = shared;
	tw->guard = guard;
	tw->stats = stats;
	tw->scratch_size = TCP_SCRATCH_SIZE;
	tw->scratch = malloc(tw->scratch_size);
	return tw->scratch == NULL ? -1 : 0;
}

void
tcp_worker_fini(struct tcp_worker *tw)
{
	while (tw->oldest != NULL)
		conn_close(tw->oldest);
	free(tw->scratch);
	tw->scratch = NULL;
}

uint64_t
tcp_worker_tick(struct tcp_worker *tw, uint64_t now_ms)
{
	long timeout = atomic_load_explicit(&tw->shared->idle_timeout, memory_order_relaxed);
	uint32_t now_s = (uint32_t)(now_ms / 1000);
	uint64_t next = UINT64_MAX;

	if (tw->paused != NULL && now_ms >= tw->resume_at)
		resume_paused(tw);
	if (tw->paused != NULL)
		next = tw->resume_at;
	/*
	 * No connection, nothing to time out: sleep until one comes (the hook
	 * runs after the event that accepts it, and arms the tick again).
	 */
	if (timeout <= 0 || tw->oldest == NULL)
		return next;
	/* Whole seconds on both sides: "more than timeout" guarantees at least timeout idle. */
	while (tw->oldest != NULL && now_s - tw->oldest->active_s > (uint32_t)timeout) {
		log_debug("connection fd %d idle for %ld s: closed", tw->oldest->w.fd, timeout);
		conn_close(tw->oldest);
	}
	/* Once a second is enough: timeouts are whole seconds. */
	return next < (now_s + 1) * (uint64_t)1000 ? next : (now_s + 1) * (uint64_t)1000;
}
