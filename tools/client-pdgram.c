/* SPDX-License-Identifier: MIT */
/* UDP probes: send on schedule, match replies by sequence and send time, ICMP errors. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "client-engine.h"
#include "client-io.h"
#include "client-sockopt.h"

/* Replies read per wake-up, so that sending keeps its schedule under a flood of them. */
#define PDGRAM_BURST	256
/* Without a header, how many recent probes a reply is compared with. */
#define PDGRAM_SEARCH	64

void
pdgram_send(struct engine *e)
{
	struct pslot *s = engine_slot_start(e);
	struct recv_error err;
	struct pevent ev = { .status = ST_ICMP, .rtt = -1, .ttl = -1, .tos = -1 };
	ssize_t r;

	if (e->stamp != NULL)
		pstamp_fill(e, s);
	e->st.bytes_sent += e->pl.size;
	e->tick_sent += e->pl.size;
	r = send(e->fd, e->out, e->pl.size, MSG_NOSIGNAL | MSG_DONTWAIT);
	/* An ICMP error of an earlier probe is handed to the next socket call, send() too;
	 * that probe's details wait in the error queue. This one has not gone out: again. */
	if (r == -1 && errno != EMSGSIZE && errno != EAGAIN && errno != ENOBUFS)
		r = send(e->fd, e->out, e->pl.size, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (r != -1) {
		e->pending++;
		return;
	}
	if (errno == EAGAIN || errno == ENOBUFS) {
		/* The socket buffer is full (a -b rate beyond the host): lost on our side. */
		s->state = PS_LOST;
		return;
	}
	/* EMSGSIZE (-M do: larger than the path MTU), or this host cannot send at all. */
	s->state = PS_ICMP;
	e->st.errors++;
	recv_local_error(&err, errno, errno == EMSGSIZE ?
	    sockopt_path_mtu(e->fd, e->peer->family) : 0);
	snprintf(e->st.reason, sizeof(e->st.reason), "%s", err.text);
	ev.slot = s;
	ev.size = e->pl.size;
	ev.icmp = &err;
	report_event(e, &ev);
}

/* Does buf[0..n) equal probe s's payload exactly? */
static bool
pdgram_same(struct engine *e, const struct pslot *s, size_t n)
{
	return payload_diff(&e->pl, s->seq, s->stamp, e->in, n) < 0;
}

/*
 * Which probe a reply answers. Generated payloads of 8 bytes or more name their sequence.
 * Shorter ones and fixed messages carry no name: the reply is compared with the recent
 * probes, the oldest pending first, then the lost (a late reply), then the answered (a
 * duplicate); failing all, it is taken as a corrupted reply to the oldest pending probe.
 */
static struct pslot *
pdgram_match(struct engine *e, size_t n)
{
	static const uint8_t order[] = { PS_PENDING, PS_LOST, PS_OK };
	uint32_t seq = payload_seq(&e->pl, e->in, n), first, i;
	struct pslot *s;

	if (seq != 0)
		return engine_slot(e, seq);
	first = e->seq > PDGRAM_SEARCH ? e->seq - PDGRAM_SEARCH + 1 : 1;
	for (size_t k = 0; k < sizeof(order); k++)
		for (i = first; i != 0 && i <= e->seq; i++) {
			s = engine_slot(e, i);
			if (s != NULL && s->state == order[k] && pdgram_same(e, s, n))
				return s;
		}
	for (i = e->oldest; i != 0 && i <= e->seq; i++) {
		s = engine_slot(e, i);
		if (s != NULL && s->state == PS_PENDING)
			return s;
	}
	return NULL;
}

static void
pdgram_mismatch_text(struct engine *e, size_t n, long at, char *buf, size_t len)
{
	if (n != e->pl.size && (size_t)at == (n < e->pl.size ? n : e->pl.size))
		snprintf(buf, len, "mismatch, expected %zu byte%s", e->pl.size,
		    e->pl.size == 1 ? "" : "s");
	else
		snprintf(buf, len, "mismatch at byte %ld", at);
}

/* A reply identified as (an attempt at) s's echo. */
static void
pdgram_answer(struct engine *e, struct pslot *s, size_t n, const struct recv_meta *m)
{
	struct pevent ev = { .slot = s, .size = n, .ttl = m->ttl, .tos = m->tos };
	char what[64];
	bool kernel;
	long at = payload_diff(&e->pl, s->seq, s->stamp, e->in, n);

	ev.rtt = engine_rtt(s, m, &kernel);
	if (at >= 0 && s->state == PS_PENDING) {
		s->state = PS_BAD;
		e->pending--;
		e->st.mismatched++;
		pdgram_mismatch_text(e, n, at, what, sizeof(what));
		ev.status = ST_MISMATCH;
		ev.detail = what;
		report_show(e, e->in, n);
	} else if (at >= 0) {
		e->st.unexpected++;
		ev.status = ST_MISMATCH;
		ev.detail = "unexpected, does not match";
	} else if (s->state == PS_PENDING) {
		e->pending--;
		engine_ok(e, s, ev.rtt, kernel, m->mono);
		e->st.bytes_echoed += n;
		e->tick_echoed += n;
		ev.status = ST_OK;
		report_show(e, e->in, n);
	} else if (s->state == PS_LOST) {
		s->state = PS_LATE;
		e->st.late++;
		ev.status = ST_LATE;
	} else {
		e->st.duplicates++;
		ev.status = ST_DUPLICATE;
	}
	report_event(e, &ev);
}

/* An error from the queue: whose probe it answers is in the quoted payload. */
static void
pdgram_error(struct engine *e, size_t n, const struct recv_error *err)
{
	struct pevent ev = { .status = ST_ICMP, .rtt = -1, .ttl = -1, .tos = -1, .icmp = err };
	struct pslot *s;

	/* send() already failed for a local error, and that probe was reported then. */
	if (err->local)
		return;
	s = e->stamp != NULL ? pstamp_quoted(e, n) : pdgram_match(e, n);
	if (s == NULL || s->state != PS_PENDING)
		return;		/* for a probe already given up, or not ours */
	s->state = PS_ICMP;
	e->pending--;
	e->st.errors++;
	snprintf(e->st.reason, sizeof(e->st.reason), "%s", err->text);
	ev.slot = s;
	ev.size = e->pl.size;
	report_event(e, &ev);
}

static void
pdgram_errors(struct engine *e)
{
	struct recv_error err;
	ssize_t n;

	while ((n = recv_error(e->fd, e->peer->family, e->in, e->inlen, &err)) >= 0)
		pdgram_error(e, (size_t)n, &err);
}

void
pdgram_read(struct engine *e, short revents)
{
	struct recv_meta m;
	struct pslot *s;
	ssize_t n;

	if (revents & POLLERR)
		pdgram_errors(e);
	for (int i = 0; i < PDGRAM_BURST; i++) {
		n = recv_meta(e->fd, e->in, e->inlen, MSG_DONTWAIT | MSG_TRUNC, &m);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n == -1) {
			/* The error an ICMP left on the socket; its details are queued. */
			pdgram_errors(e);
			continue;
		}
		if ((size_t)n > e->inlen)
			n = (ssize_t)e->inlen;
		if (e->stamp != NULL) {
			pstamp_reply(e, (size_t)n, &m);
			continue;
		}
		s = pdgram_match(e, (size_t)n);
		if (s != NULL) {
			pdgram_answer(e, s, (size_t)n, &m);
			continue;
		}
		e->st.unexpected++;
		if (e->verbose) {
			printf("%zd bytes from %s: unexpected, matches no probe\n", n,
			    e->peer->name);
			fflush(stdout);
		}
	}
}
