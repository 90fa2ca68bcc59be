/* SPDX-License-Identifier: MIT */
/* stamp_tlv: RFC 8972 TLVs: walking them safely, and answering them as the session-reflector. */
#include <errno.h>
#include <string.h>

#include "stamp.h"

/* The flags a reflector owns; the sender sets them to zero and we set them afresh. */
#define FLAGS_OWNED	(STAMP_TLV_U | STAMP_TLV_M | STAMP_TLV_I)

int
stamp_tlv_next(const uint8_t *p, size_t len, size_t *off, struct stamp_tlv *t)
{
	size_t left;

	if (*off >= len)
		return 0;
	left = len - *off;
	if (left < STAMP_TLV_HDR || stamp_get16(p + *off + 2) > left - STAMP_TLV_HDR)
		return -1;
	t->flags = p[*off];
	t->type = p[*off + 1];
	t->len = stamp_get16(p + *off + 2);
	t->value = p + *off + STAMP_TLV_HDR;
	*off += STAMP_TLV_HDR + t->len;
	return 1;
}

int
stamp_tlv_put(uint8_t *buf, size_t cap, size_t *off, uint8_t type, const void *value,
    uint16_t vlen)
{
	if (*off > cap || cap - *off < (size_t)STAMP_TLV_HDR + vlen) {
		errno = EMSGSIZE;
		return -1;
	}
	buf[*off] = 0;
	buf[*off + 1] = type;
	stamp_put16(buf + *off + 2, vlen);
	if (value != NULL)
		memcpy(buf + *off + STAMP_TLV_HDR, value, vlen);
	else
		memset(buf + *off + STAMP_TLV_HDR, 0, vlen);
	*off += STAMP_TLV_HDR + vlen;
	return 0;
}

void
stamp_tlv_cos_request(uint8_t value[4], uint8_t dscp)
{
	memset(value, 0, 4);
	value[0] = (uint8_t)((dscp & 0x3f) << 2);
}

void
stamp_tlv_sign(const struct stamp_key *k, uint8_t *pkt, size_t base_len, size_t hmac_off)
{
	uint8_t *mac = pkt + hmac_off + STAMP_TLV_HDR;

	stamp_hmac(k, pkt, 4, pkt + base_len, hmac_off - base_len, mac);
}

/* The length of p[0 .. n) without its trailing zeros. */
static size_t
trim_zeros(const uint8_t *p, size_t n)
{
	while (n > 0 && p[n - 1] == 0)
		n--;
	return n;
}

/*
 * Find the first HMAC TLV in p[0 .. n) and check it against the packet as
 * received: HMAC over the test packet's Sequence Number and the TLVs before
 * it (RFC 8972 4.8). -1 if there is none; else its offset, *ok telling.
 */
static long
hmac_check(const uint8_t *p, size_t n, const uint8_t seq[4], const struct stamp_key *key,
    bool *ok)
{
	struct stamp_tlv t;
	uint8_t mac[STAMP_HMAC_LEN];
	size_t off = 0, at;

	*ok = false;
	for (at = off; stamp_tlv_next(p, n, &off, &t) == 1; at = off) {
		if (t.type != STAMP_TLV_HMAC)
			continue;
		if (key != NULL && t.len == STAMP_HMAC_LEN) {
			stamp_hmac(key, seq, 4, p, at, mac);
			*ok = stamp_hmac_equal(mac, t.value);
		}
		return (long)at;
	}
	return -1;
}

/*
 * Class of Service (RFC 8972 4.4): DSCP1 asked for, DSCP2 and ECN as
 * received. The local policy (dscp_allow) may refuse DSCP1: then, as 4.4
 * says, the reply goes with the DSCP the test packet came with, and RP = 1
 * tells the sender its DSCP1 was not used. A DSCP2 the policy refuses too
 * (a sender marking its own packets CS7) does not get through that way
 * either: the reply then goes with 0 (default forwarding).
 */
static void
answer_cos(uint8_t *v, const struct stamp_tlv_env *env, struct stamp_tlv_result *res)
{
	uint8_t dscp1 = v[0] >> 2, dscp2 = 0, ecn = 0, rp = 0;

	if (env->tos >= 0) {
		dscp2 = (uint8_t)((env->tos >> 2) & 0x3f);
		ecn = (uint8_t)(env->tos & 3);
	}
	res->dscp = dscp1;
	if (!(env->dscp_allow >> dscp1 & 1)) {
		res->dscp = env->dscp_allow >> dscp2 & 1 ? dscp2 : 0;
		res->cos_refused = true;
		rp = 1;
	}
	v[0] = (uint8_t)(dscp1 << 2 | dscp2 >> 4);
	v[1] = (uint8_t)((dscp2 & 0xf) << 4 | ecn << 2 | rp);
	v[2] = 0;
	v[3] = 0;
}

/*
 * Timestamp Information (RFC 8972 4.3): the sync source is what the Error
 * Estimate's S bit says of the same clock; an unsynchronised one is "Local
 * free-running", whatever it would be synchronised by.
 */
static void
answer_timestamp_info(uint8_t *v, const struct stamp_tlv_env *env)
{
	uint8_t src = env->synced ? env->sync_src : STAMP_SYNC_FREE;

	v[0] = src;
	v[1] = env->ts_in;
	v[2] = src;
	v[3] = env->ts_out;
}

/*
 * Direct Measurement (RFC 8972 4.5): S_TxC stays, R_RxC counts the test
 * packets received, this one included; R_TxC the replies transmitted before
 * this one: this reply is not sent yet when its counter is written, and
 * counting it would claim a transmission that may still fail. So R_TxC is
 * R_RxC - 1 while nothing is lost on the way out. "Transmitted" is counted
 * when a reply is built and handed to sendmmsg(): one the kernel then refuses
 * (ENOBUFS) is counted all the same, as nothing reports back after the send.
 */
