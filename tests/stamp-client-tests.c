/* SPDX-License-Identifier: MIT */
/* echo-client --stamp's tests, in check_client's suite: golden packets, sessions against
 * libstamp's reflector and echod, authentication, CoS, hops, loss per direction. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../tools/client-stamp.h"
#include "client-run.h"
#include "client-servers.h"
#include "client-wire.h"
#include "harness.h"
#include "json-check.h"
#include "stamp-client-reflector.h"
#include "stamp-client-tests.h"
#include "stamp-golden.h"

/* 2024-01-01 00:00:00 UTC, the golden packets' second (tests/data/stamp-*.hex). */
#define GOLDEN_SEC	1704067200ULL
#define MAXPKT		2048
#define NPROBES		5
/* The same secret as tests/data/stamp-key.hex, and another one. */
#define KEY_GOOD	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
#define KEY_WRONG	"ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"

#define ASSERT_EXIT(r, want)							\
	ck_assert_msg((r)->status == (want),					\
	    "exit %d, wanted %d\n--- stdout:\n%s\n--- stderr:\n%s",		\
	    (r)->status, (want), (r)->out, (r)->err)

#define ASSERT_OUT(r, text)							\
	ck_assert_msg(strstr((r)->out, (text)) != NULL,				\
	    "no \"%s\" in stdout\n--- stdout:\n%s\n--- stderr:\n%s", (text), (r)->out, (r)->err)

/* Reflectors: 0 libstamp's in this test, 1 echod's protocol = "stamp" listener. */
enum { REFL_TEST, REFL_ECHOD, NREFL };

/* ---- helpers ----------------------------------------------------------------------- */

/* Key files of this test: good, wrong, and good but readable by all (refused). */
struct keys {
	char dir[64], good[96], wrong[96], loose[96], bad[96];
};

static void
key_write(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, mode), 0);
}

static void
keys_make(struct keys *k)
{
	snprintf(k->dir, sizeof(k->dir), "/tmp/stamp-client-keys.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(k->dir));
	snprintf(k->good, sizeof(k->good), "%s/good.key", k->dir);
	snprintf(k->wrong, sizeof(k->wrong), "%s/wrong.key", k->dir);
	snprintf(k->loose, sizeof(k->loose), "%s/loose.key", k->dir);
	key_write(k->good, KEY_GOOD, 0600);
	key_write(k->wrong, KEY_WRONG, 0600);
	key_write(k->loose, KEY_GOOD, 0644);
	snprintf(k->bad, sizeof(k->bad), "%s/bad.key", k->dir);
	key_write(k->bad, "not a key\n", 0600);
}

static void
keys_remove(struct keys *k)
{
	unlink(k->good);
	unlink(k->wrong);
	unlink(k->loose);
	unlink(k->bad);
	rmdir(k->dir);
}

static bool
echod_built(void)
{
	const char *p = getenv("ECHOD");

	return p != NULL && access(p, X_OK) == 0;
}

/* echod with one protocol = "stamp" listener on loopback; echod binds it itself, so a
 * port taken between the choice and the bind is tried again. */
static int
echod_stamp_start(struct test_server *s, int family, bool stateful, const char *key)
{
	struct echod_proc *p = calloc(1, sizeof(*p));
	char keyline[160] = "";
	int port;

	server_init(s, family);
	ck_assert_ptr_nonnull(p);
	if (key != NULL)
		snprintf(keyline, sizeof(keyline), " stamp_auth_key = \"%s\";", key);
	for (int attempt = 0; attempt < 3; attempt++) {
		harness_init(p);
		port = harness_free_port();
		harness_write_config(p, "listeners = (\n  { protocol = \"stamp\"; port = %d; "
		    "address = \"%s\"; stamp_mode = \"%s\";%s }\n);\n", port,
		    family == AF_INET6 ? "::1" : "127.0.0.1", stateful ? "stateful" : "stateless",
		    keyline);
		if (harness_start(p, NULL, 0) == 0) {
			s->echod = p;
			server_name(s, port);
			return 0;
		}
		harness_cleanup(p);
	}
	free(p);
	return -1;
}

/* Reflector kind on family; false when this machine cannot run it (a skip, said why). */
static bool
refl_up(struct test_server *s, int kind, int family, const struct refl_spec *spec)
{
	if (family == AF_INET6 && !harness_have_ipv6())
		return false;
	if (kind == REFL_ECHOD && !echod_built()) {
		harness_skip("echod is not built (set ECHOD): STAMP tests against echod not run");
		return false;
	}
	if (kind == REFL_ECHOD)
		ck_assert_msg(echod_stamp_start(s, family, spec->stateful, spec->key_path) == 0,
		    "echod with a stamp listener did not start");
	else
		ck_assert_msg(refl_start(s, family, spec) == 0, "test reflector did not start");
	return true;
}

/* --json output: the probe objects (up to max) and the summary. Returns the probes. */
static size_t
json_run(const struct run_result *r, struct json_doc *probes, size_t max, struct json_doc *sum)
{
	char *text = strdup(r->out), *line, *save = NULL;
	size_t n = 0;
	bool summary = false;
	static struct json_doc d;
	const struct json_item *type;

	ck_assert_ptr_nonnull(text);
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		ck_assert_msg(json_parse(line, &d) == 0, "not JSON: %s", line);
		type = json_get(&d, "type");
		ck_assert_ptr_nonnull(type);
		if (strcmp(type->string, "summary") == 0) {
			*sum = d;
			summary = true;
		} else if (n < max) {
			probes[n++] = d;
		}
	}
	free(text);
	ck_assert_msg(summary, "no summary:\n%s", r->out);
	ck_assert_double_eq(json_get(sum, "schema")->number, 1);
	return n;
}

static double
num(const struct json_doc *d, const char *path)
{
	const struct json_item *it = json_get(d, path);

	ck_assert_msg(it != NULL && it->type == JSON_NUMBER, "%s is not a number", path);
	return it->number;
}

