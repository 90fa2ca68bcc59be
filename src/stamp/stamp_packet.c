/* SPDX-License-Identifier: MIT */
/* stamp_packet: STAMP base packets both ways, timestamps and the Error Estimate (RFC 8762 4). */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/timex.h>

#include "stamp.h"

/* Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
#define NTP_UNIX_OFFSET	2208988800u
#define NSEC		1000000000u

/*
 * Where each field of a base packet lies, from RFC 8762's figures with RFC
 * 8972's SSID in place of the first MBZ octets after the Error Estimate. The
 * Sequence Number is at 0 in all four. ts, ee and ssid: both directions; the
 * rest: the reflector's packet only. The authenticated formats put each
 * field on a 16-octet block of its own.
 */
struct layout {
	size_t base, ts, ee, ssid, rx_ts, s_seq, s_ts, s_ee, ttl;
};

static const struct layout unauth_layout = {
	STAMP_UNAUTH_LEN, 4, 12, 14, 16, STAMP_UNAUTH_SENDER_SEQ, 28, 36, 40
};
static const struct layout auth_layout = {
	STAMP_AUTH_LEN, 16, 24, 26, 32, STAMP_AUTH_SENDER_SEQ, 64, 72, 80
};

static const struct layout *
layout_of(bool authenticated)
{
	return authenticated ? &auth_layout : &unauth_layout;
}

/*
 * TAI - UTC, process-wide: a fact about the host's clock, not about one
 * listener, refreshed by stamp_clock_state() (once a second per listener)
 * and read on every PTP timestamp; relaxed is enough, any recent value is.
 */
static _Atomic int tai_offset = STAMP_TAI_UTC_DEFAULT;

int
stamp_tai_offset(void)
{
	return atomic_load_explicit(&tai_offset, memory_order_relaxed);
}

uint64_t
stamp_ts_encode(const struct timespec *ts, enum stamp_ts_format fmt)
{
	uint64_t frac;

	/* PTPv2 counts TAI seconds; CLOCK_REALTIME counts UTC ones. */
	if (fmt == STAMP_TS_PTP)
		return (uint64_t)(uint32_t)(ts->tv_sec + stamp_tai_offset()) << 32 |
		    (uint32_t)ts->tv_nsec;
	/* Seconds wrap at 2036 into NTP era 1: the low 32 bits are what goes out. */
	frac = ((uint64_t)ts->tv_nsec << 32) / NSEC;
	return (uint64_t)(uint32_t)((uint64_t)ts->tv_sec + NTP_UNIX_OFFSET) << 32 | frac;
}

void
stamp_ts_decode(uint64_t wire, enum stamp_ts_format fmt, struct timespec *ts)
{
	uint32_t sec = (uint32_t)(wire >> 32), low = (uint32_t)wire;
	uint64_t ns;

	if (fmt == STAMP_TS_PTP) {
		ts->tv_sec = (time_t)sec - stamp_tai_offset();
		ns = low;
	} else {
		/* Before 1970 in era 0 cannot be a real send time: read it as era 1. */
		ts->tv_sec = sec >= NTP_UNIX_OFFSET ? (time_t)(sec - NTP_UNIX_OFFSET) :
		    (time_t)((uint64_t)sec + (1ull << 32) - NTP_UNIX_OFFSET);
		ns = ((uint64_t)low * NSEC + (1ull << 31)) >> 32;
	}
	ts->tv_sec += (time_t)(ns / NSEC);
	ts->tv_nsec = (long)(ns % NSEC);
}

void
stamp_clock_from_timex(int state, int status, long esterror_us, struct stamp_clock *c)
{
	uint64_t units, mult;
	unsigned scale = 0;

	c->synced = state != TIME_ERROR && !(status & STA_UNSYNC);
	if (esterror_us < 0)
		esterror_us = 0;
	if (esterror_us > 1000000000L)	/* 1000 s: past anything the kernel reports */
		esterror_us = 1000000000L;
	/* The error in 2^-32 s units, rounded up: an estimate must not understate. */
	units = ((uint64_t)esterror_us << 32) / 1000000u;
	if (((uint64_t)esterror_us << 32) % 1000000u)
		units++;
	for (;;) {
		mult = (units + (1ull << scale) - 1) >> scale;
		if (mult <= 255 || scale == 63)
			break;
		scale++;
	}
	c->scale = (uint8_t)scale;
	c->multiplier = mult == 0 ? 1 : (uint8_t)(mult > 255 ? 255 : mult);
}

