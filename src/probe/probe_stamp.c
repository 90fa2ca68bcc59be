/* SPDX-License-Identifier: MIT */
/* The STAMP session-sender: test packets out, reflector packets in, what they measure. */
#include <errno.h>
#include <string.h>

#include "probe_stamp.h"

#define STAMPPKT_COS_LEN	4
#define STAMPPKT_HMAC_TLV	(STAMP_TLV_HDR + STAMP_HMAC_LEN)

/*
 * A TLV of the sender's: RFC 8972 4 wants its U flag set (M and I clear) before the
 * packet goes out; a reflector that recognises the TLV clears U in its reply.
 * stamp_tlv_put() writes the flags as 0 for everyone, so the flag is set here.
 */
static void
stamppkt_tlv(uint8_t *buf, size_t len, size_t *off, uint8_t type, const void *value,
    uint16_t vlen)
{
	size_t at = *off;

	if (stamp_tlv_put(buf, len, off, type, value, vlen) == 0)
		buf[at] = STAMP_TLV_U;
}

size_t
stamppkt_min_len(bool auth, bool cos)
{
	size_t n = auth ? STAMP_AUTH_LEN : STAMP_UNAUTH_LEN;

	/* TLVs are only sent when asked for; in authenticated mode an HMAC TLV ends them. */
	if (cos)
		n += STAMP_TLV_HDR + STAMPPKT_COS_LEN + (auth ? STAMPPKT_HMAC_TLV : 0);
	return n;
}

int
stamppkt_build(uint8_t *buf, size_t len, const struct stamp_send *ss, uint32_t seq,
    const struct timespec *t1)
{
	struct stamp_probe p = { seq, *t1, ss->ssid, ss->fmt, ss->clock };
	size_t base = ss->key != NULL ? STAMP_AUTH_LEN : STAMP_UNAUTH_LEN, off = base, left;
	size_t hmac = ss->key != NULL ? STAMPPKT_HMAC_TLV : 0, hoff;
	uint8_t cos[STAMPPKT_COS_LEN];

	if (len < stamppkt_min_len(ss->key != NULL, ss->cos_dscp >= 0) ||
	    stamp_probe_build(buf, len, &p, ss->key) == -1) {
		errno = EMSGSIZE;
		return -1;
	}
	if (ss->cos_dscp < 0)
		return 0;	/* zeros to the end: RFC 8762 padding, TWAMP-Light's too */
	stamp_tlv_cos_request(cos, (uint8_t)ss->cos_dscp);
	stamppkt_tlv(buf, len, &off, STAMP_TLV_COS, cos, sizeof(cos));
	/* Padding as RFC 8972 4.2 wants it, inside the TLVs (and under the HMAC); a rest of
	 * 1 to 3 octets cannot hold a TLV header and trails as zeros, which reflectors read
	 * as RFC 8762 padding. */
	left = len - off - hmac;
	if (left >= STAMP_TLV_HDR)
		stamppkt_tlv(buf, len, &off, STAMP_TLV_PADDING, NULL,
		    (uint16_t)(left - STAMP_TLV_HDR));
	if (ss->key != NULL) {
		hoff = off;
		stamppkt_tlv(buf, len, &off, STAMP_TLV_HMAC, NULL, STAMP_HMAC_LEN);
		stamp_tlv_sign(ss->key, buf, base, hoff);
	}
	return 0;
}

int
stamppkt_sender_seq(const uint8_t *pkt, size_t len, bool auth, uint32_t *seq)
{
	size_t at = auth ? STAMP_AUTH_SENDER_SEQ : STAMP_UNAUTH_SENDER_SEQ;

	/* Not 0 for "none": 0 is the first probe's number (RFC 8762 4.2.1). */
	if (len < at + 4)
		return -1;
	*seq = stamp_get32(pkt + at);
	return 0;
}