static bool
is_null(const struct json_doc *d, const char *path)
{
	const struct json_item *it = json_get(d, path);

	ck_assert_msg(it != NULL, "no %s", path);
	return it->type == JSON_NULL;
}

static bool
flag(const struct json_doc *d, const char *path)
{
	const struct json_item *it = json_get(d, path);

	ck_assert_msg(it != NULL && it->type == JSON_BOOL, "%s is not a boolean", path);
	return it->number != 0;
}

static const char *
str(const struct json_doc *d, const char *path)
{
	const struct json_item *it = json_get(d, path);

	ck_assert_msg(it != NULL && it->type == JSON_STRING, "%s is not a string", path);
	return it->string;
}

/* echo-client --stamp against s with the extra arguments (NULL-terminated, up to 12). */
static void
stamp_run(struct run_result *r, const struct test_server *s, ...)
{
	const char *args[24] = { "--stamp", "-p", s->port, "-i", "0.02", "-W", "2" };
	size_t n = 7;
	va_list ap;

	va_start(ap, s);
	while (n < 22 && (args[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	args[n++] = s->host;
	args[n] = NULL;
	run_clientv(r, NULL, 0, args);
}

/* ---- units: golden packets ------------------------------------------------------------ */

/* The sender builds RFC 8762's figures byte for byte and reads the reflector's. */
START_TEST(test_stamp_golden)
{
	struct stamp_key key;
	struct stamp_send ss = { 0x1234, STAMP_TS_NTP, { true, 0, 1 }, NULL, -1 };
	struct timespec t1 = { (time_t)GOLDEN_SEC, 500000000 };
	uint8_t got[MAXPKT], exp[MAXPKT];
	struct stamp_answer a;
	struct stamp_result res;
	struct keys k;
	size_t n;
	uint32_t seq;

	keys_make(&k);
	ck_assert_int_eq(stamp_key_load(k.good, &key), 0);
	n = golden_hex("stamp-sender-unauth.hex", exp, sizeof(exp));
	ck_assert_uint_eq(n, stamppkt_min_len(false, false));
	ck_assert_int_eq(stamppkt_build(got, n, &ss, 7, &t1), 0);
	ck_assert_mem_eq(got, exp, n);
	ss.key = &key;
	n = golden_hex("stamp-sender-auth.hex", exp, sizeof(exp));
	ck_assert_uint_eq(n, stamppkt_min_len(true, false));
	ck_assert_int_eq(stamppkt_build(got, n, &ss, 7, &t1), 0);
	ck_assert_mem_eq(got, exp, n);
	ck_assert_int_eq(stamppkt_build(got, n - 1, &ss, 7, &t1), -1);

	/* Reflector packets: T1 .5 s, T2 .625 s, T3 .75 s; back at T4 = T1 + 300 ms. */
	for (int auth = 0; auth < 2; auth++) {
		n = golden_hex(auth ? "stamp-reflector-auth.hex" : "stamp-reflector-unauth.hex",
		    got, sizeof(got));
		ck_assert_int_eq(stamppkt_read(got, n, auth ? &key : NULL, &a), 0);
		ck_assert_uint_eq(a.r.seq, 7);
		ck_assert_uint_eq(a.r.sender_seq, 7);
		ck_assert_int_eq(stamppkt_sender_seq(got, n, auth, &seq), 0);
		ck_assert_uint_eq(seq, 7);
		ck_assert_uint_eq(a.r.ssid, 0x1234);
		ck_assert(a.synced);
		ck_assert_uint_eq(a.t2_ns, GOLDEN_SEC * 1000000000ULL + 625000000ULL);
		ck_assert_uint_eq(a.t3_ns, GOLDEN_SEC * 1000000000ULL + 750000000ULL);
		stamppkt_result(&a, GOLDEN_SEC * 1000000000ULL + 500000000ULL, 300.0, true, 0, -1,
		    -1, &res);
		ck_assert(res.oneway);
		ck_assert_double_eq_tol(res.dwell, 125.0, 1e-6);
		ck_assert_double_eq_tol(res.rtt_net, 175.0, 1e-6);
		ck_assert_double_eq_tol(res.forward, 125.0, 1e-6);
		ck_assert_double_eq_tol(res.backward, 50.0, 1e-6);
		ck_assert_int_eq(res.sender_ttl, 64);
		ck_assert_int_eq(res.hops, 0);
		/* Started at 70 (-t 70): 6 hops; unsynchronised here: no one-way delays. */
		stamppkt_result(&a, 0, 300.0, false, 70, -1, -1, &res);
		ck_assert(!res.oneway);
		ck_assert_int_eq(res.hops, 6);
		/* Unauthenticated, down to RFC 5357 4.2.1's 41 octets is read; less is not. */
		ck_assert_int_eq(stamppkt_read(got, auth ? n - 1 : TWAMP_REPLY_LEN - 1,
		    auth ? &key : NULL, &a), -1);
		ck_assert_int_eq(errno, EMSGSIZE);
	}
	/* The authenticated reply under another key, or altered by one bit: refused. */
	key.key[0] ^= 1;
	ck_assert_int_eq(stamppkt_read(got, n, &key, &a), -1);
	ck_assert_int_eq(errno, EBADMSG);
	key.key[0] ^= 1;
	got[40] ^= 1;
	ck_assert_int_eq(stamppkt_read(got, n, &key, &a), -1);
	ck_assert_int_eq(errno, EBADMSG);
	keys_remove(&k);
}
END_TEST

/*
 * RFC 5357 4.2.1: a TWAMP-Light reflector's unauthenticated packet, 41 octets, is read
 * like STAMP's 44 (RFC 8762 4.3.1, the same layout padded): every field echo-client uses
 * lies within it. Built here from the RFC's figure, answering our test packet 7.
 */
START_TEST(test_stamp_twamp_reply)
{
	struct stamp_send ss = { 0, STAMP_TS_NTP, { true, 0, 1 }, NULL, -1 };
	struct timespec t1 = { (time_t)GOLDEN_SEC, 500000000 };
	struct timespec t2 = { (time_t)GOLDEN_SEC, 625000000 };
	struct timespec t3 = { (time_t)GOLDEN_SEC, 750000000 };
	uint8_t test[STAMP_UNAUTH_LEN], reply[TWAMP_REPLY_LEN];
	struct stamp_answer a;
	struct stamp_result res;

	ck_assert_int_eq(stamppkt_build(test, sizeof(test), &ss, 7, &t1), 0);
	twamp_reply41(reply, test, 3, &t2, &t3, 61);
	ck_assert_int_eq(stamppkt_read(reply, sizeof(reply), NULL, &a), 0);
	ck_assert_uint_eq(a.r.seq, 3);
	ck_assert_uint_eq(a.r.sender_seq, 7);
	ck_assert_uint_eq(a.r.t1, stamp_get64(test + 4));
	ck_assert_uint_eq(a.r.sender_error_estimate, stamp_get16(test + 12));
	ck_assert_uint_eq(a.r.sender_ttl, 61);
	ck_assert_uint_eq(a.r.ssid, 0);		/* TWAMP's MBZ where STAMP has the SSID */
	ck_assert_uint_eq(a.r.base_len, TWAMP_REPLY_LEN);	/* no TLVs */
	ck_assert(!a.synced && !a.cos && a.tlv_flags == 0);
	ck_assert_uint_eq(a.t2_ns, GOLDEN_SEC * 1000000000ULL + 625000000ULL);
	ck_assert_uint_eq(a.t3_ns, GOLDEN_SEC * 1000000000ULL + 750000000ULL);
	stamppkt_result(&a, GOLDEN_SEC * 1000000000ULL + 500000000ULL, 300.0, true, 64, -1, -1,
	    &res);
	ck_assert_double_eq_tol(res.dwell, 125.0, 1e-6);
	ck_assert_double_eq_tol(res.rtt_net, 175.0, 1e-6);
	ck_assert_int_eq(res.hops, 3);
	ck_assert_int_eq(stamppkt_read(reply, sizeof(reply) - 1, NULL, &a), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
}
END_TEST

/* CoS and HMAC TLVs through libstamp's reflector: what arrived is read back; a TLV that
 * was altered on the way back fails the HMAC TLV. */
START_TEST(test_stamp_cos_tlv)
{
	struct stamp_key key;
	struct stamp_send ss = { 9, STAMP_TS_PTP, { false, 0, 1 }, NULL, 46 };
	struct timespec t1 = { (time_t)GOLDEN_SEC, 0 };
	struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = htons(4000) };
	struct stamp_reflector refl = { .fmt = STAMP_TS_NTP, .tlvs = true,
		.dscp_allow = STAMP_DSCP_ALLOW_DEFAULT };
	struct stamp_arrival arr = { .src = (struct sockaddr *)&src, .t2 = t1, .ttl = 61,
		.tos = 46 << 2 | 1 };
	struct stamp_outcome out;
	struct stamp_answer a;
	uint8_t pkt[MAXPKT];
	struct keys k;
	size_t sizes[] = { 0, 1, 3, 4, 40 };

	keys_make(&k);
	ck_assert_int_eq(stamp_key_load(k.good, &key), 0);
	for (int auth = 0; auth < 2; auth++) {
		ss.key = refl.key = auth ? &key : NULL;
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			size_t n = stamppkt_min_len(auth, true) + sizes[i];

			ck_assert_int_eq(stamppkt_build(pkt, n, &ss, 3, &t1), 0);
			ck_assert_int_eq(stamp_reflect(pkt, n, &refl, &arr, &out), 0);
			ck_assert_int_eq(out.tlv.dscp, 46);
			ck_assert_uint_eq(out.tlv.malformed + out.tlv.unknown, 0);
			stamp_reflect_send_time(pkt, &out.test, &t1, refl.fmt, refl.key);
			ck_assert_int_eq(stamppkt_read(pkt, n, ss.key, &a), 0);
			ck_assert(a.cos);
			ck_assert_uint_eq(a.cos_dscp1, 46);
			ck_assert_uint_eq(a.cos_dscp2, 46);
			ck_assert_uint_eq(a.cos_ecn, 1);
			ck_assert_uint_eq(a.r.sender_ttl, 61);
			ck_assert_uint_eq(a.tlv_flags, 0);
		}
		/* The CoS answer altered after the reflector signed it. */
		pkt[(auth ? STAMP_AUTH_LEN : STAMP_UNAUTH_LEN) + STAMP_TLV_HDR + 1] ^= 0x10;
		ck_assert_int_eq(stamppkt_read(pkt, stamppkt_min_len(auth, true) + 40, ss.key, &a),
		    auth ? -1 : 0);
	}
	keys_remove(&k);
}
END_TEST

static void
loss_add(struct stamp_stats *ss, uint32_t seq, uint32_t rseq)
{
	struct stamp_result r = { .reflector_seq = rseq, .sender_ttl = -1, .hops = -1 };

	stampstats_add(ss, seq, &r, true);
}

/* The per-direction rule on made-up replies (RFC 8762 4.2: sender numbers from 0, a
 * stateful reflector's count from 0): which reflector, and which way lost. */
START_TEST(test_stamp_loss_rule)
{
	struct stamp_stats ss;
	struct stamp_loss l;

	/* Stateful, probes 0-5: 2 lost forward (not counted), 4 lost backward, 5 no reply. */
	stampstats_init(&ss, false, false, 0, -1);
	loss_add(&ss, 0, 0);
	loss_add(&ss, 1, 1);
	loss_add(&ss, 3, 2);
	stampstats_loss(&ss, 3, &l);
	ck_assert(l.known);
	ck_assert_str_eq(l.reflector, "stateful");
	ck_assert_uint_eq(l.forward, 1);
	ck_assert_uint_eq(l.backward, 0);
	ck_assert_uint_eq(l.undetermined, 2);
	/* The same with a reordered reply (3 before 1) and 4 counted, lost backward. */
	stampstats_init(&ss, false, false, 0, -1);
	loss_add(&ss, 0, 0);
	loss_add(&ss, 3, 2);
	loss_add(&ss, 1, 1);
	loss_add(&ss, 5, 4);
	stampstats_loss(&ss, 2, &l);
	ck_assert(l.known);
	ck_assert_uint_eq(l.forward, 1);
	ck_assert_uint_eq(l.backward, 1);
	ck_assert_uint_eq(l.undetermined, 0);
	/* The sequence copied, 2 without a reply: a stateless reflector, or a stateful one
	 * that lost it on the way back; nothing tells which. */
	stampstats_init(&ss, false, false, 0, -1);
	loss_add(&ss, 0, 0);
	loss_add(&ss, 1, 1);
	loss_add(&ss, 3, 3);
	stampstats_loss(&ss, 1, &l);
	ck_assert(!l.known);
	ck_assert_str_eq(l.reflector, "unknown");
	ck_assert_str_eq(l.why, "stateless or stateful reflector, not told apart");
	/* Issue 22: two probes reordered on the way (or by two reflector threads), none
	 * lost: R > S once, and still a stateful reflector with no loss either way. */
	stampstats_init(&ss, false, false, 0, -1);
	loss_add(&ss, 0, 0);
	loss_add(&ss, 1, 2);
	loss_add(&ss, 2, 1);
	loss_add(&ss, 3, 3);
	stampstats_loss(&ss, 0, &l);
	ck_assert(l.known);
	ck_assert_str_eq(l.reflector, "stateful");
	ck_assert_uint_eq(l.forward, 0);
	ck_assert_uint_eq(l.backward, 0);
	ck_assert_uint_eq(l.undetermined, 0);
	/* A count ahead of ours (a session the reflector already had): neither. */
	stampstats_init(&ss, false, false, 0, -1);
	loss_add(&ss, 0, 7);
	stampstats_loss(&ss, 0, &l);
	ck_assert(!l.known);
	ck_assert_str_eq(l.reflector, "unknown");
}
END_TEST

/* ---- sessions over loopback ----------------------------------------------------------- */

/* One probe's STAMP members, as every reply must carry them. */
static void
assert_probe(const struct json_doc *p, unsigned seq, bool stateful)
{
	double rtt = num(p, "rtt_ms"), dwell = num(p, "dwell_ms"), net = num(p, "rtt_net_ms");

	ck_assert_str_eq(str(p, "status"), "ok");
	ck_assert_uint_eq((unsigned)num(p, "seq"), seq);
	/* The reflector's hold time is inside the round trip; the rest is the network's. */
	ck_assert_msg(dwell >= 0 && dwell <= rtt, "dwell %f of rtt %f", dwell, rtt);
	ck_assert_double_eq_tol(net + dwell, rtt, 1e-5);
	/* RFC 8762 4.2: stateless copies our number, stateful counts what it received from
	 * 0; both from 0 and nothing lost: the same number. */
	(void)stateful;
	ck_assert_uint_eq((unsigned)num(p, "reflector_seq"), seq);
	ck_assert_uint_eq((unsigned)num(p, "ssid"), 0);
	if (json_get(p, "clocks_synchronised")->number != 0) {
		ck_assert_double_eq_tol(num(p, "forward_ms") + dwell + num(p, "backward_ms"), rtt,
		    1e-5);
	} else {
		ck_assert(is_null(p, "forward_ms") && is_null(p, "backward_ms"));
		ck_assert(strstr(str(p, "oneway_unavailable"), "not synchronised") != NULL);
	}
}

/* -c 5 against each reflector kind, stateless and stateful, IPv4 and IPv6. */
START_TEST(test_stamp_session)
{
	int kind = _i % NREFL, family = (_i / (2 * NREFL)) ? AF_INET6 : AF_INET;
	bool stateful = (_i / NREFL) % 2;
	struct refl_spec spec = { .stateful = stateful };
	static struct json_doc probes[NPROBES], sum;
	struct test_server s;
	struct run_result r;

	if (!refl_up(&s, kind, family, &spec))
		return;
	stamp_run(&r, &s, "-c", "5", "--json", (char *)NULL);
	ASSERT_EXIT(&r, 0);
	ck_assert_uint_eq(json_run(&r, probes, NPROBES, &sum), NPROBES);
	/* RFC 8762 4.2.1: numbered from 0, and seq 0's reply matched like the others. */
	for (unsigned i = 0; i < NPROBES; i++) {
		assert_probe(&probes[i], i, stateful);
		ck_assert_uint_eq((unsigned)num(&probes[i], "size"), STAMP_UNAUTH_LEN);
	}
	ck_assert_str_eq(str(&sum, "protocol"), "stamp");
	ck_assert_uint_eq((unsigned)num(&sum, "received"), NPROBES);
	/* Nothing lost on the way there: the two kinds answer alike. */
	ck_assert_str_eq(str(&sum, "stamp.reflector"), "unknown");
	ck_assert(num(&sum, "stamp.dwell_ms.min") <= num(&sum, "stamp.dwell_ms.max"));
	ck_assert(num(&sum, "stamp.rtt_net_ms.avg") <= num(&sum, "rtt_ms.avg"));
	ck_assert(is_null(&sum, "stamp.loss_forward"));
	ck_assert_str_eq(str(&sum, "stamp.loss_direction_unknown"),
	    "stateless or stateful reflector, not told apart");
	run_free(&r);

	/* The same in text. */
	stamp_run(&r, &s, "-c", "2", (char *)NULL);
	ASSERT_EXIT(&r, 0);
	ck_assert_uint_eq(run_count_lines(r.out, " rtt_net="), 2);
	ASSERT_OUT(&r, "stamp echo statistics ---");
	ASSERT_OUT(&r, "rtt_net min/avg/max = ");
	ASSERT_OUT(&r, "loss per direction: unknown (stateless or stateful reflector, not told "
	    "apart)");
	ASSERT_OUT(&r, " seq=0 ");
	run_free(&r);
	server_stop(&s);
}
END_TEST

/* Authenticated mode: the right key, all answered; the wrong one, none counted ok. */
START_TEST(test_stamp_auth)
{
	int kind = _i;
	struct keys k;
	struct refl_spec spec = { .stateful = true };
	static struct json_doc probes[NPROBES], sum;
	struct test_server s;
	struct run_result r;

	keys_make(&k);
	spec.key_path = k.good;
	if (!refl_up(&s, kind, AF_INET, &spec)) {
		keys_remove(&k);
		return;
	}
	stamp_run(&r, &s, "-c", "5", "--cos", "--json", "--stamp-auth-key", k.good, (char *)NULL);
	ASSERT_EXIT(&r, 0);
	ck_assert_uint_eq(json_run(&r, probes, NPROBES, &sum), NPROBES);
	for (unsigned i = 0; i < NPROBES; i++) {
		assert_probe(&probes[i], i, true);
		/* The base, the CoS TLV and the HMAC TLV that ends the TLVs. */
		ck_assert_uint_eq((unsigned)num(&probes[i], "size"), STAMP_AUTH_LEN + 8 + 20);
	}
	ck_assert(json_get(&sum, "stamp.authenticated")->number == 1);
	ck_assert_uint_eq((unsigned)num(&sum, "stamp.bad_auth"), 0);
	run_free(&r);

	/* The reflector drops what it cannot verify. */
	stamp_run(&r, &s, "-c", "3", "-W", "0.3", "--stamp-auth-key", k.wrong, (char *)NULL);
	ASSERT_EXIT(&r, 1);
	ASSERT_OUT(&r, "3 sent, 0 received");
	run_free(&r);
	server_stop(&s);
	keys_remove(&k);
}
END_TEST

/* Replies whose HMAC does not verify are bad, never ok: a reflector that spoils them. */
START_TEST(test_stamp_auth_spoilt)
{
	struct keys k;
	struct refl_spec spec = { .stateful = false, .script = "t" };
	struct test_server s;
	struct run_result r;

	keys_make(&k);
	spec.key_path = k.good;
	ck_assert_int_eq(refl_start(&s, AF_INET, &spec), 0);
	stamp_run(&r, &s, "-c", "3", "--stamp-auth-key", k.good, (char *)NULL);
	ASSERT_EXIT(&r, 1);
	ASSERT_OUT(&r, "3 sent, 0 received, 3 mismatched, 0 lost");
	ck_assert_uint_eq(run_count_lines(r.out, "HMAC does not verify"), 3);
	ASSERT_OUT(&r, "3 replies failed authentication (HMAC)");
	run_free(&r);
	server_stop(&s);
	keys_remove(&k);
}
END_TEST

/* --cos with -Q: the reflector reports the DSCP it received, and replies with it. */
START_TEST(test_stamp_cos)
{
	int kind = _i % NREFL, family = _i / NREFL ? AF_INET6 : AF_INET;
	struct refl_spec spec = { .stateful = false };
	static struct json_doc probes[NPROBES], sum;
	struct test_server s;
	struct run_result r;

	if (!refl_up(&s, kind, family, &spec))
		return;
	stamp_run(&r, &s, "-c", "3", "-Q", "af41", "--cos", "--json", (char *)NULL);
	ASSERT_EXIT(&r, 0);
	ck_assert_uint_eq(json_run(&r, probes, NPROBES, &sum), 3);
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_uint_eq((unsigned)num(&probes[i], "cos.dscp_asked"), 34);
		ck_assert_uint_eq((unsigned)num(&probes[i], "cos.dscp_received"), 34);
		ck_assert_uint_eq((unsigned)num(&probes[i], "cos.ecn_received"), 0);
		ck_assert_uint_eq((unsigned)num(&probes[i], "cos.reply_dscp"), 34);
		ck_assert(json_get(&probes[i], "cos.reply_dscp_as_asked")->number == 1);
		ck_assert(!flag(&probes[i], "cos.remarked"));
	}
	ck_assert_uint_eq((unsigned)num(&sum, "stamp.cos.dscp_received"), 3);
	run_free(&r);

	/* Text; without -Q the DSCP asked for is 0. */
	stamp_run(&r, &s, "-c", "1", "--cos", (char *)NULL);
	ASSERT_EXIT(&r, 0);
	ASSERT_OUT(&r, " cos dscp=0 ecn=0 reply_dscp=0");
	ck_assert_ptr_null(strstr(r.out, "re-marked"));
	run_free(&r);
	server_stop(&s);
}
END_TEST

/* RFC 8972 4.4: "re-marked" only where the reflector says it received another DSCP
 * (DSCP2) than the one asked for; the reply's own TOS is reported as reply_tos only. */
START_TEST(test_stamp_remarked)
{
	struct refl_spec spec = { .stateful = false, .script = "m" };
	static struct json_doc probes[NPROBES], sum;
	struct test_server s;
	struct run_result r;

	ck_assert_int_eq(refl_start(&s, AF_INET, &spec), 0);
	stamp_run(&r, &s, "-c", "1", "-Q", "af41", "--cos", (char *)NULL);
	ASSERT_EXIT(&r, 0);
	ASSERT_OUT(&r, " cos dscp=0 ecn=0 (re-marked on the way) reply_dscp=34");
	ck_assert_ptr_null(strstr(r.out, "tos="));
	run_free(&r);
	stamp_run(&r, &s, "-c", "2", "-Q", "af41", "--cos", "--json", (char *)NULL);
	ASSERT_EXIT(&r, 0);
	ck_assert_uint_eq(json_run(&r, probes, NPROBES, &sum), 2);
	for (unsigned i = 0; i < 2; i++) {
		ck_assert_uint_eq((unsigned)num(&probes[i], "cos.dscp_received"), 0);
		ck_assert(flag(&probes[i], "cos.remarked"));
		/* The reflector answered with the DSCP asked for: as sent, not re-marked. */
		ck_assert_uint_eq((unsigned)num(&probes[i], "reply_tos"), 34 << 2);
	}
	ck_assert_uint_eq((unsigned)num(&sum, "stamp.cos.dscp_received"), 0);
	run_free(&r);
	server_stop(&s);
}
END_TEST

/*
 * A reply of another size than the test packet (RFC 8762 4.3: the reflector keeps the
 * sender's padding, so it should be the same): said per reply and counted, and used.
 */
START_TEST(test_stamp_reply_size)
{
	struct refl_spec spec = { .stateful = false, .script = "k" };
	static struct json_doc probes[NPROBES], sum;
	struct test_server s;
	struct run_result r;

	ck_assert_int_eq(refl_start(&s, AF_INET, &spec), 0);
	stamp_run(&r, &s, "-c", "2", "-s", "100", (char *)NULL);
	ASSERT_EXIT(&r, 0);
	ASSERT_OUT(&r, "2 sent, 2 received, 0 mismatched, 0 lost");
	ck_assert_uint_eq(run_count_lines(r.out, "44 bytes from "), 2);
	ck_assert_uint_eq(run_count_lines(r.out, " (shorter than sent: 44 of 100 octets)"), 2);
	ASSERT_OUT(&r, "reply size: 2 shorter than sent, 0 longer (used all the same)");
	run_free(&r);
	server_stop(&s);

	spec.script = "l";
	ck_assert_int_eq(refl_start(&s, AF_INET, &spec), 0);
	stamp_run(&r, &s, "-c", "2", "--json", (char *)NULL);
	ASSERT_EXIT(&r, 0);
	ck_assert_uint_eq(json_run(&r, probes, NPROBES, &sum), 2);
	for (unsigned i = 0; i < 2; i++) {
		ck_assert_str_eq(str(&probes[i], "status"), "ok");
		ck_assert_uint_eq((unsigned)num(&probes[i], "size"), STAMP_UNAUTH_LEN + 4);
		ck_assert_uint_eq((unsigned)num(&probes[i], "size_sent"), STAMP_UNAUTH_LEN);
		ck_assert_str_eq(str(&probes[i], "size_differs"), "longer");
	}
	ck_assert_uint_eq((unsigned)num(&sum, "stamp.replies_longer"), 2);
	ck_assert_uint_eq((unsigned)num(&sum, "stamp.replies_shorter"), 0);
	run_free(&r);
	server_stop(&s);

	/* The same size: nothing said. */
	spec.script = "e";
	ck_assert_int_eq(refl_start(&s, AF_INET, &spec), 0);
	stamp_run(&r, &s, "-c", "1", "--json", (char *)NULL);
	ASSERT_EXIT(&r, 0);
	ck_assert_uint_eq(json_run(&r, probes, NPROBES, &sum), 1);
	ck_assert(is_null(&probes[0], "size_differs"));
	ck_assert_uint_eq((unsigned)num(&sum, "stamp.replies_shorter"), 0);
	run_free(&r);
	server_stop(&s);
}
END_TEST

/*
 * Against a TWAMP-Light reflector answering with RFC 5357 4.2.1's 41 octets: every
 * probe answered, 0 % loss, the STAMP measures there, and the replies said shorter.
 */
START_TEST(test_stamp_twamp_light)
{
	static struct json_doc probes[NPROBES], sum;
	struct test_server s;
	struct run_result r;
	double rtt, dwell;

	ck_assert_int_eq(twamp_light_start(&s, AF_INET), 0);
	stamp_run(&r, &s, "-c", "3", "--json", (char *)NULL);
	ASSERT_EXIT(&r, 0);
	ck_assert_uint_eq(json_run(&r, probes, NPROBES, &sum), 3);
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_str_eq(str(&probes[i], "status"), "ok");
		ck_assert_uint_eq((unsigned)num(&probes[i], "seq"), i);
		ck_assert_uint_eq((unsigned)num(&probes[i], "reflector_seq"), i);
		ck_assert_uint_eq((unsigned)num(&probes[i], "size"), TWAMP_REPLY_LEN);
		ck_assert_uint_eq((unsigned)num(&probes[i], "size_sent"), STAMP_UNAUTH_LEN);
		ck_assert_str_eq(str(&probes[i], "size_differs"), "shorter");
		rtt = num(&probes[i], "rtt_ms");
		dwell = num(&probes[i], "dwell_ms");
		ck_assert_msg(dwell >= 0 && dwell <= rtt, "dwell %f of rtt %f", dwell, rtt);
		ck_assert_double_eq_tol(num(&probes[i], "rtt_net_ms") + dwell, rtt, 1e-5);
		ck_assert(num(&probes[i], "sender_ttl") > 0);
		ck_assert_uint_eq((unsigned)num(&probes[i], "hops"), 0);
	}
	ck_assert_uint_eq((unsigned)num(&sum, "received"), 3);
	ck_assert_uint_eq((unsigned)num(&sum, "unexpected"), 0);
	ck_assert_double_eq(num(&sum, "loss_percent"), 0);
	ck_assert_uint_eq((unsigned)num(&sum, "stamp.replies_shorter"), 3);
	run_free(&r);

	stamp_run(&r, &s, "-c", "2", (char *)NULL);
	ASSERT_EXIT(&r, 0);
	ASSERT_OUT(&r, "2 sent, 2 received, 0 mismatched, 0 lost (0.0% loss)");
	ck_assert_uint_eq(run_count_lines(r.out, " (shorter than sent: 41 of 44 octets)"), 2);
	ck_assert_ptr_null(strstr(r.out, "unexpected"));
	run_free(&r);
	server_stop(&s);
}
END_TEST