int
stamp_clock_state(struct stamp_clock *c)
{
	struct timex tx;
	int state;

	memset(&tx, 0, sizeof(tx));	/* modes 0: read only */
	state = adjtimex(&tx);
	if (state == -1) {
		/* Seccomp (ProtectClock=) says EPERM: then we cannot claim a synced clock. */
		stamp_clock_from_timex(TIME_ERROR, STA_UNSYNC, 0, c);
		return -1;
	}
	stamp_clock_from_timex(state, tx.status, tx.esterror, c);
	/* 0: nobody told the kernel (no NTP/PTP daemon sets it); keep the default. */
	if (tx.tai > 0 && tx.tai < 1000)
		atomic_store_explicit(&tai_offset, tx.tai, memory_order_relaxed);
	return 0;
}

uint16_t
stamp_error_estimate(const struct stamp_clock *c, enum stamp_ts_format fmt)
{
	uint16_t ee = (uint16_t)((c->scale & 0x3f) << 8 | (c->multiplier ? c->multiplier : 1));

	if (c->synced)
		ee |= STAMP_EE_S;
	if (fmt == STAMP_TS_PTP)
		ee |= STAMP_EE_Z;
	return ee;
}

double
stamp_error_seconds(uint16_t ee)
{
	unsigned scale = (ee >> 8) & 0x3f;

	return (double)(ee & 0xff) * (double)(1ull << scale) / 4294967296.0;
}

int
stamp_test_parse(const uint8_t *pkt, size_t len, bool authenticated, struct stamp_test *t)
{
	const struct layout *at = layout_of(authenticated);

	memset(t, 0, sizeof(*t));
	if (len < at->base) {
		errno = EMSGSIZE;
		return -1;
	}
	t->authenticated = authenticated;
	t->base_len = at->base;
	t->len = len;
	t->seq = stamp_get32(pkt);
	t->timestamp = stamp_get64(pkt + at->ts);
	t->error_estimate = stamp_get16(pkt + at->ee);
	t->ssid = stamp_get16(pkt + at->ssid);
	return 0;
}

void
stamp_reflect_build(uint8_t *buf, const struct stamp_test *t, const struct stamp_reflection *r)
{
	const struct layout *at = layout_of(t->authenticated);

	/* Every MBZ octet of the base is zero; the sender's fields are in *t. */
	memset(buf, 0, t->base_len);
	stamp_put32(buf, r->seq);
	stamp_put16(buf + at->ee, stamp_error_estimate(&r->clock, r->fmt));
	stamp_put16(buf + at->ssid, t->ssid);
	stamp_put64(buf + at->rx_ts, stamp_ts_encode(&r->t2, r->fmt));
	stamp_put32(buf + at->s_seq, t->seq);
	stamp_put64(buf + at->s_ts, t->timestamp);
	stamp_put16(buf + at->s_ee, t->error_estimate);
	buf[at->ttl] = r->ttl;
}

void
stamp_reflect_send_time(uint8_t *buf, const struct stamp_test *t, const struct timespec *t3,
    enum stamp_ts_format fmt, const struct stamp_key *key)
{
	stamp_put64(buf + layout_of(t->authenticated)->ts, stamp_ts_encode(t3, fmt));
	if (t->authenticated && key != NULL)
		stamp_auth_sign(key, buf);
}

int
stamp_probe_build(uint8_t *buf, size_t len, const struct stamp_probe *p,
    const struct stamp_key *key)
{
	const struct layout *at = layout_of(key != NULL);

	if (len < at->base) {
		errno = EMSGSIZE;
		return -1;
	}
	memset(buf, 0, len);
	stamp_put32(buf, p->seq);
	stamp_put64(buf + at->ts, stamp_ts_encode(&p->t1, p->fmt));
	stamp_put16(buf + at->ee, stamp_error_estimate(&p->clock, p->fmt));
	stamp_put16(buf + at->ssid, p->ssid);
	if (key != NULL)
		stamp_auth_sign(key, buf);
	return 0;
}

int
stamp_reply_parse(const uint8_t *pkt, size_t len, const struct stamp_key *key,
    struct stamp_reply *r)
{
	const struct layout *at = layout_of(key != NULL);
	/* Liberal in what is read: RFC 5357 4.2.1's TWAMP-Light reflector packet is this
	 * layout ending with the Sender TTL, 41 octets, padding only after it; the HMAC of
	 * an authenticated one closes its base. */
	size_t min = key != NULL ? at->base : at->ttl + 1;

	memset(r, 0, sizeof(*r));
	if (len < min) {
		errno = EMSGSIZE;
		return -1;
	}
	if (key != NULL && !stamp_auth_verify(key, pkt, len)) {
		errno = EBADMSG;
		return -1;
	}
	r->base_len = len < at->base ? len : at->base;
	r->seq = stamp_get32(pkt);
	r->t3 = stamp_get64(pkt + at->ts);
	r->error_estimate = stamp_get16(pkt + at->ee);
	r->ssid = stamp_get16(pkt + at->ssid);
	r->t2 = stamp_get64(pkt + at->rx_ts);
	r->sender_seq = stamp_get32(pkt + at->s_seq);
	r->t1 = stamp_get64(pkt + at->s_ts);
	r->sender_error_estimate = stamp_get16(pkt + at->s_ee);
	r->sender_ttl = pkt[at->ttl];
	return 0;
}

