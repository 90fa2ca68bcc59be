/* SPDX-License-Identifier: MIT */
/* fuzz_stamp: libFuzzer harness for the STAMP reflector: parser, TLV walk, HMAC, sessions. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stamp.h"

/*
 * Input: a 4-byte header, then the datagram. Header: [0] flags (bit 0
 * authenticated, bit 1 stateful, bit 2 TLVs, bit 3 PTP timestamps, bit 4
 * short packets dropped, bit 5 T2 from user space, bit 6 listener counters),
 * [1] TOS received and dscp_allow's pattern, [2] TTL, [3] source port and
 * SSID low bits (spreads sessions). The datagram is copied into an
 * allocation of exactly its length, or STAMP_UNAUTH_LEN when shorter (room
 * for RFC 8762 4.6's base-long reply to a short TWAMP-Light packet), so ASan
 * sees any octet read or written past it. Invariants checked: the reply
 * parses back (the received length, or the base for a short one; the
 * sender's fields where RFC 8762 puts them) and its TLV walk ends inside it.
 */
enum {
	F_AUTH = 1, F_STATEFUL = 2, F_TLVS = 4, F_PTP = 8, F_SHORT_DROP = 16, F_T2_USER = 32,
	F_COUNTERS = 64,
};
#define HDR	4

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct stamp_sessions *sessions;
static struct stamp_key key = { .len = 32 };
static uint64_t clock_s;

static void
check_reply(const uint8_t *pkt, size_t len, const struct stamp_reflector *r,
    const struct stamp_outcome *out)
{
	struct stamp_reply rep;
	struct stamp_tlv t;
	size_t off = 0, base = out->test.base_len;

	if (len != (out->short_answered ? STAMP_UNAUTH_LEN : out->test.len) ||
	    stamp_reply_parse(pkt, len, r->key, &rep) != 0 || rep.sender_seq != out->test.seq ||
	    rep.ssid != out->test.ssid || rep.t1 != out->test.timestamp || rep.base_len != base)
		abort();
	while (stamp_tlv_next(pkt + base, len - base, &off, &t) == 1)
		if (off > len - base)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stamp_reflector r;
	struct stamp_arrival a;
	struct stamp_outcome out;
	struct sockaddr_in src;
	struct timespec t3 = { 1704067200, 750000000 };
	uint8_t *pkt;
	size_t len, room;

	if (size < HDR)
		return 0;
	if (sessions == NULL) {
		sessions = stamp_sessions_new(64, 3);
		for (size_t i = 0; i < key.len; i++)
			key.key[i] = (uint8_t)i;
	}
	len = size - HDR;
	room = len > STAMP_UNAUTH_LEN ? len : STAMP_UNAUTH_LEN;
	pkt = malloc(room);
	if (pkt == NULL || sessions == NULL)
		abort();
	memcpy(pkt, data + HDR, len);
	memset(&r, 0, sizeof(r));
	r.key = data[0] & F_AUTH ? &key : NULL;
	r.sessions = data[0] & F_STATEFUL ? sessions : NULL;
	r.tlvs = data[0] & F_TLVS;
	r.fmt = data[0] & F_PTP ? STAMP_TS_PTP : STAMP_TS_NTP;
	r.short_drop = data[0] & F_SHORT_DROP;
	r.dscp_allow = UINT64_C(0x0101010101010101) * data[1];
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	src.sin_port = htons((uint16_t)(40000 + data[3] % 8));
	src.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	memset(&a, 0, sizeof(a));
	a.src = (struct sockaddr *)&src;
	a.now_s = clock_s++ / 16;
	a.tos = data[1];
	a.ttl = data[2];
	a.t2_user = data[0] & F_T2_USER;
	a.counters = data[0] & F_COUNTERS ? &r.counters : NULL;
	stamp_clock_from_timex(0, 0, data[1] * 1000L, &a.clock);
	/* Authenticated inputs rarely carry a right HMAC: sign half of them so the rest runs. */
	if (r.key != NULL && len >= STAMP_AUTH_LEN && (data[3] & 0x80))
		stamp_auth_sign(&key, pkt);
	if (stamp_reflect(pkt, len, &r, &a, &out) == 0) {
		stamp_reflect_send_time(pkt, &out.test, &t3, r.fmt, r.key);
		check_reply(pkt, out.test.len, &r, &out);
		if (out.short_answered && (r.key != NULL || r.short_drop || len >= STAMP_UNAUTH_LEN ||
		    len < STAMP_TWAMP_LIGHT_LEN))
			abort();
	} else if (out.drop == STAMP_OK) {
		abort();
	}
	free(pkt);
	return 0;
}