/* -t 7: the reflector saw TTL 7; the initial TTL is known, so no hop was crossed. */
START_TEST(test_stamp_hops)
{
	int kind = _i;
	struct refl_spec spec = { .stateful = true };
	static struct json_doc probes[NPROBES], sum;
	struct test_server s;
	struct run_result r;

	if (!refl_up(&s, kind, AF_INET, &spec))
		return;
	stamp_run(&r, &s, "-c", "2", "-t", "7", "--json", (char *)NULL);
	ASSERT_EXIT(&r, 0);
	ck_assert_uint_eq(json_run(&r, probes, NPROBES, &sum), 2);
	for (unsigned i = 0; i < 2; i++) {
		ck_assert_uint_eq((unsigned)num(&probes[i], "sender_ttl"), 7);
		ck_assert_uint_eq((unsigned)num(&probes[i], "hops"), 0);
	}
	ck_assert_uint_eq((unsigned)num(&sum, "stamp.sender_ttl"), 7);
	run_free(&r);
	stamp_run(&r, &s, "-c", "1", (char *)NULL);
	ASSERT_EXIT(&r, 0);
	ASSERT_OUT(&r, " sender_ttl=64 hops=0");
	run_free(&r);
	server_stop(&s);
}
END_TEST

/* Probe 3 lost forward, probe 4's reply lost backward: told apart by a stateful reflector,
 * not by a stateless one. */
