/* SPDX-License-Identifier: MIT */
/* udp-pingpong: one datagram in flight per socket; a reply missing after loss_ms is a loss. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "bench.h"
#include "stamp.h"

struct udp_sock {
	uint64_t base;		/* pattern offset of this socket's stream */
	uint64_t off;		/* offset of the datagram in flight */
	uint64_t lost_off;	/* offset of the last datagram given up on */
	int64_t t_sent;
	bool have_lost;
};

struct udp_run {
	struct bench_worker *w;
	int ep;
	struct udp_sock *sock;
	unsigned char *buf;
	unsigned char *out;	/* stamp-pingpong: the test packet being sent */
	bool stamp;
};

/*
 * stamp-pingpong: an unauthenticated STAMP test packet of -s bytes, its
 * Sequence Number the datagram's index in its socket's stream and the rest
 * zeros (RFC 8762 padding): what the reflector parses, the price it charges.
 */
static const void *
stamp_packet(struct udp_run *r, uint64_t off)
{
	memset(r->out, 0, r->w->o->size);
	stamp_put32(r->out, (uint32_t)(off / r->w->o->size));
	return r->out;
}

/* Is buf[0 .. n) the answer to the datagram at off: the same length and (STAMP) sequence? */
static bool
udp_answers(struct udp_run *r, const struct udp_sock *s, uint64_t off, size_t n)
{
	size_t size = r->w->o->size;

	if (n != size)
		return false;
	if (r->stamp)
		return stamp_get32(r->buf + STAMP_UNAUTH_SENDER_SEQ) == (uint32_t)(off / size);
	return pattern_match(s->base, off, r->buf, n);
}

static void
udp_send(struct udp_run *r, int i, int64_t now)
{
	struct udp_sock *s = &r->sock[i];
	const void *pkt = r->stamp ? stamp_packet(r, s->off) : pattern_at(s->base, s->off);

	s->t_sent = now;
	/*
	 * A datagram the kernel refuses (ECONNREFUSED: an ICMP error came back for an earlier
	 * one) is still one in flight: its loss is counted by the timeout like any other.
	 */
	if (send(r->w->fds[i], pkt, r->w->o->size, 0) == -1 && errno == ECONNREFUSED)
		r->w->st.reset++;
}

/* A datagram came back: the one in flight, a late one already counted lost, or garbage. */
static void
udp_received(struct udp_run *r, int i, size_t n)
{
	struct bench_worker *w = r->w;
	struct udp_sock *s = &r->sock[i];
	size_t size = w->o->size;
	int64_t now;

	if (udp_answers(r, s, s->off, n)) {
		now = bench_now();
		w->st.done_total++;
		if (bench_in_window(w, now)) {
			w->st.ops++;
			w->st.bytes += size;
			hist_add(&w->st.lat, now - s->t_sent);
		}
		s->off += size;
		if (now < w->t_end)
			udp_send(r, i, now);
	} else if (s->have_lost && udp_answers(r, s, s->lost_off, n)) {
		w->st.late++;
	} else {
		w->st.mismatch++;
	}
}

static void
udp_io(void *run, int i, uint32_t events)
{
	struct udp_run *r = run;
	ssize_t n;

	for (;;) {
		/* MSG_TRUNC: the real length, so an oversized reply is caught. */
		n = recv(r->w->fds[i], r->buf, BENCH_MAX_DGRAM + 1, MSG_TRUNC);
		if (n >= 0)
			udp_received(r, i, (size_t)n);
		else if (errno == ECONNREFUSED)
			r->w->st.reset++;
		else if (errno != EINTR)
			break;
	}
}

/* Give up on replies older than loss_ms: count the loss and let the socket continue. */
static void
udp_scan(void *run, int64_t now)
{
	struct udp_run *r = run;
	int64_t limit = (int64_t)r->w->o->loss_ms * 1000000;
	struct udp_sock *s;
	int i;

	/* The window is over: what is still out is not counted as lost. */
	if (now >= r->w->t_end)
		return;

	for (i = 0; i < r->w->count; i++) {
		s = &r->sock[i];
		if (r->w->fds[i] == -1 || now - s->t_sent <= limit)
			continue;
		r->w->st.loss++;
		s->have_lost = true;
		s->lost_off = s->off;
		s->off += r->w->o->size;
		udp_send(r, i, now);
	}
}

int
udp_pingpong_run(struct bench_worker *w)
{
	struct udp_run r = { .w = w };
	struct epoll_event ev = { .events = EPOLLIN };
	int64_t now = bench_now();
	int i, ret = -1;

	r.ep = epoll_create1(EPOLL_CLOEXEC);
	r.sock = calloc((size_t)w->count, sizeof(*r.sock));
	r.buf = malloc(BENCH_MAX_DGRAM + 1);
	r.out = malloc(BENCH_MAX_DGRAM);
	r.stamp = w->o->mode == BENCH_STAMP_PINGPONG;
	if (r.ep == -1 || r.sock == NULL || r.buf == NULL || r.out == NULL)
		goto done;
	for (i = 0; i < w->count; i++) {
		r.sock[i].base = pattern_base((uint64_t)(w->index + i));
		if (w->fds[i] == -1)
			continue;
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(r.ep, EPOLL_CTL_ADD, w->fds[i], &ev) == -1)
			goto done;
		udp_send(&r, i, now);
	}
	bench_run_window(r.ep, w->t_end, (int64_t)w->o->loss_ms * 1000000 / 4, udp_io,
	    udp_scan, &r);
	ret = 0;
done:
	if (ret == -1)
		w->failed = errno;
	if (r.ep != -1)
		close(r.ep);
	free(r.sock);
	free(r.buf);
	free(r.out);
	return ret;
}
