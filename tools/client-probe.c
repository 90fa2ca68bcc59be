/* SPDX-License-Identifier: MIT */
/* The one-message and ping-like probe modes over a connected TCP, UDP or Unix socket. */
#include <err.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client-io.h"
#include "client-payload.h"
#include "client-probe.h"
#include "client-stats.h"

/* UDP probes remembered for telling late replies from unexpected ones. */
#define PROBE_WINDOW	1024
/* How far back a reply without a header is compared against lost probes. */
#define PROBE_SEARCH	16
/* Large enough for any datagram, so that an oversized reply is seen whole, not truncated. */
#define PROBE_DGRAM_BUF	65536

enum probe_state { PROBE_PENDING = 1, PROBE_OK, PROBE_BAD, PROBE_LOST, PROBE_LATE };

struct probe_slot {
	uint32_t seq;
	enum probe_state state;
	double sent_at;
};

struct probe {
	int fd;
	const struct peer *peer;
	const struct client_opts *o;
	struct payload pl;
	struct stats st;
	unsigned char *out;	/* the current probe's payload */
	unsigned char *in;	/* the reply */
	uint32_t seq;		/* the last probe sent */
	bool verbose;		/* print a line per probe */
	bool fatal;		/* the run ended early on an error */
	struct probe_slot slots[PROBE_WINDOW];
};

static struct probe_slot *
probe_slot(struct probe *pr, uint32_t seq)
{
	struct probe_slot *s = &pr->slots[seq % PROBE_WINDOW];

	return seq != 0 && s->seq == seq ? s : NULL;
}

/* A per-probe event without a reply: a stdout line while probing (ping prints those too),
 * an error message in one-message mode, where it is the whole outcome. */
__attribute__((format(printf, 2, 3)))
static void
probe_note(struct probe *pr, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (pr->o->mode == CLIENT_ONCE) {
		vwarnx(fmt, ap);
	} else if (pr->verbose) {
		vprintf(fmt, ap);
		putchar('\n');
		fflush(stdout);
	}
	va_end(ap);
}

/* One-message mode prints what came back, as it came back. */
static void
probe_show(struct probe *pr, const unsigned char *buf, size_t n)
{
	if (!pr->verbose || pr->o->mode != CLIENT_ONCE)
		return;
	fwrite(buf, 1, n, stdout);
	if (n == 0 || buf[n - 1] != '\n')
		putchar('\n');
}

static void
probe_line(struct probe *pr, size_t n, uint32_t seq, double rtt, const char *what)
{
	/* Flushed line by line, as ping does, so that a pipe shows progress. */
	if (pr->verbose) {
		printf("%zu bytes from %s seq=%u time=%.3f ms%s\n", n, pr->peer->name, seq,
		    rtt * 1000.0, what);
		fflush(stdout);
	}
}

static void
probe_mismatch(struct probe *pr, size_t n, uint32_t seq, double rtt, long at)
{
	char what[96];

	if (n != pr->pl.size && (size_t)at == (n < pr->pl.size ? n : pr->pl.size))
		snprintf(what, sizeof(what), ": mismatch, expected %zu bytes", pr->pl.size);
	else
		snprintf(what, sizeof(what), ": mismatch at byte %ld", at);
	probe_line(pr, n, seq, rtt, what);
}

/* Wait until the absolute time t, handling UDP replies meanwhile. -1: interrupted. */
static int probe_dgram_wait(struct probe *pr, double t);

static int
probe_pause(struct probe *pr, double t)
{
	if (pr->peer->socktype == SOCK_DGRAM)
		return probe_dgram_wait(pr, t);
	return io_wait(NULL, 0, t) == -1 ? -1 : 0;
}

static void
probe_stream_error(struct probe *pr, uint32_t seq, size_t got, double timeout)
{
	if (errno == ETIMEDOUT)
		warnx("%s seq=%u: no echo within %g s (%zu of %zu bytes came back)",
		    pr->peer->name, seq, timeout, got, pr->pl.size);
	else if (errno == ENODATA)
		warnx("%s seq=%u: connection closed by the server (%zu of %zu bytes came back)",
		    pr->peer->name, seq, got, pr->pl.size);
	else
		warnx("%s seq=%u: %s", pr->peer->name, seq, strerror(errno));
}