START_TEST(test_stamp_loss_direction)
{
	struct refl_spec spec = { .stateful = true, .script = "eefbe" };
	static struct json_doc probes[NPROBES], sum;
	struct test_server s;
	struct run_result r;

	ck_assert_int_eq(refl_start(&s, AF_INET, &spec), 0);
	stamp_run(&r, &s, "-c", "5", "-W", "0.5", "--json", (char *)NULL);
	ASSERT_EXIT(&r, 1);
	json_run(&r, probes, NPROBES, &sum);
	ck_assert_uint_eq((unsigned)num(&sum, "lost"), 2);
	ck_assert_str_eq(str(&sum, "stamp.reflector"), "stateful");
	ck_assert_uint_eq((unsigned)num(&sum, "stamp.loss_forward"), 1);
	ck_assert_uint_eq((unsigned)num(&sum, "stamp.loss_backward"), 1);
	ck_assert_uint_eq((unsigned)num(&sum, "stamp.loss_undetermined"), 0);
	run_free(&r);
	server_stop(&s);

	spec.stateful = false;
	ck_assert_int_eq(refl_start(&s, AF_INET, &spec), 0);
	stamp_run(&r, &s, "-c", "5", "-W", "0.5", (char *)NULL);
	ASSERT_EXIT(&r, 1);
	ASSERT_OUT(&r, "5 sent, 3 received, 0 mismatched, 2 lost");
	ASSERT_OUT(&r, "loss per direction: unknown (stateless or stateful reflector, not told "
	    "apart)");
	run_free(&r);
	server_stop(&s);
}
END_TEST