static void
answer_direct(uint8_t *v, const struct stamp_session_view *counts)
{
	stamp_put32(v + 4, counts->rx);
	stamp_put32(v + 8, counts->tx - 1);
}

/* Answer one TLV in place; returns the flags it gets (U or M, or 0). */
static uint8_t
answer(uint8_t *v, const struct stamp_tlv *t, const struct stamp_tlv_env *env, bool first_hmac,
    struct stamp_tlv_result *res)
{
	switch (t->type) {
	case STAMP_TLV_PADDING:
		return 0;	/* the sender's octets go back as they came */
	case STAMP_TLV_TIMESTAMP_INFO:
		if (t->len != 4)
			return STAMP_TLV_M;
		answer_timestamp_info(v, env);
		return 0;
	case STAMP_TLV_COS:
		if (t->len != 4)
			return STAMP_TLV_M;
		answer_cos(v, env, res);
		return 0;
	case STAMP_TLV_DIRECT:
		if (t->len != 12)
			return STAMP_TLV_M;
		/* No counts kept (a library caller without counters): cannot answer. */
		if (env->session == NULL)
			return STAMP_TLV_U;
		answer_direct(v, env->session);
		return 0;
	case STAMP_TLV_HMAC:
		if (t->len != STAMP_HMAC_LEN)
			return STAMP_TLV_M;
		/* Without a key (unauthenticated mode) there is nothing to check it with. */
		return first_hmac && env->key != NULL ? 0 : STAMP_TLV_U;
	default:
		return STAMP_TLV_U;
	}
}

/*
 * RFC 8972 4.8: "The HMAC TLV MUST follow all TLVs included in a STAMP test
 * packet except for the Extra Padding TLV", so in authenticated mode what it
 * covers is what is before it, and only that may be acted on. A TLV after
 * it, or any TLV when there is none, has nothing vouching for it: anyone on
 * the path could have added it (a Class of Service TLV asking for CS7). It
 * gets I, the flag RFC 8972 4 gives a TLV whose integrity could not be
 * established, rather than M: its framing and Length are fine, the sender
 * needs to learn it was not protected. Extra Padding is exempt: nothing is
 * done with it, and 4.8 puts it after the HMAC TLV on purpose.
 */
static bool
covered(const struct stamp_tlv *t, size_t at, long hmac_at, const struct stamp_tlv_env *env)
{
	if (env->key == NULL || t->type == STAMP_TLV_PADDING)
		return true;
	return hmac_at >= 0 && at <= (size_t)hmac_at;
}

static void
count(uint8_t flags, struct stamp_tlv_result *res)
{
	if (flags & STAMP_TLV_M)
		res->malformed++;
	else if (flags & STAMP_TLV_U)
		res->unknown++;
	else if (flags & STAMP_TLV_I)
		res->unprotected++;
	else
		res->known++;
}

/* The flags TLV t at `at` gets, answering it when it may be acted on. */
static uint8_t
tlv_flags(uint8_t *p, size_t at, const struct stamp_tlv *t, long hmac_at,
    const struct stamp_tlv_env *env, struct stamp_tlv_result *res)
{
	if (res->integrity_failed)
		return STAMP_TLV_I;
	if (!covered(t, at, hmac_at, env))
		return STAMP_TLV_I;
	return answer(p + at + STAMP_TLV_HDR, t, env, (long)at == hmac_at, res);
}

void
stamp_tlv_reflect(uint8_t *pkt, size_t len, size_t base_len, const uint8_t sender_seq_be[4],
    const struct stamp_tlv_env *env, struct stamp_tlv_result *res)
{
	uint8_t *p = pkt + base_len;
	size_t n = len > base_len ? len - base_len : 0, off = 0, at, end;
	struct stamp_tlv t;
	long hmac_at;
	bool hmac_ok;
	uint8_t flags;

	memset(res, 0, sizeof(*res));
	res->dscp = -1;
	hmac_at = hmac_check(p, n, sender_seq_be, env->key, &hmac_ok);
	/* An HMAC TLV that fails in authenticated mode: flag everything, act on nothing. */
	res->integrity_failed = hmac_at >= 0 && env->key != NULL && !hmac_ok;
	/* Zeros to the end are RFC 8762 padding from a sender that knows no TLVs. */
	end = trim_zeros(p, n);
	res->legacy_padding = end == 0 && n > 0;
	for (at = 0; at < end; at = off) {
		/* Cut short: M on what is there, and nothing after it can be read. */
		if (stamp_tlv_next(p, n, &off, &t) != 1)
			flags = STAMP_TLV_M;
		else
			flags = tlv_flags(p, at, &t, hmac_at, env, res);
		p[at] = (uint8_t)((p[at] & ~FLAGS_OWNED) | flags);
		count(flags, res);
		/* RFC 8972 4: after a malformed TLV the reflector stops; the rest goes back as is. */
		if (flags & STAMP_TLV_M)
			break;
	}
	if (res->integrity_failed) {
		res->dscp = -1;
		res->cos_refused = false;
	}
	/*
	 * Our own HMAC TLV covers our Sequence Number and the TLVs as we send
	 * them. The one octet string re-written even after an M: without it the
	 * sender would discard the whole reply, M included.
	 */
	if (hmac_at >= 0 && env->key != NULL && !(p[hmac_at] & STAMP_TLV_M) &&
	    stamp_get16(p + hmac_at + 2) == STAMP_HMAC_LEN)
		stamp_tlv_sign(env->key, pkt, base_len, base_len + (size_t)hmac_at);
}
