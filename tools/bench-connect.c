/* SPDX-License-Identifier: MIT */
/* tcp-connect: C slots, each looping connect, echo size bytes, verify, close. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "bench.h"

#define CONN_BUF	(256 * 1024)
#define CONN_SCAN_NS	(100 * 1000000)

struct conn_slot {
	int fd;			/* -1: closed, reopened by the next scan */
	bool connected;
	uint64_t base;
	uint64_t sent, rcvd;
	int64_t t_start;	/* connect() called */
	int64_t t_progress;
};

struct conn_run {
	struct bench_worker *w;
	int ep;
	uint64_t seq;		/* connections opened by this worker */
	struct conn_slot *slot;
	unsigned char *buf;
};

static void
conn_close(struct conn_run *r, struct conn_slot *s, uint64_t *counter)
{
	close(s->fd);
	s->fd = -1;
	if (counter != NULL)
		(*counter)++;
}

/* Start the next connection of slot i; a refusal leaves the slot for the next scan. */
static void
conn_open(struct conn_run *r, int i, int64_t now)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET, .data.u32 = (uint32_t)i };
	const struct bench_opts *o = r->w->o;
	struct conn_slot *s = &r->slot[i];
	uint64_t n = (uint64_t)r->w->index + r->seq++ * (uint64_t)o->conns;

	s->fd = net_socket(o, SOCK_STREAM, n);
	if (s->fd == -1) {
		r->w->st.connect_fail++;
		return;
	}
	s->connected = false;
	s->base = pattern_base(n);
	s->sent = s->rcvd = 0;
	s->t_start = s->t_progress = now;
	if ((connect(s->fd, (struct sockaddr *)&o->addr, o->addrlen) == -1 &&
	     errno != EINPROGRESS) || epoll_ctl(r->ep, EPOLL_CTL_ADD, s->fd, &ev) == -1)
		conn_close(r, s, &r->w->st.connect_fail);
}

static int
conn_send(struct conn_run *r, struct conn_slot *s)
{
	size_t size = r->w->o->size;
	ssize_t n;

	while (s->sent < size) {
		n = send(s->fd, pattern_at(s->base, s->sent), size - s->sent, MSG_NOSIGNAL);
		if (n > 0) {
			s->sent += (uint64_t)n;
		} else if (errno == EAGAIN) {
			return 0;
		} else if (errno != EINTR) {
			conn_close(r, s, &r->w->st.reset);
			return -1;
		}
	}
	return 0;
}

/* The whole echo is back and verified: count the connection and start the next. */
static void
conn_done(struct conn_run *r, int i)
{
	struct bench_worker *w = r->w;
	int64_t now = bench_now();

	conn_close(r, &r->slot[i], NULL);
	w->st.done_total++;
	if (bench_in_window(w, now)) {
		w->st.ops++;
		w->st.bytes += w->o->size;
		hist_add(&w->st.lat, now - r->slot[i].t_start);
	}
	if (now < w->t_end)
		conn_open(r, i, now);
}

static int
conn_connected(struct conn_run *r, struct conn_slot *s)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err != 0) {
		conn_close(r, s, &r->w->st.connect_fail);
		return -1;
	}
	s->connected = true;
	s->t_progress = bench_now();
	return conn_send(r, s);
}

static void
conn_io(void *run, int i, uint32_t events)
{
	struct conn_run *r = run;
	struct conn_slot *s = &r->slot[i];
	size_t size = r->w->o->size;
	ssize_t n;

	if (s->fd == -1)
		return;

	if (!s->connected) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) || conn_connected(r, s) == -1)
			return;
	}
	for (;;) {
		n = recv(s->fd, r->buf, CONN_BUF, 0);
		if (n > 0) {
			if (s->rcvd + (uint64_t)n > s->sent ||
			    !pattern_match(s->base, s->rcvd, r->buf, (size_t)n)) {
				conn_close(r, s, &r->w->st.mismatch);
				return;
			}
			s->rcvd += (uint64_t)n;
			s->t_progress = bench_now();
			if (s->rcvd == size) {
				conn_done(r, i);
				return;
			}
			if (n < CONN_BUF)
				break;	/* drained: the next bytes bring a new edge */
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			conn_close(r, s, &r->w->st.reset);
			return;
		} else if (errno == EAGAIN) {
			break;
		}
	}
	conn_send(r, s);
}

/* Reopen failed slots; a slot without progress for stall_ms is a stall, and starts over. */
static void
conn_scan(void *run, int64_t now)
{
	struct conn_run *r = run;
	int64_t limit = (int64_t)r->w->o->stall_ms * 1000000;
	struct conn_slot *s;
	int i;

	/* The window is over: no slot is reopened or counted as stalled. */
	if (now >= r->w->t_end)
		return;

	for (i = 0; i < r->w->count; i++) {
		s = &r->slot[i];
		if (s->fd != -1 && now - s->t_progress > limit)
			conn_close(r, s, &r->w->st.stall);
		if (s->fd == -1)
			conn_open(r, i, now);
	}
}

int
tcp_connect_run(struct bench_worker *w)
{
	struct conn_run r = { .w = w };
	int64_t now = bench_now();
	int i, ret = -1;

	r.ep = epoll_create1(EPOLL_CLOEXEC);
	r.slot = calloc((size_t)w->count, sizeof(*r.slot));
	r.buf = malloc(CONN_BUF);
	if (r.ep == -1 || r.slot == NULL || r.buf == NULL)
		goto done;
	for (i = 0; i < w->count; i++)
		conn_open(&r, i, now);
	bench_run_window(r.ep, w->t_end, CONN_SCAN_NS, conn_io, conn_scan, &r);
	/* Connections caught mid-echo by the end of the run are neither counted nor errors. */
	for (i = 0; i < w->count; i++) {
		if (r.slot[i].fd != -1)
			conn_close(&r, &r.slot[i], NULL);
	}
	ret = 0;
done:
	if (ret == -1)
		w->failed = errno;
	if (r.ep != -1)
		close(r.ep);
	free(r.slot);
	free(r.buf);
	return ret;
}