/* --ssid goes out and must come back: a reply of another session is not an answer. */
START_TEST(test_stamp_ssid)
{
	struct refl_spec spec = { .stateful = false };
	struct test_server s;
	struct run_result r;

	ck_assert_int_eq(refl_start(&s, AF_INET, &spec), 0);
	stamp_run(&r, &s, "-c", "1", "--ssid", "4660", "--json", (char *)NULL);
	ASSERT_EXIT(&r, 0);
	ASSERT_OUT(&r, "\"ssid\":4660,");
	run_free(&r);
	server_stop(&s);

	spec.script = "s";
	ck_assert_int_eq(refl_start(&s, AF_INET, &spec), 0);
	stamp_run(&r, &s, "-c", "2", "-W", "0.3", "--ssid", "4660", (char *)NULL);
	ASSERT_EXIT(&r, 1);
	ASSERT_OUT(&r, "2 sent, 0 received, 0 mismatched, 2 lost");
	ck_assert_uint_eq(run_count_lines(r.out, "unexpected, another SSID"), 2);
	run_free(&r);
	server_stop(&s);
}
END_TEST

/*
 * What goes on the wire: size, sequence from 0 (RFC 8762 4.2.1), Error Estimate's Z,
 * SSID, T1's clock, and every TLV with U set, M and I clear (RFC 8972 4).
 */