/* One TCP or Unix stream probe. Returns 0, or -1 when the run must stop. */
static int
probe_stream_one(struct probe *pr, uint32_t seq)
{
	size_t got;
	double t0, rtt;
	long at;

	payload_fill(&pr->pl, seq, pr->out);
	pr->st.sent++;
	t0 = io_now();
	if (io_exchange(pr->fd, pr->out, pr->in, pr->pl.size, pr->o->timeout, &got) == -1) {
		if (errno == EINTR) {
			pr->st.sent--;	/* cut short by the user, not lost */
			return -1;
		}
		/* A stream cannot resynchronise after a stall or a close: stop here. */
		probe_show(pr, pr->in, got);
		probe_stream_error(pr, seq, got, pr->o->timeout);
		pr->fatal = true;
		return -1;
	}
	rtt = io_now() - t0;
	probe_show(pr, pr->in, got);
	at = payload_cmp(&pr->pl, pr->out, pr->in, got);
	if (at >= 0) {
		pr->st.mismatched++;
		probe_mismatch(pr, got, seq, rtt, at);
		return 0;
	}
	pr->st.received++;
	stats_add(&pr->st, rtt * 1000.0);
	probe_line(pr, got, seq, rtt, "");
	return 0;
}

/* A reply identified as (an attempt at) seq's echo, at time now. */
static void
probe_dgram_answer(struct probe *pr, struct probe_slot *s, size_t n, double now)
{
	long at = payload_diff(&pr->pl, s->seq, pr->in, n);
	double rtt = now - s->sent_at;

	if (at >= 0 && s->state == PROBE_PENDING) {
		s->state = PROBE_BAD;
		pr->st.mismatched++;
		probe_show(pr, pr->in, n);
		probe_mismatch(pr, n, s->seq, rtt, at);
	} else if (at >= 0) {
		pr->st.unexpected++;
		probe_line(pr, n, s->seq, rtt, ": unexpected, does not match");
	} else if (s->state == PROBE_PENDING) {
		s->state = PROBE_OK;
		pr->st.received++;
		stats_add(&pr->st, rtt * 1000.0);
		probe_show(pr, pr->in, n);
		probe_line(pr, n, s->seq, rtt, "");
	} else if (s->state == PROBE_LOST) {
		s->state = PROBE_LATE;
		pr->st.late++;
		probe_line(pr, n, s->seq, rtt, " (late)");
	} else {
		pr->st.duplicates++;
		probe_line(pr, n, s->seq, rtt, " (duplicate)");
	}
}

/*
 * Which probe a datagram answers. Generated payloads name their sequence; for the others
 * (fixed messages, payloads too short for a header, corrupted headers) the current probe is
 * assumed, unless the datagram is an exact copy of a recently lost one.
 */
static struct probe_slot *
probe_dgram_match(struct probe *pr, size_t n)
{
	struct probe_slot *cur = probe_slot(pr, pr->seq), *s;
	uint32_t seq = payload_seq(&pr->pl, pr->in, n), i;

	if (seq != 0)
		return seq <= pr->seq ? probe_slot(pr, seq) : NULL;
	if (cur != NULL && cur->state == PROBE_PENDING &&
	    payload_diff(&pr->pl, cur->seq, pr->in, n) < 0)
		return cur;
	for (i = 1; i <= PROBE_SEARCH && i < pr->seq; i++) {
		s = probe_slot(pr, pr->seq - i);
		if (s != NULL && s->state == PROBE_LOST &&
		    payload_diff(&pr->pl, s->seq, pr->in, n) < 0)
			return s;
	}
	return cur;
}

/* Read one datagram. Returns 0, or -1 when the run must stop. */
static int
probe_dgram_read(struct probe *pr)
{
	struct probe_slot *s, *cur = probe_slot(pr, pr->seq);
	ssize_t n;

	n = recv(pr->fd, pr->in, PROBE_DGRAM_BUF, MSG_DONTWAIT | MSG_TRUNC);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n == -1 && errno == ECONNREFUSED) {
		/* ICMP port unreachable for some earlier datagram: nobody listens there. */
		if (cur != NULL && cur->state == PROBE_PENDING)
			cur->state = PROBE_LOST;
		probe_note(pr, "%s seq=%u: connection refused (port unreachable)",
		    pr->peer->name, pr->seq);
		return 0;
	}
	if (n == -1) {
		warn("%s: receive", pr->peer->name);
		pr->fatal = true;
		return -1;
	}
	if (n > PROBE_DGRAM_BUF)
		n = PROBE_DGRAM_BUF;
	s = probe_dgram_match(pr, (size_t)n);
	if (s == NULL) {
		pr->st.unexpected++;
		if (pr->verbose) {
			printf("%zd bytes from %s: unexpected, matches no probe\n", n,
			    pr->peer->name);
			fflush(stdout);
		}
		return 0;
	}
	probe_dgram_answer(pr, s, (size_t)n, io_now());
	return 0;
}

