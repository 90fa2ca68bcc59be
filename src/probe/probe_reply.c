/* SPDX-License-Identifier: MIT */
/* One reply: matched to its target and probe, and counted (round trip, loss per direction,
 * dwell, one-way delays, hops, DSCP). */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "probe_int.h"

static double
probe_reply_realtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The slot of probe seq of t while it is in the window, else NULL. */
static struct probe_slot *
probe_reply_slot(struct probe_target *t, uint32_t seq)
{
	struct probe_slot *s = &t->slot[seq % PROBE_WINDOW];

	return s->used && s->seq == seq ? s : NULL;
}

/*
 * The first reply to s: received, and in time (still pending) or late (counted lost at
 * its timeout, and late too). Returns whether it was in time; a second reply is a
 * duplicate (*dup).
 */
static bool
probe_reply_first(struct probe_target *t, struct probe_slot *s, double now, bool *dup)
{
	*dup = s->answered;
	if (s->answered) {
		t->f.duplicates++;
		return false;
	}
	s->answered = true;
	t->f.received++;
	t->last_mono = now;
	t->f.last_reply = probe_reply_realtime();
	if (s->pending) {
		s->pending = false;
		t->f.pending--;
		return true;
	}
	t->f.late++;	/* still lost: no reply within the timeout (lost never falls) */
	return false;
}

static void
probe_reply_rtt(struct probe_target *t, double rtt, double now)
{
	probe_hist_add(&t->f.rtt, rtt);
	probe_recent_add(&t->recent, now, rtt);
}

static void
probe_reply_stamp_figures(struct probe_target *t, const struct stamp_result *r)
{
	probe_hist_add(&t->f.dwell, r->dwell / 1e3);
	if (r->oneway) {
		t->f.oneway = true;
		probe_hist_add(&t->f.forward, r->forward / 1e3);
		probe_hist_add(&t->f.backward, r->backward / 1e3);
	}
	t->f.hops = r->hops;
	if (r->cos)
		t->f.reflector_dscp = r->cos_dscp;
}

/*
 * The target a reflector packet answers, read into *a with its key. Unauthenticated and
 * authenticated packets put the SSID at different places: read it as the first, then
 * as the key of a target at that address would. A reply whose HMAC does not verify
 * counts as bad against its probe. NULL: none (or not verified).
 */
static struct probe_target *
probe_reply_stamp_target(struct probe_engine *e, size_t n, const struct sockaddr *from,
    struct stamp_answer *a)
{
	struct probe_target *t;
	uint32_t seq;

	if (stamppkt_read(e->buf, n, NULL, a) == 0 &&
	    (t = probe_match(e, from, PROBE_STAMP, a->r.ssid)) != NULL && t->c.key == NULL)
		return t;
	t = probe_match_any(e, from, PROBE_STAMP);
	if (t == NULL || t->c.key == NULL ||
	    (stamppkt_read(e->buf, n, t->c.key, a) == 0 && a->r.ssid != t->c.ssid &&
	    (t = probe_match(e, from, PROBE_STAMP, a->r.ssid)) == NULL)) {
		e->unmatched++;
		return NULL;
	}
	if (t->c.key != NULL && stamppkt_read(e->buf, n, t->c.key, a) == 0)
		return t;
	if (stamppkt_sender_seq(e->buf, n, true, &seq) == 0 && probe_reply_slot(t, seq) != NULL)
		t->f.bad++;
	return NULL;
}

static void
probe_reply_stamp(struct probe_engine *e, size_t n, const struct sockaddr *from, int tos,
    double now)
{
	struct stamp_answer a;
	struct stamp_result r;
	struct probe_target *t;
	struct probe_slot *s;
	bool in_time, dup;

	t = probe_reply_stamp_target(e, n, from, &a);
	if (t == NULL)
		return;
	s = probe_reply_slot(t, a.r.sender_seq);
	if (s == NULL) {
		t->f.unexpected++;
		return;
	}
	in_time = probe_reply_first(t, s, now, &dup);
	if (dup)
		return;
	stamppkt_result(&a, s->sent_ns, (now - s->sent) * 1e3, t->ss.local_synced, 255,
	    t->send.cos_dscp, tos, &r);
	r.sent_len = t->c.size;
	r.reply_len = n;
	stampstats_add(&t->ss, s->seq, &r, in_time);
	probe_figures_split(t);
	t->f.reply_dscp = tos >= 0 ? tos >> 2 : -1;
	if (!in_time)
		return;
	probe_reply_rtt(t, now - s->sent, now);
	probe_reply_stamp_figures(t, &r);
}

/* The probe's bytes after its header are zeros (probe_send.c). */
static bool
probe_reply_zeros(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

void
probe_reply_header(struct probe_target *t, const uint8_t *buf, size_t n, int tos, double now)
{
	struct probe_slot *s;
	bool in_time, dup;

	if ((s = probe_reply_slot(t, stamp_get32(buf + 8))) == NULL) {
		t->f.unexpected++;	/* older than the window, or never sent */
		return;
	}
	if (n != t->c.size || !probe_reply_zeros(buf + PROBE_UDP_HDR, n - PROBE_UDP_HDR)) {
		t->f.bad++;	/* an echo is the same bytes: a cut, padded or changed one is not */
		return;
	}
	in_time = probe_reply_first(t, s, now, &dup);
	t->f.reply_dscp = tos >= 0 ? tos >> 2 : -1;
	if (in_time)
		probe_reply_rtt(t, now - s->sent, now);
}

static void
probe_reply_udp(struct probe_engine *e, size_t n, const struct sockaddr *from, int tos,
    double now)
{
	struct probe_target *t;

	if (n < PROBE_UDP_HDR || stamp_get32(e->buf) != PROBE_UDP_MAGIC ||
	    (t = probe_match(e, from, PROBE_UDP, stamp_get32(e->buf + 4))) == NULL) {
		e->unmatched++;
		return;
	}
	probe_reply_header(t, e->buf, n, tos, now);
}

void
probe_reply(struct probe_engine *e, enum probe_proto proto, size_t n,
    const struct sockaddr *from, int tos, double now)
{
	if (proto == PROBE_STAMP)
		probe_reply_stamp(e, n, from, tos, now);
	else
		probe_reply_udp(e, n, from, tos, now);
}