START_TEST(test_stamp_wire)
{
	static const struct {
		const char *args[6];
		size_t len;
		bool ptp;
	} cases[] = {
		{ { NULL }, STAMP_UNAUTH_LEN, false },
		{ { "--cos", NULL }, STAMP_UNAUTH_LEN + 8, false },
		{ { "-s", "100", "--stamp-timestamp", "ptp", "--ssid", "4660" }, 100, true },
		{ { "--cos", "-s", "60" }, 60, false },
	};
	struct wire_dgram d;
	struct run_result r;
	struct timespec ts;
	uint64_t t1;
	char port[8];
	int fd, p;

	fd = wire_socket(AF_INET, &p);
	ck_assert_int_ne(fd, -1);
	snprintf(port, sizeof(port), "%d", p);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *args[16] = { "--stamp", "-p", port, "-c", "2", "-W", "0.1" };
		size_t n = 7;

		for (size_t j = 0; j < 6 && cases[i].args[j] != NULL; j++)
			args[n++] = cases[i].args[j];
		args[n++] = "127.0.0.1";
		args[n] = NULL;
		run_clientv(&r, NULL, 0, args);
		ck_assert_int_eq(wire_recv(fd, &d, 1000), 0);
		ck_assert_uint_eq(d.len, cases[i].len);
		ck_assert_uint_eq(stamp_get32(d.data), 0);
		ck_assert_uint_eq(!!(stamp_get16(d.data + 12) & STAMP_EE_Z), cases[i].ptp);
		ck_assert_uint_eq(stamp_get16(d.data + 14), cases[i].ptp ? 4660 : 0);
		stamp_ts_decode(stamp_get64(d.data + 4), cases[i].ptp ? STAMP_TS_PTP :
		    STAMP_TS_NTP, &ts);
		t1 = (uint64_t)ts.tv_sec;
		ck_assert_msg(llabs((long long)t1 - (long long)time(NULL)) < 60, "T1 %llu",
		    (unsigned long long)t1);
		if (cases[i].len > STAMP_UNAUTH_LEN && !cases[i].ptp) {
			ck_assert_uint_eq(d.data[STAMP_UNAUTH_LEN + 1], STAMP_TLV_COS);
			ck_assert_uint_eq(d.data[STAMP_UNAUTH_LEN], STAMP_TLV_U);
		}
		/* The rest in an Extra Padding TLV after the CoS TLV, its U set too. */
		if (cases[i].len == 60) {
			ck_assert_uint_eq(d.data[STAMP_UNAUTH_LEN + 9], STAMP_TLV_PADDING);
			ck_assert_uint_eq(d.data[STAMP_UNAUTH_LEN + 8], STAMP_TLV_U);
		}
		/* The next one is 1. */
		ck_assert_int_eq(wire_recv(fd, &d, 1000), 0);
		ck_assert_uint_eq(stamp_get32(d.data), 1);
		run_free(&r);
	}
	close(fd);
}
END_TEST

