/* SPDX-License-Identifier: MIT */
/* tcp: accept, echo with bounded back-pressure, half-close, idle timeout (streams: TCP and Unix). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static void
conn_close(struct tcp_conn *c)
{
	struct tcp_worker *tw = c->tw;

	/* close() also takes the fd out of epoll: it is never duplicated. */
	close(c->w.fd);
	lru_unlink(tw, c);
	free(c->pend);
	free(c);
	STAT_SUB(tw->stats->tcp_open, 1);
	if (atomic_fetch_sub(&tw->shared->open, 1) <= atomic_load(&tw->shared->max_connections))
		atomic_store(&tw->shared->limit_logged, false);
	/* A descriptor was just freed: a listener paused for want of one may go on. */
	if (tw->paused != NULL)
		resume_paused(tw);
}

/* Room for at least one byte after the pending data, up to buffer_size in all. */
static size_t
pending_room(struct tcp_conn *c, size_t limit)
{
	struct pending *p = c->pend;
	size_t len = pending_len(c), cap;

	if (len >= limit)
		return 0;
	if (p != NULL && p->start > 0 && p->end == p->cap) {
		memmove(p->data, p->data + p->start, len);
		p->start = 0;
		p->end = len;
	}
	if (p == NULL || p->end == p->cap) {
		cap = p != NULL ? p->cap * 2 : TCP_PENDING_MIN;
		if (cap > limit)
			cap = limit;
		if (p != NULL && cap <= p->cap)
			return 0;
		p = realloc(p, sizeof(*p) + cap);
		if (p == NULL)
			return 0;
		if (c->pend == NULL)
			p->start = p->end = 0;
		p->cap = cap;
		c->pend = p;
	}
	return p->cap - p->end < limit - len ? p->cap - p->end : limit - len;
}

static int
pending_append(struct tcp_conn *c, const char *data, size_t len, size_t limit)
{
	while (len > 0) {
		size_t room = pending_room(c, limit), n = len < room ? len : room;

		if (n == 0)
			return -1;	/* cannot happen while reads are capped at limit */
		memcpy(c->pend->data + c->pend->end, data, n);
		c->pend->end += n;
		data += n;
		len -= n;
	}
	return 0;
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
	free(p);
	c->pend = NULL;
	return 0;
}

/* Nothing pending: echo straight from the worker's scratch buffer. */
static int
read_direct(struct tcp_conn *c, size_t limit, bool *more)
{
	struct tcp_worker *tw = c->tw;
	size_t want = tw->scratch_size < limit ? tw->scratch_size : limit;
	ssize_t n, sent;

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
	if (sent < n && pending_append(c, tw->scratch + sent, (size_t)(n - sent), limit) == -1)
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

static uint32_t
conn_wanted_events(const struct tcp_conn *c)
{
	size_t limit = (size_t)atomic_load_explicit(&c->tw->shared->buffer_size,
	    memory_order_relaxed);
	size_t len = pending_len(c);
	uint32_t ev = 0;

	if (!c->eof && len < limit)
		ev |= EPOLLIN;
	if (len > 0)
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
conn_log_accepted(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char peer[ADDR_STRLEN];

	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
		log_debug("connection fd %d from %s", fd,
		    addr_format((struct sockaddr *)&ss, len, peer, sizeof(peer)));
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

static void
conn_start(struct tcp_worker *tw, int fd, bool nodelay)
{
	struct tcp_conn *c;
	int on = 1;

	if (over_connection_limit(tw)) {
		close(fd);
		return;
	}
	/* Echo is request/response: Nagle plus delayed ACK would stall every reply. */
	if (nodelay)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	c = calloc(1, sizeof(*c));
	if (c == NULL || loop_add(tw->loop, &c->w, fd, EPOLLIN, conn_cb, c) == -1) {
		log_warn("cannot take connection");
		free(c);
		close(fd);
		atomic_fetch_sub(&tw->shared->open, 1);
		return;
	}
	c->tw = tw;
	c->active_s = (uint32_t)(loop_now(tw->loop) / 1000);
	lru_append(tw, c);
	STAT_ADD(tw->stats->tcp_open, 1);
	STAT_ADD(tw->stats->tcp_accepted, 1);
	if (log_enabled(LOG_DEBUG))
		conn_log_accepted(fd);
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
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd != -1) {
			conn_start(port->tw, cfd, port->nodelay);
			continue;
		}
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
tcp_port_start(struct tcp_port *port, struct tcp_worker *tw, int fd, bool nodelay)
{
	port->tw = tw;
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
		int cfd = accept4(port->w.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		conn_start(port->tw, cfd, port->nodelay);
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
    struct echo_stats *stats)
{
	memset(tw, 0, sizeof(*tw));
	tw->loop = loop;
	tw->shared = shared;
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
	if (timeout <= 0)
		return next;
	/* Whole seconds on both sides: "more than timeout" guarantees at least timeout idle. */
	while (tw->oldest != NULL && now_s - tw->oldest->active_s > (uint32_t)timeout) {
		log_debug("connection fd %d idle for %ld s: closed", tw->oldest->w.fd, timeout);
		conn_close(tw->oldest);
	}
	/* Once a second is enough: timeouts are whole seconds. */
	return next < (now_s + 1) * (uint64_t)1000 ? next : (now_s + 1) * (uint64_t)1000;
}
