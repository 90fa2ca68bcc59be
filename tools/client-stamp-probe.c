/* SPDX-License-Identifier: MIT */
/* echo-client --stamp in the UDP probe engine: test packets out, replies matched and measured. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "client-engine.h"

int
pstamp_init(struct engine *e)
{
	const struct client_opts *o = e->o;
	struct stamp_run *r = calloc(1, sizeof(*r));
	struct stamp_clock clock;

	if (r == NULL)
		return -1;
	/* Read once: the Error Estimate and the S bit this run's packets carry. Where
	 * adjtimex() is refused, the clock is taken as unsynchronised. */
	stamp_clock_state(&clock);
	r->send.ssid = o->ssid;
	r->send.fmt = o->stamp_ts;
	r->send.clock = clock;
	r->send.key = o->stamp_key_path != NULL ? &o->stamp_key : NULL;
	/* The DSCP of -Q, or 0 (best effort): what the reply should come back with. */
	r->send.cos_dscp = !o->cos ? -1 : o->tos >= 0 ? o->tos >> 2 : 0;
	stampstats_init(&r->st, clock.synced, r->send.key != NULL, o->ssid, r->send.cos_dscp);
	e->stamp = r;
	return 0;
}

/*
 * The engine counts probes from 1, 0 meaning none; a test packet carries its probe's
 * number less one, since RFC 8762 4.2.1 numbers from 0. These two convert.
 */
uint32_t
pstamp_wire_seq(const struct pslot *s)
{
	return s->seq - 1;
}

static struct pslot *
pstamp_slot(struct engine *e, uint32_t wire)
{
	/* UINT32_MAX + 1 is 0: no probe, as it should be (the engine stops before it). */
	return engine_slot(e, wire + 1);
}

void
pstamp_fill(struct engine *e, const struct pslot *s)
{
	struct timespec t1 = {
		.tv_sec = (time_t)(s->stamp / 1000000000ULL),
		.tv_nsec = (long)(s->stamp % 1000000000ULL),
	};

	/* T1 is the slot's send time, read with the monotonic one; the size was checked
	 * against the mode by opts_parse(), so this cannot fail. */
	stamppkt_build(e->out, e->pl.size, &e->stamp->send, pstamp_wire_seq(s), &t1);
}

struct pslot *
pstamp_quoted(struct engine *e, size_t n)
{
	/* An ICMP error quotes our test packet: its Sequence Number comes first. */
	return n >= 4 ? pstamp_slot(e, stamp_get32(e->in)) : NULL;
}

static void
pstamp_unexpected(struct engine *e, size_t n, const char *why)
{
	e->st.unexpected++;
	if (!e->verbose)
		return;
	printf("%zu bytes from %s: unexpected, %s\n", n, e->peer->name, why);
	fflush(stdout);
}

/* A reply to s whose HMAC does not verify: bad, never ok, whatever it says. */
static void
pstamp_bad(struct engine *e, struct pslot *s, struct pevent *ev)
{
	e->stamp->st.bad_auth++;
	ev->status = ST_MISMATCH;
	if (s->state == PS_PENDING) {
		s->state = PS_BAD;
		e->pending--;
		e->st.mismatched++;
		ev->detail = "HMAC does not verify";
		snprintf(e->st.reason, sizeof(e->st.reason), "replies failed authentication "
		    "(HMAC): not the reflector's key?");
	} else {
		e->st.unexpected++;
		ev->detail = "unexpected, HMAC does not verify";
	}
	report_event(e, ev);
}

void
pstamp_reply(struct engine *e, size_t n, const struct recv_meta *m)
{
	struct stamp_run *run = e->stamp;
	bool auth = run->send.key != NULL, kernel;
	struct pevent ev = { .size = n, .ttl = m->ttl, .tos = m->tos };
	struct stamp_answer a;
	struct stamp_result res;
	struct pslot *s = NULL;
	uint32_t seq;
	int r;

	r = stamppkt_read(e->in, n, run->send.key, &a);
	if (r == -1 && errno == EMSGSIZE) {
		pstamp_unexpected(e, n, "shorter than a reflector packet");
		return;
	}
	/* Matched by the Session-Sender Sequence Number, within this session (SSID). */
	if (r == 0)
		s = pstamp_slot(e, a.r.sender_seq);
	else if (stamppkt_sender_seq(e->in, n, auth, &seq) == 0)
		s = pstamp_slot(e, seq);
	if (s == NULL || (r == 0 && a.r.ssid != run->send.ssid)) {
		pstamp_unexpected(e, n, s == NULL ? "matches no probe" : "another SSID");
		return;
	}
	ev.slot = s;
	ev.rtt = engine_rtt(s, m, &kernel);
	if (r == -1) {
		pstamp_bad(e, s, &ev);
		return;
	}
	stamppkt_result(&a, s->stamp, ev.rtt, run->st.local_synced, e->o->ttl,
	    run->send.cos_dscp, m->tos, &res);
	/* Another size than sent is said, and the reply used all the same: every field read
	 * is in the base, and TWAMP-Light reflectors do not all keep the padding. */
	res.sent_len = e->pl.size;
	res.reply_len = n;
	ev.stamp = &res;
	if (s->state == PS_PENDING) {
		e->pending--;
		engine_ok(e, s, ev.rtt, kernel, m->mono);
		e->st.bytes_echoed += n;
		e->tick_echoed += n;
		stampstats_add(&run->st, pstamp_wire_seq(s), &res, true);
		ev.status = ST_OK;
	} else if (s->state == PS_LOST) {
		s->state = PS_LATE;
		e->st.late++;
		stampstats_add(&run->st, pstamp_wire_seq(s), &res, false);
		ev.status = ST_LATE;
	} else {
		e->st.duplicates++;
		ev.status = ST_DUPLICATE;
	}
	report_event(e, &ev);
}