static int
probe_dgram_wait(struct probe *pr, double t)
{
	struct pollfd pfd = { .fd = pr->fd, .events = POLLIN };
	int r;

	while ((r = io_wait(&pfd, 1, t)) > 0)
		if (probe_dgram_read(pr) == -1)
			return -1;
	return r;
}

/* One UDP probe: send, then wait for its answer or its timeout. -1: stop the run. */
static int
probe_dgram_one(struct probe *pr, uint32_t seq)
{
	struct pollfd pfd = { .fd = pr->fd, .events = POLLIN };
	struct probe_slot *s = &pr->slots[seq % PROBE_WINDOW];
	double deadline;
	int r;

	payload_fill(&pr->pl, seq, pr->out);
	s->seq = pr->seq = seq;
	s->state = PROBE_PENDING;
	s->sent_at = io_now();
	pr->st.sent++;
	if (send(pr->fd, pr->out, pr->pl.size, MSG_NOSIGNAL) == -1) {
		/* Most likely an ICMP error left over from an earlier probe. */
		s->state = PROBE_LOST;
		probe_note(pr, "%s seq=%u: %s", pr->peer->name, seq, errno == ECONNREFUSED ?
		    "connection refused (port unreachable)" : strerror(errno));
		return 0;
	}
	deadline = s->sent_at + pr->o->timeout;
	while (s->state == PROBE_PENDING) {
		r = io_wait(&pfd, 1, deadline);
		if (r == -1 && errno == EINTR) {
			s->seq = 0;
			pr->st.sent--;	/* cut short by the user, not lost */
			return -1;
		}
		if (r == -1) {
			warn("%s: poll", pr->peer->name);
			pr->fatal = true;
			return -1;
		}
		if (r == 0) {
			s->state = PROBE_LOST;
			probe_note(pr, "no echo from %s seq=%u within %g s", pr->peer->name, seq,
			    pr->o->timeout);
		} else if (probe_dgram_read(pr) == -1) {
			return -1;
		}
	}
	return 0;
}

static void
probe_summary(struct probe *pr)
{
	struct stats_info info = {
		.peer = pr->peer->name,
		.proto = pr->peer->family == AF_UNIX ? "unix" :
		    pr->peer->socktype == SOCK_DGRAM ? "udp" : "tcp",
		.size = pr->pl.size,
	};

	if (pr->o->json)
		stats_print_json(&pr->st, &info, stdout);
	else if (pr->o->mode == CLIENT_PROBE)
		stats_print(&pr->st, &info, stdout);
}

static void
probe_loop(struct probe *pr)
{
	uint32_t seq;
	double next = io_now(), t0;
	bool dgram = pr->peer->socktype == SOCK_DGRAM;
	int r;

	for (seq = 1; pr->o->count == 0 || seq <= pr->o->count; seq++) {
		if (probe_pause(pr, next) == -1)
			break;
		t0 = io_now();
		r = dgram ? probe_dgram_one(pr, seq) : probe_stream_one(pr, seq);
		if (r == -1)
			break;
		if (seq == UINT32_MAX)
			break;
		next = t0 + pr->o->interval;
	}
	fflush(stdout);
}

int
probe_run(int fd, const struct peer *peer, const struct client_opts *o)
{
	struct probe *pr;
	size_t inlen;
	int ret = -1;

	pr = calloc(1, sizeof(*pr));
	if (pr == NULL || payload_init(&pr->pl, o->message, o->size) == -1) {
		warn("probe");
		free(pr);
		return -1;
	}
	pr->fd = fd;
	pr->peer = peer;
	pr->o = o;
	pr->verbose = !o->quiet && !o->json;
	stats_init(&pr->st);
	inlen = peer->socktype == SOCK_DGRAM ? PROBE_DGRAM_BUF : o->size;
	pr->out = malloc(o->size > 0 ? o->size : 1);
	pr->in = malloc(inlen > 0 ? inlen : 1);
	if (pr->out == NULL || pr->in == NULL) {
		warn("probe");
		goto done;
	}
	probe_loop(pr);
	probe_summary(pr);
	if (!pr->fatal && pr->st.sent > 0 && pr->st.received == pr->st.sent &&
	    pr->st.unexpected == 0)
		ret = 0;
done:
	free(pr->out);
	free(pr->in);
	stats_free(&pr->st);
	payload_free(&pr->pl);
	free(pr);
	return ret;
}