/* Without -p, STAMP's port 862 (whether anything answers there or not). */
START_TEST(test_stamp_port)
{
	struct run_result r;

	run_client(&r, NULL, 0, "--stamp", "-c", "1", "-W", "0.1", "127.0.0.1", (char *)NULL);
	ASSERT_OUT(&r, "--- 127.0.0.1:862 stamp echo statistics ---");
	run_free(&r);
}
END_TEST

static const struct {
	const char *args[6];
	const char *err;	/* in stderr */
} usage_cases[] = {
	{ { "--stamp", "--tcp" }, "--stamp is UDP only" },
	{ { "--stamp", "--stream" }, "--stamp is UDP only" },
	{ { "--stamp", "--interactive" }, "--interactive does not apply" },
	{ { "--stamp", "-m", "hi" }, "--message and --pattern do not apply" },
	{ { "--stamp", "-s", "43" }, "at least 44 octets" },
	{ { "--stamp", "-s", "0" }, "at least 44 octets" },
	{ { "--stamp", "--cos", "-s", "44" }, "at least 52 octets" },
	{ { "--stamp", "--ssid", "65536" }, "invalid value for --ssid" },
	{ { "--stamp", "--stamp-timestamp", "gps" }, "invalid value for --stamp-timestamp" },
	{ { "--cos" }, "need --stamp" },
	{ { "--ssid", "1" }, "need --stamp" },
	{ { "--stamp", "--stamp-auth-key", "/nonexistent/key" }, "No such file" },
	{ { "--stamp", "--stamp-auth-key", "LOOSE" }, "others may read" },
	{ { "--stamp", "--stamp-auth-key", "BAD" }, "not a key" },
};

