/* SPDX-License-Identifier: MIT */
/* tcp-pingpong (one message in flight per connection) and tcp-stream (a window in flight). */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "bench.h"

#define TCP_BUF		(256 * 1024)
#define TCP_SCAN_NS	(100 * 1000000)	/* how often connections are checked for stalls */

struct tcp_conn {
	uint64_t base;		/* pattern offset of this connection's stream */
	uint64_t sent;		/* stream bytes handed to the kernel */
	uint64_t rcvd;		/* stream bytes echoed back and verified */
	uint64_t msg_end;	/* pingpong: where the message in flight ends */
	int64_t t_sent;		/* pingpong: when that message started */
	int64_t t_progress;	/* last time bytes came back, or a message started */
	bool stalled;
};

struct tcp_run {
	struct bench_worker *w;
	bool stream;
	int ep;
	struct tcp_conn *conn;
	unsigned char *buf;
};

/* The connection is over: count why and forget it (closing also removes it from epoll). */
static void
tcp_drop(struct tcp_run *r, int i, uint64_t *counter)
{
	close(r->w->fds[i]);
	r->w->fds[i] = -1;
	(*counter)++;
}

/* Send the stream up to offset limit. Returns 0, or -1 when the connection was dropped. */
static int
tcp_send(struct tcp_run *r, int i, uint64_t limit)
{
	struct tcp_conn *c = &r->conn[i];
	size_t len;
	ssize_t n;

	while (c->sent < limit) {
		len = limit - c->sent;
		if (len > BENCH_MAX_CHUNK)
			len = BENCH_MAX_CHUNK;
		n = send(r->w->fds[i], pattern_at(c->base, c->sent), len, MSG_NOSIGNAL);
		if (n > 0) {
			c->sent += (uint64_t)n;
		} else if (errno == EAGAIN) {
			return 0;	/* EPOLLOUT (edge-triggered) resumes */
		} else if (errno != EINTR) {
			tcp_drop(r, i, &r->w->st.reset);
			return -1;
		}
	}
	return 0;
}

static int
tcp_msg_start(struct tcp_run *r, int i, int64_t now)
{
	struct tcp_conn *c = &r->conn[i];

	c->msg_end = c->sent + r->w->o->size;
	c->t_sent = now;
	c->t_progress = now;
	return tcp_send(r, i, c->msg_end);
}

/* n bytes came back: check them; finish the round trip or refill the window. */
static int
tcp_received(struct tcp_run *r, int i, size_t n)
{
	struct bench_worker *w = r->w;
	struct tcp_conn *c = &r->conn[i];
	int64_t now = bench_now();

	if (c->rcvd + n > c->sent || !pattern_match(c->base, c->rcvd, r->buf, n)) {
		tcp_drop(r, i, &w->st.mismatch);
		return -1;
	}
	c->rcvd += n;
	c->t_progress = now;
	c->stalled = false;
	if (r->stream) {
		if (bench_in_window(w, now))
			w->st.bytes += n;
		return tcp_send(r, i, c->rcvd + w->o->window);
	}
	if (c->rcvd < c->msg_end)
		return 0;
	w->st.done_total++;
	if (bench_in_window(w, now)) {
		w->st.ops++;
		w->st.bytes += w->o->size;
		hist_add(&w->st.lat, now - c->t_sent);
	}
	return now < w->t_end ? tcp_msg_start(r, i, now) : 0;
}

/* Edge-triggered: read until EAGAIN, then push whatever may be sent. */
static void
tcp_io(void *run, int i, uint32_t events)
{
	struct tcp_run *r = run;
	struct tcp_conn *c = &r->conn[i];
	ssize_t n;

	if (r->w->fds[i] == -1)
		return;

	for (;;) {
		n = recv(r->w->fds[i], r->buf, TCP_BUF, 0);
		if (n > 0) {
			if (tcp_received(r, i, (size_t)n) == -1)
				return;
			/* A short read drained the socket; new bytes bring a new edge. */
			if (n < TCP_BUF)
				break;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			tcp_drop(r, i, &r->w->st.reset);
			return;
		} else if (errno == EAGAIN) {
			break;
		}
	}
	tcp_send(r, i, r->stream ? c->rcvd + r->w->o->window : c->msg_end);
}

/* A connection waiting for bytes that do not come for stall_ms is one stall, once. */
static void
tcp_scan(void *run, int64_t now)
{
	struct tcp_run *r = run;
	int64_t limit = (int64_t)r->w->o->stall_ms * 1000000;
	struct tcp_conn *c;
	int i;

	for (i = 0; i < r->w->count; i++) {
		c = &r->conn[i];
		if (r->w->fds[i] == -1 || c->stalled || now - c->t_progress <= limit)
			continue;
		if (r->stream ? c->rcvd < c->sent : c->rcvd < c->msg_end) {
			c->stalled = true;
			r->w->st.stall++;
		}
	}
}

static int
tcp_start(struct tcp_run *r)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET };
	int64_t now = bench_now();
	int i;

	for (i = 0; i < r->w->count; i++) {
		r->conn[i].base = pattern_base((uint64_t)(r->w->index + i));
		r->conn[i].t_progress = now;
		if (r->w->fds[i] == -1)
			continue;
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(r->ep, EPOLL_CTL_ADD, r->w->fds[i], &ev) == -1)
			return -1;
		if (r->stream)
			tcp_send(r, i, r->w->o->window);
		else
			tcp_msg_start(r, i, now);
	}
	return 0;
}

static int
tcp_run(struct bench_worker *w, bool stream)
{
	struct tcp_run r = { .w = w, .stream = stream };
	int ret = -1;

	r.ep = epoll_create1(EPOLL_CLOEXEC);
	r.conn = calloc((size_t)w->count, sizeof(*r.conn));
	r.buf = malloc(TCP_BUF);
	if (r.ep == -1 || r.conn == NULL || r.buf == NULL)
		goto done;
	if (tcp_start(&r) == -1)
		goto done;
	bench_run_window(r.ep, w->t_end, TCP_SCAN_NS, tcp_io, tcp_scan, &r);
	ret = 0;
done:
	if (ret == -1)
		w->failed = errno;
	if (r.ep != -1)
		close(r.ep);
	free(r.conn);
	free(r.buf);
	return ret;
}

int
tcp_pingpong_run(struct bench_worker *w)
{
	return tcp_run(w, false);
}

int
tcp_stream_run(struct bench_worker *w)
{
	return tcp_run(w, true);
}