/*
 * RFC 8762 4.6: a TWAMP-Light sender's test packet (RFC 5357 4.1.2, 14
 * octets) is shorter than STAMP's base, and the reflector answers it with
 * its own base packet. The missing octets read as zeros (SSID 0, no MBZ
 * surprises), so everything after this sees a base-long packet. 0: long
 * enough as it is; 1: made base-long; -1: not answered (pkt untouched).
 * Authenticated mode never answers one: RFC 5357's
 * authenticated test packet (48 octets: Sequence Number, MBZ, Timestamp,
 * Error Estimate, MBZ, HMAC) is HMAC-SHA1 keyed by TWAMP-Control, which
 * STAMP's HMAC-SHA-256 over 96 octets cannot check, and a reply nobody
 * verified would turn a spoofed 48 octets into a signed 112 for anyone.
 */
static int
short_extend(uint8_t *pkt, size_t *len, const struct stamp_reflector *r)
{
	if (*len >= STAMP_UNAUTH_LEN && (r->key == NULL || *len >= STAMP_AUTH_LEN))
		return 0;
	if (r->key != NULL || r->short_drop || *len < STAMP_TWAMP_LIGHT_LEN)
		return -1;
	memset(pkt + *len, 0, STAMP_UNAUTH_LEN - *len);
	*len = STAMP_UNAUTH_LEN;
	return 1;
}

/*
 * A stateless listener's Direct Measurement counts: the same view a session
 * gives, over every sender. NULL when the caller keeps no counters.
 */
static const struct stamp_session_view *
listener_view(const struct stamp_arrival *a, struct stamp_session_view *v)
{
	if (a->counters == NULL)
		return NULL;
	v->rx = atomic_fetch_add_explicit(&a->counters->rx, 1, memory_order_relaxed) + 1;
	v->tx = v->rx;
	v->seq = 0;
	v->restarted = false;
	return v;
}

static void
tlv_env(struct stamp_tlv_env *env, const struct stamp_reflector *r,
    const struct stamp_arrival *a, const struct stamp_session_view *counts)
{
	env->tos = a->tos;
	env->sync_src = r->sync_src;
	env->synced = a->clock.synced;
	/* T2 from clock_gettime() after the queue, not the kernel's: RFC 8972's "control plane". */
	env->ts_in = a->t2_user ? STAMP_TSM_CONTROL : r->ts_in;
	env->ts_out = r->ts_out;
	env->dscp_allow = r->dscp_allow;
	env->session = counts;
	env->key = r->key;
}

int
stamp_reflect(uint8_t *pkt, size_t len, const struct stamp_reflector *r,
    const struct stamp_arrival *a, struct stamp_outcome *out)
{
	struct stamp_reflection refl;
	struct stamp_session_view view, *viewp = NULL;
	const struct stamp_session_view *counts;
	struct stamp_tlv_env env;
	uint8_t sender_seq[4];
	int extended;

	memset(out, 0, sizeof(*out));
	out->tlv.dscp = -1;
	extended = short_extend(pkt, &len, r);
	if (extended == -1 || stamp_test_parse(pkt, len, r->key != NULL, &out->test) == -1) {
		out->drop = STAMP_DROP_SHORT;
		return -1;
	}
	out->short_answered = extended == 1;
	/* Verify before anything is counted: a forged packet must not move a session. */
	if (r->key != NULL && !stamp_auth_verify(r->key, pkt, len)) {
		out->drop = STAMP_DROP_AUTH;
		return -1;
	}
	memset(&refl, 0, sizeof(refl));
	refl.seq = out->test.seq;
	if (r->sessions != NULL) {
		if (stamp_sessions_count(r->sessions, a->src, out->test.ssid, out->test.seq, a->now_s,
		    &view) == -1) {
			out->drop = STAMP_DROP_SESSIONS;
			return -1;
		}
		refl.seq = view.seq;
		out->session_restarted = view.restarted;
		viewp = &view;
	}
	counts = viewp != NULL ? viewp : listener_view(a, &view);
	refl.t2 = a->t2;
	refl.ttl = a->ttl < 0 ? 0 : a->ttl > 255 ? 255 : (uint8_t)a->ttl;
	refl.fmt = r->fmt;
	refl.clock = a->clock;
	memcpy(sender_seq, pkt, sizeof(sender_seq));
	stamp_reflect_build(pkt, &out->test, &refl);
	if (r->tlvs && len > out->test.base_len) {
		tlv_env(&env, r, a, counts);
		stamp_tlv_reflect(pkt, len, out->test.base_len, sender_seq, &env, &out->tlv);
	}
	return 0;
}