START_TEST(test_stamp_usage)
{
	const char *args[12];
	struct run_result r;
	struct keys k;
	size_t n = 0;

	keys_make(&k);
	for (size_t j = 0; j < 6 && usage_cases[_i].args[j] != NULL; j++)
		args[n++] = strcmp(usage_cases[_i].args[j], "LOOSE") == 0 ? k.loose :
		    strcmp(usage_cases[_i].args[j], "BAD") == 0 ? k.bad : usage_cases[_i].args[j];
	args[n++] = "127.0.0.1";
	args[n] = NULL;
	run_clientv(&r, NULL, 0, args);
	ASSERT_EXIT(&r, 64);	/* EX_USAGE, as every usage error */
	ck_assert_msg(strstr(r.err, usage_cases[_i].err) != NULL, "no \"%s\" in stderr: %s",
	    usage_cases[_i].err, r.err);
	run_free(&r);
	keys_remove(&k);
}
END_TEST

void
stamp_client_tcases(Suite *s, int timeout)
{
	TCase *tc = harness_tcase(s, "stamp units", timeout);

	tcase_add_test(tc, test_stamp_golden);
	tcase_add_test(tc, test_stamp_cos_tlv);
	tcase_add_test(tc, test_stamp_twamp_reply);
	tcase_add_test(tc, test_stamp_loss_rule);
	tc = harness_tcase(s, "stamp sessions", timeout);
	tcase_add_loop_test(tc, test_stamp_session, 0, 2 * 2 * NREFL);
	tcase_add_loop_test(tc, test_stamp_auth, 0, NREFL);
	tcase_add_test(tc, test_stamp_auth_spoilt);
	tcase_add_loop_test(tc, test_stamp_cos, 0, 2 * NREFL);
	tcase_add_test(tc, test_stamp_remarked);
	tcase_add_test(tc, test_stamp_reply_size);
	tcase_add_test(tc, test_stamp_twamp_light);
	tcase_add_loop_test(tc, test_stamp_hops, 0, NREFL);
	tcase_add_test(tc, test_stamp_loss_direction);
	tcase_add_test(tc, test_stamp_ssid);
	tcase_add_test(tc, test_stamp_wire);
	tc = harness_tcase(s, "stamp command line", timeout);
	tcase_add_test(tc, test_stamp_port);
	tcase_add_loop_test(tc, test_stamp_usage, 0, sizeof(usage_cases) / sizeof(usage_cases[0]));
}
