/* SPDX-License-Identifier: MIT */
/* check_stamp: STAMP golden packets both ways, HMAC, TLVs, tshark's decode, the session table. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nettle/hmac.h>

#include "alloc-count.h"
#include "pcap-write.h"
#include "stamp-golden.h"
#include "stamp.h"
#include "stamp_conf.h"
#include "udp_stamp.h"

/* 2024-01-01 00:00:00 UTC, the golden packets' second. */
#define GOLDEN_SEC	1704067200
#define MAXPKT		2048

static const struct stamp_clock golden_clock = { true, 10, 3 };
/* stamp_conf.c's default dscp_allow: every DSCP but CS6 (48) and CS7 (56). */
#define DSCP_DEFAULT	STAMP_DSCP_ALLOW_DEFAULT

static struct timespec
golden_time(long nsec)
{
	struct timespec ts = { GOLDEN_SEC, nsec };

	return ts;
}

static struct sockaddr_in
loopback(uint16_t port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sin;
}

static struct stamp_arrival
golden_arrival(const struct sockaddr_in *src)
{
	struct stamp_arrival a;

	memset(&a, 0, sizeof(a));
	a.src = (const struct sockaddr *)src;
	a.t2 = golden_time(625000000);
	a.now_s = 1000;
	a.ttl = 64;
	a.tos = -1;
	a.clock = golden_clock;
	return a;
}

static struct stamp_reflector
reflector(const struct stamp_key *key, struct stamp_sessions *sessions)
{
	struct stamp_reflector r;

	memset(&r, 0, sizeof(r));
	r.key = key;
	r.sessions = sessions;
	r.fmt = STAMP_TS_NTP;
	r.tlvs = true;
	r.sync_src = STAMP_SYNC_NTP;
	r.ts_in = STAMP_TSM_SW;
	r.ts_out = STAMP_TSM_SW;
	r.dscp_allow = DSCP_DEFAULT;
	return r;
}

/* The golden sender packet in, stamp_reflect() and T3, the golden reflector packet out. */
static void
golden_reflect(const char *in, const char *want, const struct stamp_key *key)
{
	uint8_t pkt[MAXPKT], exp[MAXPKT];
	size_t len = golden_hex(in, pkt, sizeof(pkt)), elen = golden_hex(want, exp, sizeof(exp));
	struct sockaddr_in src = loopback(40000);
	struct stamp_arrival a = golden_arrival(&src);
	struct stamp_reflector r = reflector(key, NULL);
	struct stamp_outcome out;
	struct timespec t3 = golden_time(750000000);

	ck_assert_uint_eq(len, key != NULL ? STAMP_AUTH_LEN : STAMP_UNAUTH_LEN);
	ck_assert_int_eq(stamp_reflect(pkt, len, &r, &a, &out), 0);
	stamp_reflect_send_time(pkt, &out.test, &t3, r.fmt, key);
	ck_assert_uint_eq(elen, len);
	for (size_t i = 0; i < len; i++)
		ck_assert_msg(pkt[i] == exp[i], "%s: octet %zu is %02x, %s has %02x", in, i, pkt[i],
		    want, exp[i]);
	ck_assert(out.tlv.legacy_padding == false && out.tlv.dscp == -1);
}

START_TEST(test_golden_reflect_unauth)
{
	golden_reflect("stamp-sender-unauth.hex", "stamp-reflector-unauth.hex", NULL);
}
END_TEST

START_TEST(test_golden_reflect_auth)
{
	struct stamp_key k;

	golden_key(&k);
	golden_reflect("stamp-sender-auth.hex", "stamp-reflector-auth.hex", &k);
}
END_TEST