static uint64_t
stamppkt_ns(uint64_t wire, enum stamp_ts_format fmt)
{
	struct timespec ts;

	stamp_ts_decode(wire, fmt, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Class of Service answer (RFC 8972 4.4): DSCP1(6) DSCP2(6) ECN(2) RP(2), as
 * stamp_tlv.c writes it. */
static void
stamppkt_cos(const struct stamp_tlv *t, struct stamp_answer *a)
{
	if (t->len != STAMPPKT_COS_LEN || (t->flags & (STAMP_TLV_U | STAMP_TLV_M | STAMP_TLV_I)))
		return;
	a->cos = true;
	a->cos_dscp1 = t->value[0] >> 2;
	a->cos_dscp2 = (uint8_t)((t->value[0] & 3) << 4 | t->value[1] >> 4);
	a->cos_ecn = (t->value[1] >> 2) & 3;
}

/*
 * The reply's TLVs: the CoS answer, the flags, and in authenticated mode the
 * HMAC TLV, over the reflector's Sequence Number and the TLVs before it
 * (RFC 8972 4.8). 0, or -1 when that HMAC does not verify.
 */
static int
stamppkt_tlvs(const uint8_t *pkt, size_t len, const struct stamp_key *key,
    struct stamp_answer *a)
{
	const uint8_t *p = pkt + a->r.base_len;
	size_t n = len - a->r.base_len, off = 0, at;
	uint8_t mac[STAMP_HMAC_LEN];
	struct stamp_tlv t;

	/* Trailing zeros are padding; a walk that cannot go on stops there. */
	for (at = 0; stamp_tlv_next(p, n, &off, &t) == 1; at = off) {
		if (t.type == 0 && t.len == 0 && t.flags == 0)
			break;
		a->tlv_flags |= t.flags;
		if (t.type == STAMP_TLV_COS)
			stamppkt_cos(&t, a);
		if (t.type == STAMP_TLV_HMAC && key != NULL) {
			if (t.len != STAMP_HMAC_LEN)
				return -1;
			stamp_hmac(key, pkt, 4, p, at, mac);
			return stamp_hmac_equal(mac, t.value) ? 0 : -1;
		}
	}
	return 0;
}

int
stamppkt_read(const uint8_t *pkt, size_t len, const struct stamp_key *key,
    struct stamp_answer *a)
{
	enum stamp_ts_format fmt;

	memset(a, 0, sizeof(*a));
	if (stamp_reply_parse(pkt, len, key, &a->r) == -1)
		return -1;
	if (stamppkt_tlvs(pkt, len, key, a) == -1) {
		errno = EBADMSG;
		return -1;
	}
	/* T2 and T3 are the reflector's: its Error Estimate's Z says how they are encoded. */
	fmt = a->r.error_estimate & STAMP_EE_Z ? STAMP_TS_PTP : STAMP_TS_NTP;
	a->t2_ns = stamppkt_ns(a->r.t2, fmt);
	a->t3_ns = stamppkt_ns(a->r.t3, fmt);
	a->synced = (a->r.error_estimate & STAMP_EE_S) != 0;
	return 0;
}

/* The TTL the test packet most likely started with: the common initial values. */
static int
stamppkt_initial_ttl(int seen)
{
	if (seen <= 64)
		return 64;
	return seen <= 128 ? 128 : 255;
}

void
stamppkt_result(const struct stamp_answer *a, uint64_t t1_ns, double rtt, bool local_synced,
    int init_ttl, int cos_asked, int reply_tos, struct stamp_result *res)
{
	memset(res, 0, sizeof(*res));
	res->rtt = rtt;
	/* Differences in integers first: a double holds ns since 1970 only to 256 ns. */
	res->dwell = (double)(int64_t)(a->t3_ns - a->t2_ns) / 1e6;
	res->rtt_net = rtt - res->dwell;
	res->local_synced = local_synced;
	res->remote_synced = a->synced;
	res->oneway = local_synced && a->synced;
	/* T4 = T1 + rtt: forward + dwell + backward is the round trip exactly. */
	res->forward = (double)(int64_t)(a->t2_ns - t1_ns) / 1e6;
	res->backward = rtt - res->dwell - res->forward;
	res->reflector_seq = a->r.seq;
	res->ssid = a->r.ssid;
	/* 0 is what a reflector sends when it could not read the TTL (RFC 8762 4.3.1). */
	res->sender_ttl = a->r.sender_ttl > 0 ? a->r.sender_ttl : -1;
	res->hops = -1;
	if (res->sender_ttl > 0) {
		int init = init_ttl > 0 ? init_ttl : stamppkt_initial_ttl(res->sender_ttl);

		if (init >= res->sender_ttl)
			res->hops = init - res->sender_ttl;
	}
	res->cos_asked = cos_asked;
	res->cos = a->cos && cos_asked >= 0;
	res->cos_dscp = res->cos ? a->cos_dscp2 : -1;
	res->cos_ecn = res->cos ? a->cos_ecn : -1;
	res->reply_dscp = reply_tos >= 0 ? reply_tos >> 2 : -1;
}

const char *
stamppkt_oneway_why(bool local_synced, bool remote_synced)
{
	if (local_synced && remote_synced)
		return NULL;
	if (!local_synced && !remote_synced)
		return "clocks not synchronised (sender and reflector)";
	return local_synced ? "clocks not synchronised (reflector)" :
	    "clocks not synchronised (sender)";
}