/* The sender side builds the golden test packets byte for byte. */
START_TEST(test_golden_probe_build)
{
	struct stamp_probe p = { 7, { GOLDEN_SEC, 500000000 }, 0x1234, STAMP_TS_NTP,
		{ true, 0, 1 } };
	uint8_t got[MAXPKT], exp[MAXPKT];
	struct stamp_key k;
	size_t n;

	n = golden_hex("stamp-sender-unauth.hex", exp, sizeof(exp));
	ck_assert_int_eq(stamp_probe_build(got, n, &p, NULL), 0);
	ck_assert_mem_eq(got, exp, n);
	golden_key(&k);
	n = golden_hex("stamp-sender-auth.hex", exp, sizeof(exp));
	ck_assert_int_eq(stamp_probe_build(got, n, &p, &k), 0);
	ck_assert_mem_eq(got, exp, n);
	ck_assert_int_eq(stamp_probe_build(got, STAMP_AUTH_LEN - 1, &p, &k), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
}
END_TEST

static void
assert_golden_reply(const struct stamp_reply *r)
{
	struct timespec ts;

	ck_assert_uint_eq(r->seq, 7);
	ck_assert_uint_eq(r->sender_seq, 7);
	ck_assert_uint_eq(r->ssid, 0x1234);
	ck_assert_uint_eq(r->sender_ttl, 64);
	ck_assert_uint_eq(r->error_estimate, 0x8a03);
	ck_assert_uint_eq(r->sender_error_estimate, 0x8001);
	stamp_ts_decode(r->t1, STAMP_TS_NTP, &ts);
	ck_assert(ts.tv_sec == GOLDEN_SEC && ts.tv_nsec == 500000000);
	stamp_ts_decode(r->t2, STAMP_TS_NTP, &ts);
	ck_assert(ts.tv_sec == GOLDEN_SEC && ts.tv_nsec == 625000000);
	stamp_ts_decode(r->t3, STAMP_TS_NTP, &ts);
	ck_assert(ts.tv_sec == GOLDEN_SEC && ts.tv_nsec == 750000000);
}

/* The sender side reads the golden reflector packets; a wrong key is refused. */
START_TEST(test_golden_reply_parse)
{
	uint8_t pkt[MAXPKT];
	struct stamp_reply r;
	struct stamp_key k, wrong;
	size_t n;

	n = golden_hex("stamp-reflector-unauth.hex", pkt, sizeof(pkt));
	ck_assert_int_eq(stamp_reply_parse(pkt, n, NULL, &r), 0);
	assert_golden_reply(&r);
	/* RFC 5357 4.2.1: TWAMP-Light's reply ends at the Sender TTL; 41 octets are read. */
	ck_assert_int_eq(stamp_reply_parse(pkt, 41, NULL, &r), 0);
	assert_golden_reply(&r);
	ck_assert_uint_eq(r.base_len, 41);
	ck_assert_int_eq(stamp_reply_parse(pkt, 40, NULL, &r), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	golden_key(&k);
	n = golden_hex("stamp-reflector-auth.hex", pkt, sizeof(pkt));
	ck_assert_int_eq(stamp_reply_parse(pkt, n, &k, &r), 0);
	assert_golden_reply(&r);
	ck_assert_int_eq(stamp_reply_parse(pkt, n - 1, &k, &r), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	wrong = k;
	wrong.key[0] ^= 1;
	ck_assert_int_eq(stamp_reply_parse(pkt, n, &wrong, &r), -1);
	ck_assert_int_eq(errno, EBADMSG);
}
END_TEST

/*
 * Every length from the base to 1500 in both modes, zero padding (TWAMP-Light)
 * and an Extra Padding TLV: the reply is built in an allocation of exactly the
 * received length (ASan sees any octet past it), and the padding comes back
 * as it came. Shorter than the base: an unauthenticated one of 14 octets or
 * more is answered base-long (RFC 8762 4.6) in an allocation of the base;
 * the rest are dropped, never read past.
 */
START_TEST(test_reflect_every_padding)
{
	struct stamp_key k;
	struct sockaddr_in src = loopback(40000);
	struct stamp_arrival a = golden_arrival(&src);

	golden_key(&k);
	for (int auth = 0; auth < 2; auth++) {
		struct stamp_reflector r = reflector(auth ? &k : NULL, NULL);
		size_t base = auth ? STAMP_AUTH_LEN : STAMP_UNAUTH_LEN;

		for (size_t len = 0; len <= 1500; len++) {
			for (int tlv = 0; tlv < 2; tlv++) {
				struct stamp_probe p = { (uint32_t)len, a.t2, 9, STAMP_TS_NTP,
					golden_clock };
				/* stamp_reflect() may need room for a base reply. */
				size_t room = len > STAMP_UNAUTH_LEN ? len : STAMP_UNAUTH_LEN;
				uint8_t *pkt = malloc(room), *copy = malloc(len ? len : 1);
				struct stamp_outcome out;
				size_t off = base;
				bool answered = !auth && len >= STAMP_TWAMP_LIGHT_LEN;
				int rc;

				if (len >= base) {
					stamp_probe_build(pkt, len, &p, NULL);
					if (tlv && len - base >= STAMP_TLV_HDR)
						stamp_tlv_put(pkt, len, &off,
						    STAMP_TLV_PADDING, NULL,
						    (uint16_t)(len - base - STAMP_TLV_HDR));
					if (auth)
						stamp_auth_sign(&k, pkt);
				} else {
					memset(pkt, 0xa5, len);
				}
				memcpy(copy, pkt, len);
				rc = stamp_reflect(pkt, len, &r, &a, &out);
				if (len < base && answered) {
					ck_assert_int_eq(rc, 0);
					ck_assert(out.short_answered);
					ck_assert_uint_eq(out.test.len, STAMP_UNAUTH_LEN);
				} else if (len < base) {
					ck_assert_int_eq(rc, -1);
					ck_assert_int_eq(out.drop, STAMP_DROP_SHORT);
				} else {
					ck_assert_int_eq(rc, 0);
					ck_assert_uint_eq(out.test.len, len);
					ck_assert_mem_eq(pkt + base, copy + base, len - base);
					ck_assert_uint_eq(out.tlv.malformed + out.tlv.unknown, 0);
				}
				free(pkt);
				free(copy);
			}
		}
	}
}
END_TEST

/* Right key: answered. Wrong key, or any single bit flipped in the packet: dropped. */
START_TEST(test_hmac_verify)
{
	uint8_t pkt[MAXPKT], good[MAXPKT];
	size_t n = golden_hex("stamp-sender-auth.hex", good, sizeof(good));
	struct sockaddr_in src = loopback(40000);
	struct stamp_arrival a = golden_arrival(&src);
	struct stamp_key k, wrong;
	struct stamp_reflector r;
	struct stamp_outcome out;

	golden_key(&k);
	wrong = k;
	wrong.key[31] ^= 0x80;
	r = reflector(&k, NULL);
	memcpy(pkt, good, n);
	ck_assert_int_eq(stamp_reflect(pkt, n, &r, &a, &out), 0);
	r = reflector(&wrong, NULL);
	memcpy(pkt, good, n);
	ck_assert_int_eq(stamp_reflect(pkt, n, &r, &a, &out), -1);
	ck_assert_int_eq(out.drop, STAMP_DROP_AUTH);
	r = reflector(&k, NULL);
	for (size_t bit = 0; bit < n * 8; bit++) {
		memcpy(pkt, good, n);
		pkt[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ck_assert_msg(stamp_reflect(pkt, n, &r, &a, &out) == -1 &&
		    out.drop == STAMP_DROP_AUTH, "bit %zu flipped and still verified", bit);
	}
}
END_TEST

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert(fd != -1);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

/* Key files: hex only, 16 to 64 octets, nobody else may read them. */
START_TEST(test_key_load)
{
	char path[] = "/tmp/check_stamp_kXXXXXX";
	const char *hex32 = "000102030405060708090a0b0c0d0e0f\n";
	struct stamp_key k;
	int fd = mkstemp(path);

	ck_assert(fd != -1);
	close(fd);
	write_file(path, hex32, 0644);
	ck_assert_int_eq(stamp_key_load(path, &k), -1);
	ck_assert_int_eq(errno, EPERM);
	write_file(path, hex32, 0604);
	ck_assert_int_eq(stamp_key_load(path, &k), -1);
	write_file(path, hex32, 0600);
	ck_assert_int_eq(stamp_key_load(path, &k), 0);
	ck_assert_uint_eq(k.len, 16);
	ck_assert_uint_eq(k.key[15], 0x0f);
	write_file(path, "000102030405060708090a0b0c0d0e\n", 0600);	/* 15 octets */
	ck_assert_int_eq(stamp_key_load(path, &k), -1);
	ck_assert_int_eq(errno, EINVAL);
	write_file(path, "000102030405060708090a0b0c0d0e0g\n", 0600);
	ck_assert_int_eq(stamp_key_load(path, &k), -1);
	write_file(path, "00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f\n", 0600);
	ck_assert_int_eq(stamp_key_load(path, &k), -1);
	unlink(path);
	ck_assert_int_eq(stamp_key_load(path, &k), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

/* A test packet with one TLV of each kind the reflector knows, and one it does not. */
static size_t
tlv_packet(uint8_t *pkt, size_t cap, const struct stamp_key *k, size_t *offs)
{
	struct stamp_probe p = { 42, { GOLDEN_SEC, 0 }, 5, STAMP_TS_NTP, golden_clock };
	size_t base = k != NULL ? STAMP_AUTH_LEN : STAMP_UNAUTH_LEN, off = base;
	uint8_t pad[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, cos[4], direct[12] = { 0, 0, 0, 17 };
	uint8_t odd[3] = { 9, 9, 9 };

	ck_assert_int_eq(stamp_probe_build(pkt, cap, &p, k), 0);
	stamp_tlv_cos_request(cos, 46);
	offs[0] = off;
	stamp_tlv_put(pkt, cap, &off, STAMP_TLV_PADDING, pad, sizeof(pad));
	offs[1] = off;
	stamp_tlv_put(pkt, cap, &off, STAMP_TLV_TIMESTAMP_INFO, NULL, 4);
	offs[2] = off;
	stamp_tlv_put(pkt, cap, &off, STAMP_TLV_COS, cos, sizeof(cos));
	offs[3] = off;
	stamp_tlv_put(pkt, cap, &off, STAMP_TLV_DIRECT, direct, sizeof(direct));
	offs[4] = off;
	stamp_tlv_put(pkt, cap, &off, 200, odd, sizeof(odd));
	offs[5] = off;
	if (k != NULL) {
		stamp_tlv_put(pkt, cap, &off, STAMP_TLV_HMAC, NULL, STAMP_HMAC_LEN);
		stamp_tlv_sign(k, pkt, base, offs[5]);
		stamp_auth_sign(k, pkt);
	}
	return off;
}

/* The reflector answers each known TLV, and U-flags the unknown one. */
START_TEST(test_tlv_known_and_unknown)
{
	uint8_t pkt[MAXPKT];
	size_t offs[6], len = tlv_packet(pkt, sizeof(pkt), NULL, offs);
	struct sockaddr_in src = loopback(40000);
	struct stamp_arrival a = golden_arrival(&src);
	struct stamp_sessions *s = stamp_sessions_new(64, 10);
	struct stamp_reflector r = reflector(NULL, s);
	struct stamp_outcome out;
	const uint8_t *v;

	a.tos = 40 << 2 | 1;	/* arrived with DSCP 40 (CS5), ECN ECT(1) */
	ck_assert_int_eq(stamp_reflect(pkt, len, &r, &a, &out), 0);
	/* The session's second packet: its counters say 2. */
	tlv_packet(pkt, sizeof(pkt), NULL, offs);
	ck_assert_int_eq(stamp_reflect(pkt, len, &r, &a, &out), 0);
	ck_assert_uint_eq(out.tlv.known, 4);
	ck_assert_uint_eq(out.tlv.unknown, 1);
	ck_assert_uint_eq(out.tlv.malformed, 0);
	ck_assert_int_eq(out.tlv.dscp, 46);
	/* Extra Padding: as sent, no flags. */
	ck_assert_uint_eq(pkt[offs[0]], 0);
	ck_assert_uint_eq(pkt[offs[0] + 4], 1);
	ck_assert_uint_eq(pkt[offs[0] + 11], 8);
	/* Timestamp Information: NTP, software, both ways. */
	v = pkt + offs[1] + 4;
	ck_assert(v[0] == STAMP_SYNC_NTP && v[1] == STAMP_TSM_SW && v[2] == STAMP_SYNC_NTP &&
	    v[3] == STAMP_TSM_SW && pkt[offs[1]] == 0);
	/* Class of Service: DSCP1 46 kept, DSCP2 40 and ECN 1 as received, RP 0. */
	v = pkt + offs[2] + 4;
	ck_assert_uint_eq(v[0] >> 2, 46);
	ck_assert_uint_eq(((v[0] & 3) << 4) | v[1] >> 4, 40);
	ck_assert_uint_eq((v[1] >> 2) & 3, 1);
	ck_assert_uint_eq(v[1] & 3, 0);
	/*
	 * Direct Measurement: S-Tx kept, R-Rx from the session (second packet),
	 * R-Tx the replies transmitted before this one.
	 */
	v = pkt + offs[3] + 4;
	ck_assert_uint_eq(stamp_get32(v), 17);
	ck_assert_uint_eq(stamp_get32(v + 4), 2);
	ck_assert_uint_eq(stamp_get32(v + 8), 1);
	ck_assert_uint_eq(stamp_get32(pkt), 1);	/* stateful: the reflector's own count */
	/* Unknown type 200: U, value untouched. */
	ck_assert_uint_eq(pkt[offs[4]], STAMP_TLV_U);
	ck_assert_uint_eq(pkt[offs[4] + 4], 9);
	stamp_sessions_free(s);

	/* Stateless without counters (a caller keeping none): cannot be answered, so U. */
	r = reflector(NULL, NULL);
	len = tlv_packet(pkt, sizeof(pkt), NULL, offs);
	ck_assert_int_eq(stamp_reflect(pkt, len, &r, &a, &out), 0);
	ck_assert_uint_eq(pkt[offs[3]], STAMP_TLV_U);
	ck_assert_uint_eq(stamp_get32(pkt), 42);
}
END_TEST

/*
 * Issue 22 item 7, RFC 8972 4: a TLV with a Length wrong for its type gets M
 * and the reflector stops there: a Class of Service TLV after it is not
 * acted on (it took effect, TOS 192, before), and every octet after the
 * malformed TLV's flags goes back as received. Cut short: the same.
 */
START_TEST(test_i7_malformed_stops_rfc8972_4)
{
	uint8_t pkt[MAXPKT], copy[MAXPKT], cos[4];
	struct sockaddr_in src = loopback(40000);
	struct stamp_arrival a = golden_arrival(&src);
	struct stamp_reflector r = reflector(NULL, NULL);
	struct stamp_probe p = { 1, { GOLDEN_SEC, 0 }, 5, STAMP_TS_NTP, golden_clock };
	struct stamp_outcome out;
	size_t off = STAMP_UNAUTH_LEN, bad;

	stamp_probe_build(pkt, sizeof(pkt), &p, NULL);
	stamp_tlv_put(pkt, sizeof(pkt), &off, STAMP_TLV_PADDING, NULL, 4);
	bad = off;
	stamp_tlv_put(pkt, sizeof(pkt), &off, STAMP_TLV_TIMESTAMP_INFO, NULL, 5);
	stamp_tlv_cos_request(cos, 48);		/* CS6: allowed for this test's reflector */
	stamp_tlv_put(pkt, sizeof(pkt), &off, STAMP_TLV_COS, cos, 4);
	stamp_tlv_put(pkt, sizeof(pkt), &off, STAMP_TLV_DIRECT, NULL, 12);
	r.dscp_allow = ~UINT64_C(0);
	memcpy(copy, pkt, off);
	ck_assert_int_eq(stamp_reflect(pkt, off, &r, &a, &out), 0);
	ck_assert_uint_eq(out.tlv.known, 1);
	ck_assert_uint_eq(out.tlv.malformed, 1);
	ck_assert_uint_eq(out.tlv.unknown, 0);
	ck_assert_int_eq(out.tlv.dscp, -1);
	ck_assert_uint_eq(pkt[STAMP_UNAUTH_LEN], 0);
	ck_assert_uint_eq(pkt[bad], STAMP_TLV_M);
	ck_assert_mem_eq(pkt + bad + 1, copy + bad + 1, off - bad - 1);

	/* A TLV claiming 100 octets with 6 left: M, and nothing after it can be read. */
	off = STAMP_UNAUTH_LEN;
	stamp_probe_build(pkt, sizeof(pkt), &p, NULL);
	stamp_tlv_put(pkt, sizeof(pkt), &off, STAMP_TLV_PADDING, NULL, 4);
	bad = off;
	stamp_tlv_put(pkt, sizeof(pkt), &off, STAMP_TLV_PADDING, NULL, 6);
	stamp_put16(pkt + bad + 2, 100);
	memcpy(copy, pkt, off);
	ck_assert_int_eq(stamp_reflect(pkt, off, &r, &a, &out), 0);
	ck_assert_uint_eq(out.tlv.malformed, 1);
	ck_assert_uint_eq(pkt[bad], STAMP_TLV_M);
	ck_assert_mem_eq(pkt + bad + 1, copy + bad + 1, off - bad - 1);
	/* Three octets after the last TLV: not even a header. */
	off = STAMP_UNAUTH_LEN;
	stamp_probe_build(pkt, sizeof(pkt), &p, NULL);
	stamp_tlv_put(pkt, sizeof(pkt), &off, STAMP_TLV_PADDING, NULL, 4);
	pkt[off] = 0;
	pkt[off + 1] = 7;
	pkt[off + 2] = 0;
	ck_assert_int_eq(stamp_reflect(pkt, off + 3, &r, &a, &out), 0);
	ck_assert_uint_eq(out.tlv.malformed, 1);
	ck_assert_uint_eq(pkt[off], STAMP_TLV_M);
}
END_TEST

/* Independent of stamp_hmac(): nettle called directly. */
static void
hmac_direct(const struct stamp_key *k, const uint8_t *seq, const uint8_t *tlvs, size_t n,
    uint8_t out[16])
{
	struct hmac_sha256_ctx ctx;

	hmac_sha256_set_key(&ctx, k->len, k->key);
	hmac_sha256_update(&ctx, 4, seq);
	hmac_sha256_update(&ctx, n, tlvs);
	hmac_sha256_digest(&ctx, 16, out);
}

/*
 * HMAC TLV (RFC 8972 4.8): verified over the test packet's Sequence Number
 * and the TLVs before it; the reply's covers the reflector's. A tampered TLV:
 * I on every TLV and nothing acted on. Unauthenticated mode: U.
 */
START_TEST(test_tlv_hmac)
{
	uint8_t pkt[MAXPKT], mac[16];
	size_t offs[6], len;
	struct sockaddr_in src = loopback(40000);
	struct stamp_arrival a = golden_arrival(&src);
	struct stamp_key k;
	struct stamp_reflector r;
	struct stamp_outcome out;

	golden_key(&k);
	r = reflector(&k, NULL);
	len = tlv_packet(pkt, sizeof(pkt), &k, offs);
	hmac_direct(&k, pkt, pkt + STAMP_AUTH_LEN, offs[5] - STAMP_AUTH_LEN, mac);
	ck_assert_mem_eq(mac, pkt + offs[5] + 4, 16);
	ck_assert_int_eq(stamp_reflect(pkt, len, &r, &a, &out), 0);
	ck_assert(!out.tlv.integrity_failed);
	ck_assert_int_eq(out.tlv.dscp, 46);
	ck_assert_uint_eq(pkt[offs[5]], 0);
	stamp_put32(pkt, 0x01020304);	/* as if stateful: the reply's HMAC must cover ours */
	stamp_tlv_sign(&k, pkt, STAMP_AUTH_LEN, offs[5]);
	hmac_direct(&k, pkt, pkt + STAMP_AUTH_LEN, offs[5] - STAMP_AUTH_LEN, mac);
	ck_assert_mem_eq(mac, pkt + offs[5] + 4, 16);

	/* Tampered: the DSCP asked for changed after signing (base HMAC redone). */
	len = tlv_packet(pkt, sizeof(pkt), &k, offs);
	pkt[offs[2] + 4] ^= 0x04;
	stamp_auth_sign(&k, pkt);
	ck_assert_int_eq(stamp_reflect(pkt, len, &r, &a, &out), 0);
	ck_assert(out.tlv.integrity_failed);
	ck_assert_int_eq(out.tlv.dscp, -1);
	for (int i = 0; i < 6; i++)
		ck_assert_uint_eq(pkt[offs[i]] & STAMP_TLV_I, STAMP_TLV_I);
	hmac_direct(&k, pkt, pkt + STAMP_AUTH_LEN, offs[5] - STAMP_AUTH_LEN, mac);
	ck_assert_mem_eq(mac, pkt + offs[5] + 4, 16);

	/* Unauthenticated listener: no key to check an HMAC TLV with. */
	r = reflector(NULL, NULL);
	len = tlv_packet(pkt, sizeof(pkt), NULL, offs);
	stamp_tlv_put(pkt, sizeof(pkt), &len, STAMP_TLV_HMAC, NULL, 16);
	ck_assert_int_eq(stamp_reflect(pkt, len, &r, &a, &out), 0);
	ck_assert_uint_eq(pkt[offs[5]], STAMP_TLV_U);
	ck_assert_int_eq(out.tlv.dscp, 46);
}
END_TEST

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/* A random chain: mostly well-framed TLVs of any type, some lengths wrong or past the end. */
static size_t
random_packet(uint8_t *pkt, size_t base, size_t len)
{
	size_t off = base;

	for (size_t i = 0; i < len; i++)
		pkt[i] = (uint8_t)rng();
	while (off + STAMP_TLV_HDR <= len && rng() % 8 != 0) {
		size_t left = len - off - STAMP_TLV_HDR;
		uint16_t vlen = (uint16_t)(rng() % 4 == 0 ? rng() : rng() % (left + 1));

		pkt[off + 1] = (uint8_t)(rng() % 10);
		stamp_put16(pkt + off + 2, vlen);
		off += STAMP_TLV_HDR + (vlen <= left ? vlen : left);
	}
	return len;
}

/*
 * Random chains and every truncation of a valid one, each in an allocation of
 * exactly its length, through the reflector in every mode: under ASan any
 * read or write past the datagram fails the test.
 */
START_TEST(test_tlv_random_and_truncated)
{
	struct sockaddr_in src = loopback(40000);
	struct stamp_arrival a = golden_arrival(&src);
	struct stamp_sessions *s = stamp_sessions_new(64, 10);
	struct stamp_key k;
	uint8_t full[MAXPKT];
	size_t offs[6], flen;

	golden_key(&k);
	for (int i = 0; i < 20000; i++) {
		int mode = i % 4;
		bool auth = mode & 1;
		struct stamp_reflector r = reflector(auth ? &k : NULL, mode & 2 ? s : NULL);
		size_t base = auth ? STAMP_AUTH_LEN : STAMP_UNAUTH_LEN;
		size_t len = base + rng() % 200;
		uint8_t *pkt = malloc(len);
		struct stamp_outcome out;
		struct stamp_tlv t;
		size_t off = 0;

		random_packet(pkt, base, len);
		if (auth)
			stamp_auth_sign(&k, pkt);
		a.tos = (int)(rng() % 257) - 1;
		a.now_s = (uint64_t)i;
		/* Random SSIDs fill the stateful table: a refusal is the one drop allowed. */
		if (stamp_reflect(pkt, len, &r, &a, &out) == -1)
			ck_assert_int_eq(out.drop, STAMP_DROP_SESSIONS);
		while (stamp_tlv_next(pkt + base, len - base, &off, &t) == 1)
			ck_assert_uint_le(off, len - base);
		free(pkt);
	}
	flen = tlv_packet(full, sizeof(full), &k, offs);
	for (size_t len = 0; len <= flen; len++) {
		struct stamp_reflector r = reflector(&k, s);
		uint8_t *pkt = malloc(len ? len : 1);
		struct stamp_outcome out;

		memcpy(pkt, full, len);
		if (len >= STAMP_AUTH_LEN)
			stamp_auth_sign(&k, pkt);
		ck_assert_int_eq(stamp_reflect(pkt, len, &r, &a, &out),
		    len >= STAMP_AUTH_LEN ? 0 : -1);
		free(pkt);
	}
	stamp_sessions_free(s);
}
END_TEST

/* Trailing zeros are an RFC 8762 sender's padding (TWAMP-Light): left as they are. */
START_TEST(test_tlv_legacy_padding)
{
	uint8_t pkt[MAXPKT];
	struct sockaddr_in src = loopback(40000);
	struct stamp_arrival a = golden_arrival(&src);
	struct stamp_reflector r = reflector(NULL, NULL);
	struct stamp_probe p = { 3, { GOLDEN_SEC, 0 }, 0, STAMP_TS_NTP, golden_clock };
	struct stamp_outcome out;

	stamp_probe_build(pkt, 200, &p, NULL);
	ck_assert_int_eq(stamp_reflect(pkt, 200, &r, &a, &out), 0);
	ck_assert(out.tlv.legacy_padding);
	ck_assert_uint_eq(out.tlv.unknown + out.tlv.malformed + out.tlv.known, 0);
	for (size_t i = STAMP_UNAUTH_LEN; i < 200; i++)
		ck_assert_uint_eq(pkt[i], 0);
}
END_TEST

/* Timestamps both formats, round trip and NTP era 1; the Error Estimate never understates. */
START_TEST(test_timestamps_and_error)
{
	static const struct timespec cases[] = {
		{ 0, 0 }, { GOLDEN_SEC, 1 }, { GOLDEN_SEC, 999999999 },
		{ 2085978496 + 10, 123456789 },	/* 2036-02-07 06:28:26: NTP era 1 */
	};
	struct stamp_clock c;
	struct timespec back;
	uint16_t ee;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int f = STAMP_TS_NTP; f <= STAMP_TS_PTP; f++) {
			stamp_ts_decode(stamp_ts_encode(&cases[i], f), f, &back);
			ck_assert_msg(back.tv_sec == cases[i].tv_sec &&
			    back.tv_nsec == cases[i].tv_nsec, "case %zu format %d", i, f);
		}
	}
	/* PTPv2 counts TAI (IEEE 1588): UTC + the offset (37 s since 2017). */
	ck_assert_uint_eq(stamp_ts_encode(&cases[1], STAMP_TS_PTP),
	    (uint64_t)(GOLDEN_SEC + stamp_tai_offset()) << 32 | 1);
	stamp_clock_from_timex(TIME_OK, 0, 0, &c);
	ck_assert(c.synced && c.scale == 0 && c.multiplier == 1);
	stamp_clock_from_timex(TIME_ERROR, 0, 50, &c);
	ck_assert(!c.synced);
	stamp_clock_from_timex(TIME_OK, STA_UNSYNC, 50, &c);
	ck_assert(!c.synced);
	ee = stamp_error_estimate(&c, STAMP_TS_PTP);
	ck_assert_uint_eq(ee & (STAMP_EE_S | STAMP_EE_Z), STAMP_EE_Z);
	for (long us = 1; us < 100000000; us = us * 3 + 1) {
		double said;

		stamp_clock_from_timex(TIME_OK, 0, us, &c);
		ee = stamp_error_estimate(&c, STAMP_TS_NTP);
		ck_assert_uint_eq(ee & STAMP_EE_S, STAMP_EE_S);
		said = stamp_error_seconds(ee);
		ck_assert_msg(said >= us * 1e-6 && said <= us * 1e-6 * 1.01 + 1e-9,
		    "esterror %ld us stated as %g s", us, said);
	}
	/* Whatever the kernel (or seccomp) says, the estimate is well formed. */
	stamp_clock_state(&c);
	ck_assert_uint_ne(c.multiplier, 0);
}
END_TEST

/* ---- issue 22 ---- */

/* An authenticated test packet with a CoS TLV asking for dscp, signed by an HMAC TLV or not. */
static size_t
auth_cos_packet(uint8_t *pkt, const struct stamp_key *k, uint8_t dscp, bool hmac_tlv,
    size_t *cos_at, size_t *hmac_at)
{
	struct stamp_probe p = { 9, { GOLDEN_SEC, 0 }, 5, STAMP_TS_NTP, golden_clock };
	size_t off = STAMP_AUTH_LEN;
	uint8_t cos[4];

	ck_assert_int_eq(stamp_probe_build(pkt, MAXPKT, &p, k), 0);
	stamp_tlv_cos_request(cos, dscp);
	*cos_at = off;
	stamp_tlv_put(pkt, MAXPKT, &off, STAMP_TLV_COS, cos, 4);
	*hmac_at = off;
	if (hmac_tlv) {
		stamp_tlv_put(pkt, MAXPKT, &off, STAMP_TLV_HMAC, NULL, STAMP_HMAC_LEN);
		stamp_tlv_sign(k, pkt, STAMP_AUTH_LEN, *hmac_at);
	}
	stamp_auth_sign(k, pkt);
	return off;
}

/*
 * Issue 22 item 6, RFC 8972 4.8: "The HMAC TLV MUST follow all TLVs ...
 * except for the Extra Padding TLV." A Class of Service TLV appended after
 * the HMAC TLV (an on-path attacker asking for CS7) is not acted on and gets
 * I; Extra Padding after it is fine. Authenticated mode without an HMAC TLV:
 * nothing acted on, I. The covered CoS TLV before a verified HMAC TLV works.
 */
START_TEST(test_i6_hmac_tlv_covers_before_rfc8972_4_8)
{
	uint8_t pkt[MAXPKT], mac[16], cos[4];
	struct sockaddr_in src = loopback(40000);
	struct stamp_arrival a = golden_arrival(&src);
	struct stamp_key k;
	struct stamp_reflector r;
	struct stamp_outcome out;
	size_t len, cos_at, hmac_at, evil, pad;

	golden_key(&k);
	r = reflector(&k, NULL);
	r.dscp_allow = ~UINT64_C(0);	/* the policy is item 8's: here any DSCP would do */
	/* Signed CoS (AF11) then HMAC TLV, then an appended CoS (CS7) and Extra Padding. */
	len = auth_cos_packet(pkt, &k, 10, true, &cos_at, &hmac_at);
	evil = len;
	stamp_tlv_cos_request(cos, 56);
	stamp_tlv_put(pkt, MAXPKT, &len, STAMP_TLV_COS, cos, 4);
	pad = len;
	stamp_tlv_put(pkt, MAXPKT, &len, STAMP_TLV_PADDING, NULL, 8);
	stamp_auth_sign(&k, pkt);	/* the base HMAC does not cover TLVs */
	ck_assert_int_eq(stamp_reflect(pkt, len, &r, &a, &out), 0);
	ck_assert(!out.tlv.integrity_failed);
	ck_assert_int_eq(out.tlv.dscp, 10);
	ck_assert_uint_eq(pkt[cos_at], 0);
	ck_assert_uint_eq(pkt[hmac_at], 0);
	ck_assert_uint_eq(pkt[evil], STAMP_TLV_I);
	ck_assert_uint_eq(pkt[evil + 4], 56 << 2);	/* as received: not answered */
	ck_assert_uint_eq(pkt[evil + 5], 0);
	ck_assert_uint_eq(pkt[pad], 0);
	ck_assert_uint_eq(out.tlv.unprotected, 1);
	/* The reply's HMAC TLV covers the reflector's TLVs before it. */
	hmac_direct(&k, pkt, pkt + STAMP_AUTH_LEN, hmac_at - STAMP_AUTH_LEN, mac);
	ck_assert_mem_eq(mac, pkt + hmac_at + 4, 16);

	/* The attacker's CoS alone (no HMAC TLV) in authenticated mode: I, not acted on. */
	len = auth_cos_packet(pkt, &k, 56, false, &cos_at, &hmac_at);
	stamp_tlv_put(pkt, MAXPKT, &len, STAMP_TLV_PADDING, NULL, 8);
	stamp_auth_sign(&k, pkt);
	ck_assert_int_eq(stamp_reflect(pkt, len, &r, &a, &out), 0);
	ck_assert_int_eq(out.tlv.dscp, -1);
	ck_assert_uint_eq(pkt[cos_at], STAMP_TLV_I);
	ck_assert_uint_eq(pkt[cos_at + 4], 56 << 2);
	ck_assert_uint_eq(pkt[hmac_at], 0);	/* Extra Padding: no flag */
	ck_assert_uint_eq(out.tlv.unprotected, 1);

	/* Unauthenticated mode with an HMAC TLV: no key, U; the CoS is acted on. */
	r = reflector(NULL, NULL);
	len = tlv_packet(pkt, sizeof(pkt), NULL, (size_t[6]){ 0 });
	stamp_tlv_put(pkt, sizeof(pkt), &len, STAMP_TLV_HMAC, NULL, 16);
	ck_assert_int_eq(stamp_reflect(pkt, len, &r, &a, &out), 0);
	ck_assert_uint_eq(pkt[len - 20], STAMP_TLV_U);
	ck_assert_int_eq(out.tlv.dscp, 46);
}
END_TEST

/* A Class of Service answer's fields (RFC 8972 4.4). */
struct cos_answer {
	unsigned dscp1, dscp2, ecn, rp;
};

static struct cos_answer
cos_answer(const uint8_t *v)
{
	struct cos_answer c = { v[0] >> 2u, (v[0] & 3u) << 4 | v[1] >> 4u, (v[1] >> 2u) & 3u,
		v[1] & 3u };

	return c;
}

/* One CoS request through a default-policy reflector, arriving with tos. */
static struct cos_answer
cos_through(uint8_t dscp1, int tos, struct stamp_outcome *out)
{
	uint8_t pkt[MAXPKT], cos[4];
	struct sockaddr_in src = loopback(40000);
	struct stamp_arrival a = golden_arrival(&src);
	struct stamp_reflector r = reflector(NULL, NULL);
	struct stamp_probe p = { 1, { GOLDEN_SEC, 0 }, 5, STAMP_TS_NTP, golden_clock };
	size_t off = STAMP_UNAUTH_LEN;

	a.tos = tos;
	stamp_probe_build(pkt, sizeof(pkt), &p, NULL);
	stamp_tlv_cos_request(cos, dscp1);
	stamp_tlv_put(pkt, sizeof(pkt), &off, STAMP_TLV_COS, cos, 4);
	ck_assert_int_eq(stamp_reflect(pkt, off, &r, &a, out), 0);
	return cos_answer(pkt + STAMP_UNAUTH_LEN + 4);
}

/*
 * Issue 22 item 8, RFC 8972 4.4: a DSCP1 the policy (dscp_allow) refuses is
 * not used: the reply goes with the DSCP it came with (DSCP2), or 0 when the
 * policy refuses that one too, and RP = 1. Allowed: DSCP1, RP = 0.
 */
START_TEST(test_i8_cos_policy_rfc8972_4_4)
{
	struct stamp_outcome out;
	struct cos_answer c;

	c = cos_through(46, 10 << 2 | 2, &out);		/* EF asked, AF11 arrived: allowed */
	ck_assert(c.dscp1 == 46 && c.dscp2 == 10 && c.ecn == 2 && c.rp == 0);
	ck_assert(out.tlv.dscp == 46 && !out.tlv.cos_refused);
	c = cos_through(56, 10 << 2 | 1, &out);		/* CS7 asked, AF11 arrived */
	ck_assert(c.dscp1 == 56 && c.dscp2 == 10 && c.ecn == 1 && c.rp == 1);
	ck_assert(out.tlv.dscp == 10 && out.tlv.cos_refused);
	c = cos_through(48, 56 << 2, &out);		/* CS6 asked, CS7 arrived: 0 */
	ck_assert(c.dscp1 == 48 && c.dscp2 == 56 && c.rp == 1);
	ck_assert(out.tlv.dscp == 0 && out.tlv.cos_refused);
	c = cos_through(56, -1, &out);			/* TOS unknown: DSCP2 0 */
	ck_assert(c.dscp2 == 0 && c.rp == 1 && out.tlv.dscp == 0);
}
END_TEST

/*
 * Issue 22 item 10, RFC 8762 4.6 with RFC 5357 4.1.2's 14-octet TWAMP-Light
 * test packet: answered with the 44-octet base packet of RFC 8762 4.3.1, byte
 * for byte; with short_drop, dropped. Under 14 octets, or authenticated (an
 * HMAC cannot be verified on it), dropped.
 */
START_TEST(test_i10_twamp_light_rfc8762_4_6)
{
	uint8_t pkt[MAXPKT], exp[MAXPKT];
	size_t len = golden_hex("twamp-light-sender.hex", pkt, sizeof(pkt));
	size_t elen = golden_hex("stamp-reflector-twamp-light.hex", exp, sizeof(exp));
	struct sockaddr_in src = loopback(40000);
	struct stamp_arrival a = golden_arrival(&src);
	struct stamp_reflector r = reflector(NULL, NULL);
	struct stamp_outcome out;
	struct timespec t3 = golden_time(750000000);
	struct stamp_key k;

	ck_assert_uint_eq(len, STAMP_TWAMP_LIGHT_LEN);
	ck_assert_uint_eq(elen, STAMP_UNAUTH_LEN);
	memset(pkt + len, 0xa5, sizeof(pkt) - len);	/* what the slot held before */
	ck_assert_int_eq(stamp_reflect(pkt, len, &r, &a, &out), 0);
	ck_assert(out.short_answered);
	ck_assert_uint_eq(out.test.len, STAMP_UNAUTH_LEN);
	stamp_reflect_send_time(pkt, &out.test, &t3, r.fmt, NULL);
	for (size_t i = 0; i < elen; i++)
		ck_assert_msg(pkt[i] == exp[i], "octet %zu is %02x, want %02x", i, pkt[i], exp[i]);

	golden_hex("twamp-light-sender.hex", pkt, sizeof(pkt));
	ck_assert_int_eq(stamp_reflect(pkt, len - 1, &r, &a, &out), -1);
	ck_assert_int_eq(out.drop, STAMP_DROP_SHORT);
	r.short_drop = true;
	ck_assert_int_eq(stamp_reflect(pkt, len, &r, &a, &out), -1);
	ck_assert_int_eq(out.drop, STAMP_DROP_SHORT);
	golden_key(&k);
	r = reflector(&k, NULL);
	ck_assert_int_eq(stamp_reflect(pkt, len, &r, &a, &out), -1);
	ck_assert_int_eq(out.drop, STAMP_DROP_SHORT);
	ck_assert_int_eq(stamp_reflect(pkt, 48, &r, &a, &out), -1);
	ck_assert_int_eq(out.drop, STAMP_DROP_SHORT);
}
END_TEST

/* The Timestamp Information TLV's answer for a packet arriving as a says. */
static void
timestamp_info(struct stamp_arrival *a, uint8_t v[4])
{
	uint8_t pkt[MAXPKT];
	struct stamp_reflector r = reflector(NULL, NULL);
	struct stamp_probe p = { 1, { GOLDEN_SEC, 0 }, 5, STAMP_TS_NTP, golden_clock };
	struct stamp_outcome out;
	size_t off = STAMP_UNAUTH_LEN;

	stamp_probe_build(pkt, sizeof(pkt), &p, NULL);
	stamp_tlv_put(pkt, sizeof(pkt), &off, STAMP_TLV_TIMESTAMP_INFO, NULL, 4);
	ck_assert_int_eq(stamp_reflect(pkt, off, &r, a, &out), 0);
	memcpy(v, pkt + STAMP_UNAUTH_LEN + 4, 4);
	/* The Error Estimate and the TLV speak of the same clock. */
	ck_assert_uint_eq(!!(stamp_get16(pkt + 12) & STAMP_EE_S), a->clock.synced);
}

/*
 * Issue 22 item 11, RFC 8972 4.3: the Sync Source agrees with the Error
 * Estimate's S bit: an unsynchronised clock is "Local free-running" (IANA
 * value 5), a synchronised one its source (NTP, 1).
 */
START_TEST(test_i11_sync_source_rfc8972_4_3)
{
	struct sockaddr_in src = loopback(40000);
	struct stamp_arrival a = golden_arrival(&src);
	uint8_t v[4];

	ck_assert_int_eq(STAMP_SYNC_FREE, 5);
	timestamp_info(&a, v);
	ck_assert(v[0] == STAMP_SYNC_NTP && v[2] == STAMP_SYNC_NTP);
	a.clock.synced = false;
	timestamp_info(&a, v);
	ck_assert(v[0] == STAMP_SYNC_FREE && v[2] == STAMP_SYNC_FREE);
	ck_assert(v[1] == STAMP_TSM_SW && v[3] == STAMP_TSM_SW);
}
END_TEST

/*
 * Issue 22 item 11, RFC 8762 4.2.1 (Z = 1: PTPv2 truncated, IEEE 1588 TAI):
 * UTC 2024-01-01 00:00:00 is TAI 00:00:37; decoding gives UTC back.
 */
START_TEST(test_i11_ptp_counts_tai_rfc8762_4_2_1)
{
	struct timespec utc = { GOLDEN_SEC, 5 }, back;
	uint64_t wire = stamp_ts_encode(&utc, STAMP_TS_PTP);
	struct stamp_clock c;
	struct timex tx;

	memset(&tx, 0, sizeof(tx));
	stamp_clock_state(&c);
	if (adjtimex(&tx) != -1 && tx.tai > 0)
		ck_assert_int_eq(stamp_tai_offset(), tx.tai);
	else
		ck_assert_int_eq(stamp_tai_offset(), STAMP_TAI_UTC_DEFAULT);
	wire = stamp_ts_encode(&utc, STAMP_TS_PTP);
	ck_assert_uint_eq(wire >> 32, (uint64_t)GOLDEN_SEC + (uint64_t)stamp_tai_offset());
	ck_assert_uint_eq((uint32_t)wire, 5);
	stamp_ts_decode(wire, STAMP_TS_PTP, &back);
	ck_assert(back.tv_sec == GOLDEN_SEC && back.tv_nsec == 5);
}
END_TEST

/* One Direct Measurement TLV (S_TxC s_tx) through r; R_RxC and R_TxC back. */
static void
direct_through(const struct stamp_reflector *r, struct stamp_arrival *a, uint32_t s_tx,
    uint32_t *rx, uint32_t *tx)
{
	uint8_t pkt[MAXPKT], direct[12] = { 0 };
	struct stamp_probe p = { s_tx, { GOLDEN_SEC, 0 }, 5, STAMP_TS_NTP, golden_clock };
	struct stamp_outcome out;
	size_t off = STAMP_UNAUTH_LEN;

	stamp_put32(direct, s_tx);
	stamp_probe_build(pkt, sizeof(pkt), &p, NULL);
	stamp_tlv_put(pkt, sizeof(pkt), &off, STAMP_TLV_DIRECT, direct, 12);
	ck_assert_int_eq(stamp_reflect(pkt, off, r, a, &out), 0);
	ck_assert_uint_eq(pkt[STAMP_UNAUTH_LEN], 0);
	ck_assert_uint_eq(stamp_get32(pkt + STAMP_UNAUTH_LEN + 4), s_tx);
	*rx = stamp_get32(pkt + STAMP_UNAUTH_LEN + 8);
	*tx = stamp_get32(pkt + STAMP_UNAUTH_LEN + 12);
}

/*
 * Issue 22 item 12, RFC 8972 4.5: R_RxC counts test packets received (this
 * one included), R_TxC replies transmitted before this one, so they differ;
 * stateless mode answers from the listener's counters instead of U.
 */
START_TEST(test_i12_direct_measurement_rfc8972_4_5)
{
	struct sockaddr_in src = loopback(40000), other = loopback(40001);
	struct stamp_arrival a = golden_arrival(&src);
	struct stamp_sessions *s = stamp_sessions_new(64, 10);
	struct stamp_reflector r = reflector(NULL, s);
	uint32_t rx, tx;

	for (uint32_t i = 1; i <= 3; i++) {
		direct_through(&r, &a, i, &rx, &tx);
		ck_assert_uint_eq(rx, i);
		ck_assert_uint_eq(tx, i - 1);
	}
	stamp_sessions_free(s);
	/* Stateless: the listener's counters, over every sender. */
	r = reflector(NULL, NULL);
	a.counters = &r.counters;
	direct_through(&r, &a, 1, &rx, &tx);
	ck_assert(rx == 1 && tx == 0);
	a.src = (const struct sockaddr *)&other;
	direct_through(&r, &a, 1, &rx, &tx);
	ck_assert(rx == 2 && tx == 1);
}
END_TEST

/*
 * Issue 22 item 13, RFC 8972 4.3 "Timestamp In": a T2 read in user space
 * (no kernel timestamp) is said to be, with the control-plane method (3),
 * not as the kernel's software timestamp (2).
 */
START_TEST(test_i13_t2_userspace_rfc8972_4_3)
{
	struct sockaddr_in src = loopback(40000);
	struct stamp_arrival a = golden_arrival(&src);
	uint8_t v[4];

	a.t2_user = true;
	timestamp_info(&a, v);
	ck_assert_uint_eq(STAMP_TSM_CONTROL, 3);
	ck_assert_uint_eq(v[1], STAMP_TSM_CONTROL);
	ck_assert_uint_eq(v[3], STAMP_TSM_SW);
}
END_TEST

/*
 * One datagram through the reflector's datagram handler, as udp.c calls it
 * (udp_stamp_handler()), with the control buffer ctl[0 .. ctllen); *p gets
 * what must run just before the reply is sent (T3).
 */
static bool
handler_reflect(struct stamp_runtime *run, uint8_t *pkt, size_t *len, void *ctl,
    size_t ctllen, int flags, struct echo_stats *st, struct dgram_pending *p)
{
	struct sockaddr_in src = loopback(40000);
	struct msghdr in = { .msg_name = &src, .msg_namelen = sizeof(src), .msg_control = ctl,
		.msg_controllen = ctllen, .msg_flags = flags };
	static struct echo_stats listener;	/* the listener's slot: not looked at */
	struct dgram_in din = { .msg = &in, .now_ms = 1000, .stats = { st, &listener } };
	struct dgram_handler h;
	int dscp;

	memset(&h, 0, sizeof(h));
	udp_stamp_handler(&h, run, false);
	p->before_send = NULL;
	return h.reply(h.ctx, &din, pkt, len, &dscp, p);
}

/* handler_reflect(), the reply sent at once. */
static bool
udp_reflect(struct stamp_runtime *run, uint8_t *pkt, size_t *len, void *ctl,
    size_t ctllen, int flags, struct echo_stats *st)
{
	struct dgram_pending p;

	if (!handler_reflect(run, pkt, len, ctl, ctllen, flags, st, &p))
		return false;
	ck_assert_ptr_nonnull(p.before_send);
	p.before_send(&p);
	return true;
}

/*
 * Issue 22 item 13, RFC 8762 4.3.1 (T3 "as close as possible to the actual
 * transmission"): the handler leaves T3 to its before_send, which udp.c
 * runs for each reply of a batch, in order, just before sending: one clock
 * reading per reply, not one for all 16.
 */
START_TEST(test_i13_t3_per_reply_rfc8762_4_3_1)
{
	static uint8_t pkts[16][MAXPKT];
	static struct echo_stats st;
	struct stamp_runtime *run = calloc(1, sizeof(*run));
	struct dgram_pending pending[16];
	uint64_t first, last;

	ck_assert_ptr_nonnull(run);
	run->reflector = reflector(NULL, NULL);
	for (int i = 0; i < 16; i++) {
		size_t len = golden_hex("twamp-light-sender.hex", pkts[i], sizeof(pkts[i]));

		ck_assert(handler_reflect(run, pkts[i], &len, NULL, 0, 0, &st, &pending[i]));
		ck_assert_ptr_nonnull(pending[i].before_send);
		/* Not stamped yet: T3 is written at sending time. */
		ck_assert_uint_eq(stamp_get64(pkts[i] + 4), 0);
	}
	for (int i = 0; i < 16; i++)
		pending[i].before_send(&pending[i]);
	first = stamp_get64(pkts[0] + 4);
	last = stamp_get64(pkts[15] + 4);
	for (int i = 1; i < 16; i++)
		ck_assert_uint_ge(stamp_get64(pkts[i] + 4), stamp_get64(pkts[i - 1] + 4));
	ck_assert_msg(last > first, "16 replies, one T3: %016" PRIx64, first);
	free(run);
}
END_TEST

/*
 * Issue 22 items 10 and 13 in the batch path (udp_stamp.c): a 14-octet
 * TWAMP-Light packet's reply length is 44 (RFC 8762 4.6), counted as
 * stamp_short_answered; a packet without a kernel timestamp, or whose
 * SCM_TIMESTAMPNS the kernel cut short (MSG_CTRUNC), gets T2 from user space,
 * counted as stamp_t2_userspace and said in Timestamp In (RFC 8972 4.3).
 */
START_TEST(test_i13_ctrunc_t2_userspace_rfc8972_4_3)
{
	static struct echo_stats st;
	struct stamp_runtime *run = calloc(1, sizeof(*run));
	union {
		char buf[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} ctl;
	struct timespec kernel_t2 = golden_time(0);
	uint8_t pkt[MAXPKT];
	size_t len = golden_hex("twamp-light-sender.hex", pkt, sizeof(pkt)), off;
	struct stamp_probe p = { 1, { GOLDEN_SEC, 0 }, 5, STAMP_TS_NTP, golden_clock };

	ck_assert_ptr_nonnull(run);
	run->reflector = reflector(NULL, NULL);
	/* A whole timestamp: the kernel's T2, nothing counted. */
	memset(&ctl, 0, sizeof(ctl));
	ctl.align.cmsg_level = SOL_SOCKET;
	ctl.align.cmsg_type = SCM_TIMESTAMPNS;
	ctl.align.cmsg_len = CMSG_LEN(sizeof(kernel_t2));
	memcpy(CMSG_DATA(&ctl.align), &kernel_t2, sizeof(kernel_t2));
	ck_assert(udp_reflect(run, pkt, &len, ctl.buf, sizeof(ctl.buf), 0, &st));
	ck_assert_uint_eq(len, STAMP_UNAUTH_LEN);
	ck_assert_uint_eq(stamp_get64(pkt + 16), stamp_ts_encode(&kernel_t2, STAMP_TS_NTP));
	ck_assert_uint_eq(stats_get(&st, STAT_stamp_short_answered), 1);
	ck_assert_uint_eq(stats_get(&st, STAT_stamp_t2_userspace), 0);
	/* Cut short by the kernel (MSG_CTRUNC): not read as a timestamp. */
	off = STAMP_UNAUTH_LEN;
	stamp_probe_build(pkt, sizeof(pkt), &p, NULL);
	stamp_tlv_put(pkt, sizeof(pkt), &off, STAMP_TLV_TIMESTAMP_INFO, NULL, 4);
	len = off;
	ctl.align.cmsg_len = CMSG_LEN(sizeof(kernel_t2) / 2);
	ck_assert(udp_reflect(run, pkt, &len, ctl.buf, CMSG_SPACE(sizeof(kernel_t2) / 2),
	    MSG_CTRUNC, &st));
	ck_assert_uint_ne(stamp_get64(pkt + 16), stamp_ts_encode(&kernel_t2, STAMP_TS_NTP));
	ck_assert_uint_eq(pkt[STAMP_UNAUTH_LEN + 5], STAMP_TSM_CONTROL);
	ck_assert_uint_eq(stats_get(&st, STAT_stamp_t2_userspace), 1);
	/* No control messages at all. */
	len = off;
	ck_assert(udp_reflect(run, pkt, &len, NULL, 0, 0, &st));
	ck_assert_uint_eq(pkt[STAMP_UNAUTH_LEN + 5], STAMP_TSM_CONTROL);
	ck_assert_uint_eq(stats_get(&st, STAT_stamp_t2_userspace), 2);
	ck_assert_uint_eq(stats_get(&st, STAT_stamp_reflected), 3);
	free(run);
}
END_TEST

/* ---- tshark: a third-party decoder reads the replies we build ---- */

#define TSHARK_N	5

START_TEST(test_tshark_decodes_replies)
{
	const char *tshark = getenv("TSHARK") != NULL ? getenv("TSHARK") : "/usr/bin/tshark";
	char pcap[] = "/tmp/check_stamp_pcapXXXXXX", cmd[1024], line[1024];
	struct sockaddr_in src = loopback(40000);
	struct stamp_arrival a = golden_arrival(&src);
	struct stamp_sessions *s = stamp_sessions_new(8, 10);
	struct stamp_reflector r = reflector(NULL, s);
	int fd = mkstemp(pcap), row = 0;
	FILE *f, *p;

	ck_assert_msg(access(tshark, X_OK) == 0, "%s not found: tools/deps.sh installs tshark",
	    tshark);
	ck_assert(fd != -1 && (f = fdopen(fd, "wb")) != NULL);
	pcap_write_header(f);
	for (int i = 0; i < TSHARK_N; i++) {
		uint8_t pkt[MAXPKT];
		struct stamp_probe pr = { 1000 + (uint32_t)i, { GOLDEN_SEC + i, 500000000 }, 0x77,
			STAMP_TS_NTP, { true, 0, 1 } };
		struct stamp_outcome out;
		struct timespec t3 = { GOLDEN_SEC + i, 750000000 };
		size_t len = STAMP_UNAUTH_LEN + 16 * (size_t)i;

		stamp_probe_build(pkt, len, &pr, NULL);
		a.t2.tv_sec = GOLDEN_SEC + i;
		a.ttl = 60 + i;
		ck_assert_int_eq(stamp_reflect(pkt, len, &r, &a, &out), 0);
		stamp_reflect_send_time(pkt, &out.test, &t3, r.fmt, NULL);
		pcap_write_udp4(f, pkt, len, (uint32_t)(GOLDEN_SEC + i), STAMP_PORT, 40000);
	}
	fclose(f);
	snprintf(cmd, sizeof(cmd), "TZ=UTC %s -r %s -d udp.port==%d,twamp.test -T fields "
	    "-E 'separator=;' -e twamp.test.seq_number -e twamp.test.sender_seq_number "
	    "-e twamp.test.sender_ttl -e twamp.test.error_estimate "
	    "-e twamp.test.sender_error_estimate -e twamp.test.mbz1 "
	    "-e twamp.test.timestamp -e twamp.test.receive_timestamp "
	    "-e twamp.test.sender_timestamp 2>/dev/null", tshark, pcap, STAMP_PORT);
	p = popen(cmd, "r");
	ck_assert(p != NULL);
	while (fgets(line, sizeof(line), p) != NULL) {
		char want[1024];

		line[strcspn(line, "\n")] = '\0';
		/* Stateful: the reflector counts 0, 1, ...; the sender's go 1000, 1001, ... */
		snprintf(want, sizeof(want), "%d;%d;%d;35331;32769;119;"
		    "Jan  1, 2024 00:00:0%d.750000000 UTC;Jan  1, 2024 00:00:0%d.625000000 UTC;"
		    "Jan  1, 2024 00:00:0%d.500000000 UTC", row, 1000 + row, 60 + row, row, row,
		    row);
		ck_assert_msg(strcmp(line, want) == 0, "tshark row %d:\n got  %s\n want %s", row,
		    line, want);
		row++;
	}
	ck_assert_int_eq(pclose(p), 0);
	ck_assert_int_eq(row, TSHARK_N);
	unlink(pcap);
	stamp_sessions_free(s);
}
END_TEST

/* ---- the session table ---- */

START_TEST(test_sessions_wrap_sees_allocations)
{
	struct stamp_sessions *s;

	long n;

	alloc_count_start();
	s = stamp_sessions_new(64, 10);
	n = alloc_count_stop();
	ck_assert_ptr_nonnull(s);
	ck_assert_int_gt(n, 0);
	stamp_sessions_free(s);
}
END_TEST

static struct sockaddr_in6
spoofed(uint32_t n)
{
	struct sockaddr_in6 sin6;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr.s6_addr[0] = 0x20;
	sin6.sin6_addr.s6_addr[1] = 0x01;
	memcpy(sin6.sin6_addr.s6_addr + 12, &n, sizeof(n));
	sin6.sin6_port = htons((uint16_t)(1024 + n % 60000));
	return sin6;
}

/*
 * 100 000 new sessions from spoofed sources into a table of 64, while two
 * real sessions send one packet a simulated second: nothing is allocated,
 * the table stays bounded, and the real sessions' sequences never restart.
 */
START_TEST(test_sessions_flood)
{
	struct stamp_sessions *s = stamp_sessions_new(64, 5);
	struct sockaddr_in a = loopback(5000), b = loopback(5001);
	struct stamp_session_view v;
	struct stamp_sessions_stats st;
	uint32_t next_a = 0, next_b = 0, refused = 0, broken = 0, other_errors = 0;

	ck_assert_ptr_nonnull(s);
	/* No ck_assert in the loop: Check's assertions allocate (they report their place). */
	alloc_count_start();
	for (uint32_t i = 0; i < 100000; i++) {
		struct sockaddr_in6 sp = spoofed(i);
		uint64_t now = i / 1000;	/* 1000 spoofed packets a second */

		if (stamp_sessions_count(s, (struct sockaddr *)&sp, (uint16_t)i, 1, now, &v) == -1) {
			other_errors += errno != ENOSPC;
			refused++;
		}
		if (i % 1000 != 0)
			continue;
		if (stamp_sessions_count(s, (struct sockaddr *)&a, 1, 1, now, &v) == -1 ||
		    v.seq != next_a++ || v.rx != next_a)
			broken++;
		if (stamp_sessions_count(s, (struct sockaddr *)&b, 1, 1, now, &v) == -1 ||
		    v.seq != next_b++)
			broken++;
	}
	ck_assert_int_eq(alloc_count_stop(), 0);
	ck_assert_uint_eq(broken, 0);
	ck_assert_uint_eq(other_errors, 0);
	stamp_sessions_stats(s, &st);
	ck_assert_uint_eq(st.capacity, 64);
	ck_assert_uint_le(st.entries, 64);
	ck_assert_uint_gt(st.refused, 0);
	ck_assert_uint_eq(st.refused, refused);
	ck_assert_uint_gt(st.evicted, 0);
	ck_assert_uint_eq(next_a, 100);
	stamp_sessions_free(s);
}
END_TEST

/* stamp_sessions_count(), adding the packets that restarted their session to *restarts. */
static int
restart_count(struct stamp_sessions *s, const struct sockaddr *src, uint16_t ssid,
    uint32_t sender_seq, uint64_t now_s, struct stamp_session_view *v, unsigned *restarts)
{
	int r = stamp_sessions_count(s, src, ssid, sender_seq, now_s, v);

	if (r == 0 && v->restarted)
		(*restarts)++;
	return r;
}

/*
 * RFC 8762 4.3.1: the reflector's count starts at zero for each test session
 * (issue 22 item 9). The same source, port and SSID idle for the timeout is a
 * new session, counted as restarted.
 */
START_TEST(test_sessions_restart_after_timeout)
{
	struct stamp_sessions *s = stamp_sessions_new(64, 10);
	struct sockaddr_in a = loopback(7000);
	struct stamp_session_view v;
	unsigned restarts = 0;

	for (uint32_t i = 0; i < 5; i++)
		ck_assert_int_eq(restart_count(s, (struct sockaddr *)&a, 0, 100 + i, i,
		    &v, &restarts), 0);
	ck_assert_uint_eq(v.seq, 4);
	/* Last packet at 4: at 13 the session is still alive, at 14 it timed out. */
	ck_assert_int_eq(restart_count(s, (struct sockaddr *)&a, 0, 105, 13, &v, &restarts), 0);
	ck_assert_uint_eq(v.seq, 5);
	ck_assert_int_eq(restart_count(s, (struct sockaddr *)&a, 0, 500, 23, &v, &restarts), 0);
	ck_assert_uint_eq(v.seq, 0);
	ck_assert_uint_eq(v.rx, 1);
	ck_assert_uint_eq(restarts, 1);
	stamp_sessions_free(s);
}
END_TEST

/*
 * RFC 8762 4.3.1, issue 22 item 9: a second run from the same source port
 * starts its sender sequence at 0 again: the reflector's starts at 0 with it.
 * A 0 that may be the first packet duplicated or reordered does not restart.
 */
START_TEST(test_sessions_restart_on_sender_zero)
{
	struct stamp_sessions *s = stamp_sessions_new(64, 60);
	struct sockaddr_in a = loopback(7001), b = loopback(7002);
	struct stamp_session_view v;
	unsigned restarts = 0;

	/* First run: 100 packets within one second. */
	for (uint32_t i = 0; i < 100; i++)
		ck_assert_int_eq(restart_count(s, (struct sockaddr *)&a, 0, i, 0, &v, &restarts), 0);
	ck_assert_uint_eq(v.seq, 99);
	/* Second run at once, same port: sender 0 -> reflector 0, then 1. */
	ck_assert_int_eq(restart_count(s, (struct sockaddr *)&a, 0, 0, 0, &v, &restarts), 0);
	ck_assert_uint_eq(v.seq, 0);
	ck_assert_int_eq(restart_count(s, (struct sockaddr *)&a, 0, 1, 0, &v, &restarts), 0);
	ck_assert_uint_eq(v.seq, 1);
	ck_assert_uint_eq(restarts, 1);

	/* 1, 0 (reordered), 0 (duplicated), 2 in the first second: one session, no restart. */
	ck_assert_int_eq(restart_count(s, (struct sockaddr *)&b, 0, 1, 5, &v, &restarts), 0);
	ck_assert_int_eq(restart_count(s, (struct sockaddr *)&b, 0, 0, 5, &v, &restarts), 0);
	ck_assert_int_eq(restart_count(s, (struct sockaddr *)&b, 0, 0, 6, &v, &restarts), 0);
	ck_assert_int_eq(restart_count(s, (struct sockaddr *)&b, 0, 2, 6, &v, &restarts), 0);
	ck_assert_uint_eq(v.seq, 3);
	ck_assert_uint_eq(restarts, 1);
	/* A slow sender (one packet a second) starting again after 3 packets: restarted. */
	ck_assert_int_eq(restart_count(s, (struct sockaddr *)&b, 0, 0, 8, &v, &restarts), 0);
	ck_assert_uint_eq(v.seq, 0);
	ck_assert_uint_eq(restarts, 2);
	stamp_sessions_free(s);
}
END_TEST

/* One group of 8: a ninth active session is refused; once one is idle, it takes its place. */
START_TEST(test_sessions_evict_only_idle)
{
	struct stamp_sessions *s = stamp_sessions_new(8, 10);
	struct stamp_session_view v;
	struct sockaddr_in src[9];

	for (int i = 0; i < 9; i++)
		src[i] = loopback((uint16_t)(6000 + i));
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(stamp_sessions_count(s, (struct sockaddr *)&src[i], 0, 1,
		    (uint64_t)i, &v), 0);
	ck_assert_int_eq(stamp_sessions_count(s, (struct sockaddr *)&src[8], 0, 1, 9, &v), -1);
	ck_assert_int_eq(errno, ENOSPC);
	/* The same source with another SSID is another session: refused too. */
	ck_assert_int_eq(stamp_sessions_count(s, (struct sockaddr *)&src[0], 1, 1, 9, &v), -1);
	/* At 10 s, session 0 (last seen at 0) is idle: evicted for the newcomer. */
	ck_assert_int_eq(stamp_sessions_count(s, (struct sockaddr *)&src[8], 0, 1, 10, &v), 0);
	ck_assert_uint_eq(v.seq, 0);
	/* Session 1 (last at 1) was not the one evicted: its count goes on. */
	ck_assert_int_eq(stamp_sessions_count(s, (struct sockaddr *)&src[1], 0, 1, 10, &v), 0);
	ck_assert_uint_eq(v.seq, 1);
	ck_assert_ptr_null(stamp_sessions_new(0, 10));
	ck_assert_int_eq(errno, EINVAL);
	stamp_sessions_free(s);
}
END_TEST

static Suite *
stamp_suite(void)
{
	Suite *s = suite_create("stamp");
	TCase *tc;

	tc = tcase_create("golden");
	tcase_add_test(tc, test_golden_reflect_unauth);
	tcase_add_test(tc, test_golden_reflect_auth);
	tcase_add_test(tc, test_golden_probe_build);
	tcase_add_test(tc, test_golden_reply_parse);
	tcase_add_test(tc, test_reflect_every_padding);
	tcase_add_test(tc, test_timestamps_and_error);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("auth");
	tcase_add_test(tc, test_hmac_verify);
	tcase_add_test(tc, test_key_load);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("tlv");
	tcase_add_test(tc, test_tlv_known_and_unknown);
	tcase_add_test(tc, test_i7_malformed_stops_rfc8972_4);
	tcase_add_test(tc, test_tlv_hmac);
	tcase_add_test(tc, test_tlv_random_and_truncated);
	tcase_add_test(tc, test_tlv_legacy_padding);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);

	tc = tcase_create("issue22");
	tcase_add_test(tc, test_i6_hmac_tlv_covers_before_rfc8972_4_8);
	tcase_add_test(tc, test_i8_cos_policy_rfc8972_4_4);
	tcase_add_test(tc, test_i10_twamp_light_rfc8762_4_6);
	tcase_add_test(tc, test_i11_sync_source_rfc8972_4_3);
	tcase_add_test(tc, test_i11_ptp_counts_tai_rfc8762_4_2_1);
	tcase_add_test(tc, test_i12_direct_measurement_rfc8972_4_5);
	tcase_add_test(tc, test_i13_t2_userspace_rfc8972_4_3);
	tcase_add_test(tc, test_i13_t3_per_reply_rfc8762_4_3_1);
	tcase_add_test(tc, test_i13_ctrunc_t2_userspace_rfc8972_4_3);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("tshark");
	tcase_add_test(tc, test_tshark_decodes_replies);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);

	tc = tcase_create("sessions");
	tcase_add_test(tc, test_sessions_wrap_sees_allocations);
	tcase_add_test(tc, test_sessions_flood);
	tcase_add_test(tc, test_sessions_evict_only_idle);
	tcase_add_test(tc, test_sessions_restart_after_timeout);
	tcase_add_test(tc, test_sessions_restart_on_sender_zero);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(stamp_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
