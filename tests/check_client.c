/* SPDX-License-Identifier: MIT */
/* echo-client against real echo servers over real loopback sockets, and its pure parts. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tools/client-payload.h"
#include "../tools/client-stats.h"
#include "client-run.h"
#include "client-servers.h"
#include "json-check.h"

#define TEST_TIMEOUT_S	120

/* What the machine lacks; reported (and the run skipped, exit 77) only if all else passed. */
static const char *missing[4];
static size_t nmissing;

/* The peers that can run here, crossed with the address families that work here. */
static const struct peer_kind *kinds[8];
static size_t nkinds;
static const int families[] = { AF_INET, AF_INET6 };
static size_t nfamilies = 1;

/* The summary's counts line, parsed. */
struct summary {
	unsigned long sent, received, mismatched, lost, late, duplicates, unexpected;
};

#define ASSERT_STATUS(r, want)							\
	ck_assert_msg((r)->status == (want),					\
	    "exit %d, wanted %d\n--- stdout:\n%s\n--- stderr:\n%s",		\
	    (r)->status, (want), (r)->out, (r)->err)

#define ASSERT_HAS(r, text, where)						\
	ck_assert_msg(strstr((r)->where, (text)) != NULL,			\
	    "no \"%s\" in " #where "\n--- stdout:\n%s\n--- stderr:\n%s",	\
	    (text), (r)->out, (r)->err)

static unsigned long
summary_extra(const char *line, const char *word)
{
	char pat[32];
	const char *p, *end = strchr(line, '\n');
	unsigned long v;

	snprintf(pat, sizeof(pat), " %s", word);
	p = strstr(line, pat);
	if (p == NULL || (end != NULL && p > end))
		return 0;
	while (p > line && p[-1] != ' ')
		p--;
	return sscanf(p, "%lu", &v) == 1 ? v : 0;
}

static int
summary_parse(const char *text, struct summary *s)
{
	const char *line;

	memset(s, 0, sizeof(*s));
	for (line = text; line != NULL; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (sscanf(line, "%lu sent, %lu received, %lu mismatched, %lu lost", &s->sent,
		    &s->received, &s->mismatched, &s->lost) == 4) {
			s->late = summary_extra(line, "late");
			s->duplicates = summary_extra(line, "duplicates");
			s->unexpected = summary_extra(line, "unexpected");
			return 0;
		}
	}
	return -1;
}

static struct summary
summary_of(const struct run_result *r, const char *text)
{
	struct summary s;

	ck_assert_msg(summary_parse(text, &s) == 0, "no summary\n--- stdout:\n%s\n--- stderr:\n%s",
	    r->out, r->err);
	return s;
}

static void
assert_counts(const struct run_result *r, const struct summary *s, unsigned long sent,
    unsigned long received, unsigned long mismatched, unsigned long lost)
{
	ck_assert_msg(s->sent == sent && s->received == received && s->mismatched == mismatched &&
	    s->lost == lost, "counts %lu/%lu/%lu/%lu, wanted %lu/%lu/%lu/%lu\n--- stdout:\n%s\n"
	    "--- stderr:\n%s", s->sent, s->received, s->mismatched, s->lost, sent, received,
	    mismatched, lost, r->out, r->err);
}

/* "127.0.0.1:7", "[::1]:7" or "unix:/path": how echo-client names the server. */
static const char *
peer_name(const struct test_server *s)
{
	static char name[160];

	if (s->family == AF_UNIX)
		snprintf(name, sizeof(name), "%s", s->host);
	else if (s->family == AF_INET6)
		snprintf(name, sizeof(name), "[%s]:%s", s->host, s->port);
	else
		snprintf(name, sizeof(name), "%s:%s", s->host, s->port);
	return name;
}

static const char *
bytes_from(size_t n, const struct test_server *s)
{
	static char text[200];

	snprintf(text, sizeof(text), "%zu bytes from %s ", n, peer_name(s));
	return text;
}

/* Loop index _i of the peer tests: which peer, which family. */
static const struct peer_kind *
peer_kind(int i)
{
	return kinds[(size_t)i % nkinds];
}

static void
peer_start(int i, struct test_server *s)
{
	const struct peer_kind *k = peer_kind(i);
	int family = families[(size_t)i / nkinds];

	ck_assert_msg(k->start(s, family) == 0, "%s did not start on %s", k->name,
	    family == AF_INET6 ? "::1" : "127.0.0.1");
}

static void
fake(struct test_server *s, int family, int socktype, const char *script, long corrupt_at,
    enum fake_stream stream)
{
	struct fake_spec spec = { socktype, stream, corrupt_at, script ? script : "e" };

	ck_assert_msg(fake_start(s, family, &spec) == 0, "fake server did not start");
}

/* --- Peers: servers no one here wrote, over TCP and UDP, IPv4 and IPv6 ------------------- */

START_TEST(test_peer_tcp_once)
{
	struct test_server s;
	struct run_result r;
	char want[512];

	peer_start(_i, &s);
	run_client(&r, NULL, 0, "-p", s.port, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 0);
	snprintf(want, sizeof(want), "hello\n%sseq=1 time=", bytes_from(5, &s));
	ck_assert_msg(strncmp(r.out, want, strlen(want)) == 0, "stdout:\n%s", r.out);
	ck_assert_msg(strstr(r.out, " ms\n") != NULL, "stdout:\n%s", r.out);
	run_free(&r);

	run_client(&r, NULL, 0, "--tcp", "--port", s.port, "--message", "The quick brown fox",
	    s.host, (char *)NULL);
	ASSERT_STATUS(&r, 0);
	ASSERT_HAS(&r, "The quick brown fox\n", out);
	ASSERT_HAS(&r, bytes_from(19, &s), out);
	run_free(&r);

	run_client(&r, NULL, 0, "-q", "-p", s.port, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 0);
	ck_assert_msg(r.outlen == 0, "-q printed: %s", r.out);
	run_free(&r);
	server_stop(&s);
}
END_TEST

START_TEST(test_peer_udp_once)
{
	struct test_server s;
	struct run_result r;
	char want[512];

	peer_start(_i, &s);
	run_client(&r, NULL, 0, "-u", "-p", s.port, "-m", "datagram", s.host, (char *)NULL);
	ASSERT_STATUS(&r, 0);
	snprintf(want, sizeof(want), "datagram\n%sseq=1 time=", bytes_from(8, &s));
	ck_assert_msg(strncmp(r.out, want, strlen(want)) == 0, "stdout:\n%s", r.out);
	run_free(&r);
	server_stop(&s);
}
END_TEST

START_TEST(test_peer_tcp_probe)
{
	struct test_server s;
	struct run_result r;
	struct summary sum;
	char want[512];

	peer_start(_i, &s);
	run_client(&r, NULL, 0, "-p", s.port, "-c", "5", "-i", "0", "-s", "100", s.host, (char *)NULL);
	ASSERT_STATUS(&r, 0);
	for (int seq = 1; seq <= 5; seq++) {
		snprintf(want, sizeof(want), "%sseq=%d time=", bytes_from(100, &s), seq);
		ASSERT_HAS(&r, want, out);
	}
	ck_assert_uint_eq(run_count_lines(r.out, "bytes from"), 5);
	sum = summary_of(&r, r.out);
	assert_counts(&r, &sum, 5, 5, 0, 0);
	snprintf(want, sizeof(want), "--- %s tcp echo statistics ---\n", peer_name(&s));
	ASSERT_HAS(&r, want, out);
	ASSERT_HAS(&r, "(0.0% loss)", out);
	ASSERT_HAS(&r, "rtt min/avg/max/mdev = ", out);
	ASSERT_HAS(&r, " ms, p99 = ", out);
	run_free(&r);

	/* -q: the summary only. */
	run_client(&r, NULL, 0, "-q", "-p", s.port, "-c", "3", "-i", "0", s.host, (char *)NULL);
	ASSERT_STATUS(&r, 0);
	ck_assert_uint_eq(run_count_lines(r.out, "bytes from"), 0);
	sum = summary_of(&r, r.out);
	assert_counts(&r, &sum, 3, 3, 0, 0);
	run_free(&r);
	server_stop(&s);
}
END_TEST

/* Payloads far beyond the socket buffers: sending and receiving must overlap. */
START_TEST(test_peer_tcp_large)
{
	struct test_server s;
	struct run_result r;
	struct summary sum;

	peer_start(_i, &s);
	run_client(&r, NULL, 0, "-p", s.port, "-c", "2", "-i", "0", "-s", "8388608", "-W", "60",
	    s.host, (char *)NULL);
	ASSERT_STATUS(&r, 0);
	ck_assert_uint_eq(run_count_lines(r.out, bytes_from(8388608, &s)), 2);
	sum = summary_of(&r, r.out);
	assert_counts(&r, &sum, 2, 2, 0, 0);
	run_free(&r);
	server_stop(&s);
}
END_TEST

/*
 * xinetd's UDP echo reads and discards whatever is queued right after it answers (strace
 * shows the drain), so back-to-back probes can be lost there through no fault of the
 * client. From such a peer: every probe accounted for, every answer exact, the exit status
 * agreeing; from the others, every probe back.
 */
START_TEST(test_peer_udp_probe)
{
	struct test_server s;
	struct run_result r;
	struct summary sum;

	peer_start(_i, &s);
	run_client(&r, NULL, 0, "-u", "-p", s.port, "-c", "20", "-i", "0.01", "-s", "512",
	    "-W", "0.5", s.host, (char *)NULL);
	sum = summary_of(&r, r.out);
	ck_assert_msg(sum.sent == 20 && sum.mismatched == 0 && sum.unexpected == 0 &&
	    sum.received + sum.lost == 20 && sum.received > 0, "stdout:\n%s", r.out);
	ck_assert_uint_eq(run_count_lines(r.out, bytes_from(512, &s)) -
	    run_count_lines(r.out, "(late)") - run_count_lines(r.out, "(duplicate)"),
	    sum.received);
	ck_assert_uint_eq(run_count_lines(r.out, "no echo from"), sum.lost);
	ASSERT_STATUS(&r, sum.received == 20 ? 0 : 1);
	ck_assert_msg(peer_kind(_i)->udp_lossy || sum.received == 20, "stdout:\n%s", r.out);
	run_free(&r);
	server_stop(&s);
}
END_TEST

static void
assert_json(const struct run_result *r, const char *proto, unsigned long n, size_t size)
{
	struct json_doc doc;
	const struct json_item *it;
	double min, avg, max, p99;

	ck_assert_msg(json_parse(r->out, &doc) == 0, "not JSON:\n%s", r->out);
	ck_assert_msg(strchr(r->out, '\n') == r->out + r->outlen - 1, "not one line:\n%s", r->out);
	ck_assert_str_eq(json_get(&doc, "protocol")->string, proto);
	ck_assert_int_eq(json_get(&doc, "peer")->type, JSON_STRING);
	ck_assert_double_eq(json_get(&doc, "size")->number, (double)size);
	ck_assert_double_eq(json_get(&doc, "sent")->number, (double)n);
	ck_assert_double_eq(json_get(&doc, "received")->number, (double)n);
	ck_assert_double_eq(json_get(&doc, "mismatched")->number, 0);
	ck_assert_double_eq(json_get(&doc, "lost")->number, 0);
	ck_assert_double_eq(json_get(&doc, "loss_percent")->number, 0);
	it = json_get(&doc, "rtt_ms");
	ck_assert_msg(it != NULL && it->type == JSON_OBJECT, "no rtt_ms object");
	min = json_get(&doc, "rtt_ms.min")->number;
	avg = json_get(&doc, "rtt_ms.avg")->number;
	max = json_get(&doc, "rtt_ms.max")->number;
	p99 = json_get(&doc, "rtt_ms.p99")->number;
	ck_assert_msg(min > 0 && min <= avg && avg <= max && min <= p99 && p99 <= max,
	    "rtt out of order: %s", r->out);
	ck_assert_msg(json_get(&doc, "rtt_ms.mdev")->number >= 0, "mdev");
}

START_TEST(test_peer_json)
{
	struct test_server s;
	struct run_result r;

	peer_start(_i, &s);
	run_client(&r, NULL, 0, "--json", "-p", s.port, "-c", "4", "-i", "0", "-s", "32", s.host,
	    (char *)NULL);
	ASSERT_STATUS(&r, 0);
	assert_json(&r, "tcp", 4, 32);
	run_free(&r);

	/* One message, one datagram: a summary of one. */
	run_client(&r, NULL, 0, "--json", "-u", "-p", s.port, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 0);
	assert_json(&r, "udp", 1, 5);
	run_free(&r);
	server_stop(&s);
}
END_TEST

START_TEST(test_peer_interactive_joined)
{
	static const struct run_step steps[] = { { NULL, "one\ntwo\nthree\n", 0, 0 }, { 0 } };
	struct test_server s;
	struct run_result r;
	struct summary sum;

	peer_start(_i, &s);
	run_client(&r, steps, 0, "-I", "-p", s.port, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 0);
	ck_assert_str_eq(r.out, "one\ntwo\nthree\n");
	sum = summary_of(&r, r.err);
	assert_counts(&r, &sum, 3, 3, 0, 0);
	run_free(&r);
	server_stop(&s);
}
END_TEST

/*
 * Each input piece goes out only after the echo of the previous line was printed, so the
 * client holds an echoed "br" while "alpha" is already out, then completes "bravo" from the
 * next reply; the unterminated "delta" is printed when the server closes.
 */
START_TEST(test_peer_interactive_split)
{
	static const struct run_step steps[] = {
		{ NULL, "alpha\nbr", 0, 0 },
		{ "alpha\n", "avo\ncharlie", 0, 0 },
		{ "bravo\n", "\ndelta", 0, 0 },
		{ 0 },
	};
	struct test_server s;
	struct run_result r;
	struct summary sum;

	peer_start(_i, &s);
	run_client(&r, steps, 0, "--interactive", "-p", s.port, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 0);
	ck_assert_str_eq(r.out, "alpha\nbravo\ncharlie\ndelta");
	sum = summary_of(&r, r.err);
	assert_counts(&r, &sum, 4, 4, 0, 0);
	run_free(&r);
	server_stop(&s);
}
END_TEST

/* Megabytes of binary input: back-pressure between stdin, the server and stdout. */
START_TEST(test_peer_interactive_bulk)
{
	struct run_step steps[] = { { NULL, NULL, 3 * 1024 * 1024 + 17, 0 }, { 0 } };
	struct test_server s;
	struct run_result r;
	char *data;

	data = malloc(steps[0].len);
	ck_assert_ptr_nonnull(data);
	for (size_t i = 0; i < steps[0].len; i++)
		data[i] = (char)(i * 7 + (i >> 9));
	steps[0].input = data;
	peer_start(_i, &s);
	run_client(&r, steps, 0, "-I", "-q", "-p", s.port, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 0);
	ck_assert_uint_eq(r.outlen, steps[0].len);
	ck_assert_msg(memcmp(r.out, data, r.outlen) == 0, "echo differs");
	ck_assert_uint_eq(r.errlen, 0);
	run_free(&r);
	free(data);
	server_stop(&s);
}
END_TEST

START_TEST(test_peer_interactive_udp)
{
	static const struct run_step one[] = { { NULL, "ping over udp\n", 0, 0 }, { 0 } };
	static const struct run_step three[] = {
		{ NULL, "first\n", 0, 0 },
		{ "first\n", "second\n", 0, 0 },
		{ "second\n", "third line\n", 0, 0 },
		{ 0 },
	};
	struct test_server s;
	struct run_result r;
	struct summary sum;

	peer_start(_i, &s);
	run_client(&r, one, 0, "-I", "-u", "-p", s.port, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 0);
	ck_assert_str_eq(r.out, "ping over udp\n");
	run_free(&r);

	/* Lines one at a time; see test_peer_udp_probe on when a loss is tolerated. */
	run_client(&r, three, 0, "-I", "-u", "-W", "1", "-p", s.port, s.host, (char *)NULL);
	sum = summary_of(&r, r.err);
	ck_assert_msg(sum.sent == 3 && sum.mismatched == 0 && sum.received + sum.lost == 3,
	    "stderr:\n%s", r.err);
	if (sum.received == 3 || !peer_kind(_i)->udp_lossy)
		ck_assert_str_eq(r.out, "first\nsecond\nthird line\n");
	ASSERT_STATUS(&r, sum.received == 3 ? 0 : 1);
	run_free(&r);
	server_stop(&s);
}
END_TEST

START_TEST(test_peer_family)
{
	struct test_server s;
	struct run_result r;
	int family = families[(size_t)_i / nkinds];

	peer_start(_i, &s);
	if (family == AF_INET)
		run_client(&r, NULL, 0, "-4", "-p", s.port, "localhost", (char *)NULL);
	else
		run_client(&r, NULL, 0, "-6", "-p", s.port, "[::1]", (char *)NULL);
	ASSERT_STATUS(&r, 0);
	ASSERT_HAS(&r, bytes_from(5, &s), out);
	run_free(&r);
	/* The other family has no such address: a resolution error. */
	run_client(&r, NULL, 0, family == AF_INET ? "-6" : "-4", "-p", s.port, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 2);
	ASSERT_HAS(&r, s.host, err);
	run_free(&r);
	server_stop(&s);
}
END_TEST

/* --- Misbehaving servers: what the client must notice ----------------------------------- */

START_TEST(test_mismatch_tcp)
{
	struct test_server s;
	struct run_result r;
	struct summary sum;
	char want[512];

	fake(&s, AF_INET, SOCK_STREAM, NULL, 3, FAKE_ECHO);
	run_client(&r, NULL, 0, "-p", s.port, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 1);
	ASSERT_HAS(&r, "helLo\n", out);
	ASSERT_HAS(&r, "mismatch at byte 3", out);
	run_free(&r);

	/* Byte 10 of the second 64-byte probe; the stream stays in step, so the third is fine. */
	server_stop(&s);
	fake(&s, AF_INET, SOCK_STREAM, NULL, 64 + 10, FAKE_ECHO);
	run_client(&r, NULL, 0, "-p", s.port, "-c", "3", "-i", "0", "-s", "64", s.host, (char *)NULL);
	ASSERT_STATUS(&r, 1);
	snprintf(want, sizeof(want), "%sseq=2 ", bytes_from(64, &s));
	ASSERT_HAS(&r, want, out);
	ASSERT_HAS(&r, "mismatch at byte 10\n", out);
	sum = summary_of(&r, r.out);
	assert_counts(&r, &sum, 3, 2, 1, 0);
	run_free(&r);
	server_stop(&s);
}
END_TEST

START_TEST(test_mismatch_udp)
{
	struct test_server s;
	struct run_result r;
	struct summary sum;

	fake(&s, AF_INET, SOCK_DGRAM, "ec", -1, FAKE_ECHO);
	run_client(&r, NULL, 0, "-u", "-p", s.port, "-c", "3", "-i", "0", "-s", "64", s.host,
	    (char *)NULL);
	ASSERT_STATUS(&r, 1);
	ck_assert_uint_eq(run_count_lines(r.out, "mismatch at byte 32"), 1);
	sum = summary_of(&r, r.out);
	assert_counts(&r, &sum, 3, 2, 1, 0);
	run_free(&r);
	server_stop(&s);

	/* A truncated echo is a mismatch too, and says so. */
	fake(&s, AF_INET, SOCK_DGRAM, "t", -1, FAKE_ECHO);
	run_client(&r, NULL, 0, "-u", "-p", s.port, "-m", "0123456789", s.host, (char *)NULL);
	ASSERT_STATUS(&r, 1);
	ASSERT_HAS(&r, "01234\n", out);
	ASSERT_HAS(&r, ": mismatch, expected 10 bytes", out);
	run_free(&r);
	server_stop(&s);
}
END_TEST

START_TEST(test_udp_loss)
{
	struct test_server s;
	struct run_result r;
	struct summary sum;
	struct json_doc doc;
	char want[512];

	fake(&s, AF_INET, SOCK_DGRAM, "ed", -1, FAKE_ECHO);
	run_client(&r, NULL, 0, "-u", "-p", s.port, "-c", "6", "-i", "0", "-W", "0.2", s.host,
	    (char *)NULL);
	ASSERT_STATUS(&r, 1);
	for (int seq = 2; seq <= 6; seq += 2) {
		snprintf(want, sizeof(want), "no echo from %s seq=%d within 0.2 s", peer_name(&s),
		    seq);
		ASSERT_HAS(&r, want, out);
	}
	sum = summary_of(&r, r.out);
	assert_counts(&r, &sum, 6, 3, 0, 3);
	ASSERT_HAS(&r, "(50.0% loss)", out);
	run_free(&r);

	run_client(&r, NULL, 0, "--json", "-u", "-p", s.port, "-c", "4", "-i", "0", "-W", "0.2",
	    s.host, (char *)NULL);
	ASSERT_STATUS(&r, 1);
	ck_assert_msg(json_parse(r.out, &doc) == 0, "not JSON: %s", r.out);
	ck_assert_double_eq(json_get(&doc, "lost")->number, 2);
	ck_assert_double_eq(json_get(&doc, "received")->number, 2);
	ck_assert_double_eq(json_get(&doc, "loss_percent")->number, 50);
	run_free(&r);
	server_stop(&s);
}
END_TEST

/* The server holds the echo of probe 2 until probe 3 arrives, long after probe 2's timeout:
 * counted lost, then late, and never confused with probe 3. Once with the sequence header,
 * once with payloads too short for one. */
START_TEST(test_udp_late)
{
	static const char *const sizes[] = { "64", "4" };
	struct test_server s;
	struct run_result r;
	struct summary sum;
	char want[512];

	fake(&s, AF_INET, SOCK_DGRAM, "ehe", -1, FAKE_ECHO);
	for (size_t i = 0; i < 2; i++) {
		run_client(&r, NULL, 0, "-u", "-p", s.port, "-c", "4", "-i", "0", "-W", "0.3",
		    "-s", sizes[i], s.host, (char *)NULL);
		ASSERT_STATUS(&r, 1);
		snprintf(want, sizeof(want), "%sseq=2 time=", bytes_from((size_t)atoi(sizes[i]),
		    &s));
		ASSERT_HAS(&r, want, out);
		ASSERT_HAS(&r, " ms (late)\n", out);
		sum = summary_of(&r, r.out);
		assert_counts(&r, &sum, 4, 3, 0, 1);
		ck_assert_uint_eq(sum.late, 1);
		run_free(&r);
		server_stop(&s);
		if (i == 0)
			fake(&s, AF_INET, SOCK_DGRAM, "ehe", -1, FAKE_ECHO);
	}
}
END_TEST

START_TEST(test_udp_duplicate)
{
	struct test_server s;
	struct run_result r;
	struct summary sum;

	fake(&s, AF_INET, SOCK_DGRAM, "2", -1, FAKE_ECHO);
	run_client(&r, NULL, 0, "-u", "-p", s.port, "-c", "3", "-i", "0", s.host, (char *)NULL);
	ASSERT_STATUS(&r, 0);
	sum = summary_of(&r, r.out);
	assert_counts(&r, &sum, 3, 3, 0, 0);
	ck_assert_uint_eq(sum.duplicates, 2);
	ck_assert_uint_eq(run_count_lines(r.out, "(duplicate)"), 2);
	run_free(&r);
	server_stop(&s);
}
END_TEST

START_TEST(test_echo_timeout)
{
	struct test_server s;
	struct run_result r;
	char want[512];

	fake(&s, AF_INET, SOCK_STREAM, NULL, -1, FAKE_SINK);
	run_client(&r, NULL, 0, "-W", "0.3", "-p", s.port, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 1);
	snprintf(want, sizeof(want), "%s seq=1: no echo within 0.3 s", peer_name(&s));
	ASSERT_HAS(&r, want, err);
	run_free(&r);
	server_stop(&s);

	fake(&s, AF_INET, SOCK_DGRAM, "d", -1, FAKE_ECHO);
	run_client(&r, NULL, 0, "-u", "-W", "0.3", "-p", s.port, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 1);
	snprintf(want, sizeof(want), "no echo from %s seq=1 within 0.3 s", peer_name(&s));
	ASSERT_HAS(&r, want, err);
	run_free(&r);
	server_stop(&s);
}
END_TEST

/* A server that answers only after the client half-closed, all in one write. */
START_TEST(test_interactive_halfclose)
{
	static const struct run_step steps[] = { { NULL, "a\nbb\nccc\n", 0, 0 }, { 0 } };
	struct test_server s;
	struct run_result r;
	struct summary sum;

	fake(&s, AF_INET, SOCK_STREAM, NULL, -1, FAKE_JOIN);
	run_client(&r, steps, 0, "-I", "-p", s.port, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 0);
	ck_assert_str_eq(r.out, "a\nbb\nccc\n");
	sum = summary_of(&r, r.err);
	assert_counts(&r, &sum, 3, 3, 0, 0);
	run_free(&r);
	server_stop(&s);
}
END_TEST

START_TEST(test_interactive_mismatch)
{
	static const struct run_step steps[] = { { NULL, "line1\nline2\n", 0, 0 }, { 0 } };
	struct test_server s;
	struct run_result r;
	struct summary sum;

	fake(&s, AF_INET, SOCK_STREAM, NULL, 8, FAKE_ECHO);
	run_client(&r, steps, 0, "-I", "-p", s.port, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 1);
	ck_assert_str_eq(r.out, "line1\nliNe2\n");
	ASSERT_HAS(&r, "echo differs from the input at byte 8", err);
	sum = summary_of(&r, r.err);
	assert_counts(&r, &sum, 2, 1, 1, 0);
	run_free(&r);
	server_stop(&s);
}
END_TEST

START_TEST(test_interactive_udp_lines)
{
	static const struct run_step steps[] = { { NULL, "one\ntwo\n\nfour", 0, 0 }, { 0 } };
	struct test_server s;
	struct run_result r;
	struct summary sum;
	char *log;

	fake(&s, AF_INET, SOCK_DGRAM, "e", -1, FAKE_ECHO);
	run_client(&r, steps, 0, "-I", "-u", "-p", s.port, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 0);
	ck_assert_str_eq(r.out, "one\ntwo\n\nfour\n");
	sum = summary_of(&r, r.err);
	assert_counts(&r, &sum, 4, 4, 0, 0);
	/* One datagram per line, newline not included, the empty line an empty datagram. */
	log = server_file(&s, "dgrams");
	ck_assert_str_eq(log, "3\n3\n0\n4\n");
	free(log);
	run_free(&r);
	server_stop(&s);

	fake(&s, AF_INET, SOCK_DGRAM, "ed", -1, FAKE_ECHO);
	run_client(&r, steps, 0, "-I", "-u", "-W", "0.3", "-p", s.port, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 1);
	ck_assert_str_eq(r.out, "one\n\n");
	ASSERT_HAS(&r, "no echo of 2 lines within 0.3 s", err);
	sum = summary_of(&r, r.err);
	assert_counts(&r, &sum, 4, 2, 0, 2);
	run_free(&r);
	server_stop(&s);
}
END_TEST

/* --- Unreachable servers: a clear message, exit status 1 -------------------------------- */

START_TEST(test_refused)
{
	struct test_server s;
	struct run_result r;
	char want[512];

	ck_assert_int_eq(refusing_start(&s), 0);
	run_client(&r, NULL, 0, "-p", s.port, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 1);
	snprintf(want, sizeof(want), "connect to %s: Connection refused", peer_name(&s));
	ASSERT_HAS(&r, want, err);
	run_free(&r);
	server_stop(&s);

	ck_assert_int_eq(closed_udp_port(&s), 0);
	run_client(&r, NULL, 0, "-u", "-p", s.port, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 1);
	ASSERT_HAS(&r, "connection refused (port unreachable)", err);
	run_free(&r);
	run_client(&r, NULL, 0, "-u", "-c", "2", "-i", "0", "-p", s.port, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 1);
	ck_assert_uint_eq(run_count_lines(r.out, "connection refused (port unreachable)"), 2);
	run_free(&r);
	server_stop(&s);
}
END_TEST

START_TEST(test_connect_timeout)
{
	struct test_server s;
	struct run_result r;
	char want[512];

	ck_assert_int_eq(stuck_start(&s), 0);
	run_client(&r, NULL, 0, "-W", "0.5", "-p", s.port, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 1);
	snprintf(want, sizeof(want), "connect to %s: timed out after 0.5 s", peer_name(&s));
	ASSERT_HAS(&r, want, err);
	run_free(&r);
	server_stop(&s);
}
END_TEST

/* In a network namespace of our own there are no routes: a documentation address
 * (RFC 5737) is unreachable, and nothing leaves the machine. */
START_TEST(test_unreachable)
{
	struct run_result r;

	run_client(&r, NULL, RUN_NETNS, "-W", "2", "192.0.2.1", (char *)NULL);
	ASSERT_STATUS(&r, 1);
	ASSERT_HAS(&r, "connect to 192.0.2.1:7: Network is unreachable", err);
	run_free(&r);
}
END_TEST

/* --- Unix stream sockets ---------------------------------------------------------------- */

START_TEST(test_unix)
{
	static const struct run_step steps[] = { { NULL, "x\ny\n", 0, 0 }, { 0 } };
	struct test_server s;
	struct run_result r;
	char want[512];

	fake(&s, AF_UNIX, SOCK_STREAM, NULL, -1, FAKE_ECHO);
	run_client(&r, NULL, 0, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 0);
	snprintf(want, sizeof(want), "hello\n5 bytes from %s seq=1 time=", s.host);
	ck_assert_msg(strncmp(r.out, want, strlen(want)) == 0, "stdout:\n%s", r.out);
	run_free(&r);

	run_client(&r, NULL, 0, "--json", "-c", "3", "-i", "0", "-s", "1000", s.host, (char *)NULL);
	ASSERT_STATUS(&r, 0);
	assert_json(&r, "unix", 3, 1000);
	run_free(&r);

	run_client(&r, steps, 0, "-I", s.host, (char *)NULL);
	ASSERT_STATUS(&r, 0);
	ck_assert_str_eq(r.out, "x\ny\n");
	run_free(&r);
	server_stop(&s);

	run_client(&r, NULL, 0, "unix:/nonexistent/echo.sock", (char *)NULL);
	ASSERT_STATUS(&r, 1);
	ASSERT_HAS(&r, "connect to unix:/nonexistent/echo.sock: No such file or directory", err);
	run_free(&r);
}
END_TEST

/* --- Command line ----------------------------------------------------------------------- */

static const struct usage_case {
	const char *args[6];
	const char *message;
} usage_cases[] = {
	{ { "-x", "127.0.0.1" }, "invalid option" },
	{ { NULL }, "missing HOST" },
	{ { "a", "b" }, "one HOST only" },
	{ { "-c", "0", "h" }, "invalid value for -c: '0'" },
	{ { "-c", "1x", "h" }, "invalid value for -c" },
	{ { "-s", "-5", "h" }, "invalid value for -s" },
	{ { "-s", "0", "h" }, "invalid value for -s" },
	{ { "-p", "70000", "h" }, "invalid value for -p" },
	{ { "-i", "nan", "h" }, "invalid value for -i" },
	{ { "-W", "0", "h" }, "invalid value for -W" },
	{ { "-m", "x", "-s", "10", "h" }, "--message and --size" },
	{ { "-m", "", "h" }, "empty message" },
	{ { "-I", "-c", "3", "h" }, "--interactive reads" },
	{ { "-I", "--json", "h" }, "--json is not available" },
	{ { "-u", "-s", "70000", "h" }, "a datagram carries at most 65507" },
	{ { "-u", "unix:/x" }, "--udp does not apply" },
	{ { "-4", "unix:/x" }, "-4 and -6 do not apply" },
	{ { "unix:" }, "needs a socket path" },
	{ { "-6", "127.0.0.1" }, "127.0.0.1 port 7: " },
	{ { "-4", "::1" }, "::1 port 7: " },
	{ { "-p", "no-such-service", "127.0.0.1" }, "127.0.0.1 port no-such-service: " },
};

START_TEST(test_usage)
{
	const struct usage_case *c = &usage_cases[_i];
	const char *a[6] = { 0 };
	struct run_result r;

	memcpy(a, c->args, sizeof(a));
	run_client(&r, NULL, 0, a[0], a[1], a[2], a[3], a[4], a[5], (char *)NULL);
	ASSERT_STATUS(&r, 2);
	ASSERT_HAS(&r, c->message, err);
	ck_assert_uint_eq(r.outlen, 0);
	run_free(&r);
}
END_TEST

START_TEST(test_help_version)
{
	struct run_result r;

	run_client(&r, NULL, 0, "--help", (char *)NULL);
	ASSERT_STATUS(&r, 0);
	ASSERT_HAS(&r, "usage: echo-client [-u|--udp]", out);
	run_free(&r);
	run_client(&r, NULL, 0, "-V", (char *)NULL);
	ASSERT_STATUS(&r, 0);
	ASSERT_HAS(&r, "echo-client (" PACKAGE_NAME ") " PACKAGE_VERSION "\n", out);
	run_free(&r);
}
END_TEST

/* Ping-like: without --count it runs until interrupted, then prints the summary. */
START_TEST(test_interrupt)
{
	static const struct run_step steps[] = { { "seq=3 ", NULL, 0, SIGINT }, { 0 } };
	struct test_server s;
	struct run_result r;
	struct summary sum;

	fake(&s, AF_INET, SOCK_STREAM, NULL, -1, FAKE_ECHO);
	run_client(&r, steps, 0, "-i", "0.05", "-p", s.port, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 0);
	sum = summary_of(&r, r.out);
	ck_assert_msg(sum.sent >= 3 && sum.received == sum.sent && sum.lost == 0,
	    "stdout:\n%s", r.out);
	run_free(&r);
	server_stop(&s);
}
END_TEST

/* --- Pure parts ------------------------------------------------------------------------- */

START_TEST(test_stats)
{
	struct stats st;
	struct stats_info info = { "peer:7", "tcp", 64 };
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	stats_init(&st);
	for (int v = 100; v >= 1; v--)
		stats_add(&st, v);
	st.sent = 110;
	st.received = 100;
	st.mismatched = 2;
	ck_assert_double_eq(st.min, 1);
	ck_assert_double_eq(st.max, 100);
	ck_assert_double_eq_tol(st.mean, 50.5, 1e-9);
	ck_assert_double_eq_tol(stats_mdev(&st), sqrt((100.0 * 100.0 - 1) / 12), 1e-9);
	ck_assert_double_eq(stats_percentile(&st, 99), 99);
	ck_assert_double_eq(stats_percentile(&st, 100), 100);
	ck_assert_double_eq(stats_percentile(&st, 50), 50);
	ck_assert_uint_eq(stats_lost(&st), 8);
	ck_assert_double_eq_tol(stats_loss(&st), 800.0 / 110, 1e-9);
	f = open_memstream(&text, &len);
	stats_print(&st, &info, f);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(text, "110 sent, 100 received, 2 mismatched, 8 lost (7.3% loss)"));
	ck_assert_ptr_nonnull(strstr(text, "rtt min/avg/max/mdev = 1.000/50.500/100.000/28.866 ms, "
	    "p99 = 99.000 ms\n"));
	free(text);
	stats_free(&st);

	stats_init(&st);
	ck_assert_double_eq(stats_loss(&st), 0);
	ck_assert_double_eq(stats_percentile(&st, 99), 0);
	stats_free(&st);
}
END_TEST

START_TEST(test_payload)
{
	struct payload p;
	unsigned char a[64], b[64];

	ck_assert_int_eq(payload_init(&p, NULL, sizeof(a)), 0);
	payload_fill(&p, 5, a);
	payload_fill(&p, 6, b);
	ck_assert_uint_eq(payload_seq(&p, a, sizeof(a)), 5);
	ck_assert_uint_eq(payload_seq(&p, b, sizeof(b)), 6);
	ck_assert_int_ne(memcmp(a + PAYLOAD_HEADER, b + PAYLOAD_HEADER, 56), 0);
	ck_assert_int_eq(payload_diff(&p, 5, a, sizeof(a)), -1);
	ck_assert_int_eq(payload_diff(&p, 6, a, sizeof(a)), 7);	/* the seq's last byte */
	ck_assert_int_eq(payload_diff(&p, 5, a, 30), 30);
	a[20] ^= 1;
	ck_assert_int_eq(payload_diff(&p, 5, a, sizeof(a)), 20);
	a[0] ^= 1;
	ck_assert_uint_eq(payload_seq(&p, a, sizeof(a)), 0);	/* another run's nonce */
	payload_free(&p);

	/* Too short for a header: still different per sequence, never a sequence read back. */
	ck_assert_int_eq(payload_init(&p, NULL, 4), 0);
	payload_fill(&p, 1, a);
	payload_fill(&p, 2, b);
	ck_assert_int_ne(memcmp(a, b, 4), 0);
	ck_assert_uint_eq(payload_seq(&p, a, 4), 0);
	payload_free(&p);

	ck_assert_int_eq(payload_init(&p, "hello", 5), 0);
	payload_fill(&p, 9, a);
	ck_assert_int_eq(memcmp(a, "hello", 5), 0);
	ck_assert_uint_eq(payload_seq(&p, a, 5), 0);
	ck_assert_int_eq(payload_diff(&p, 1, (const unsigned char *)"help!", 5), 3);
	payload_free(&p);
}
END_TEST

START_TEST(test_json_reader)
{
	static const char *const bad[] = {
		"", "{", "{\"a\":}", "{\"a\":1,}", "[1 2]", "01", "1.", ".5", "+1", "0x10",
		"nan", "\"a\nb\"", "{\"a\":1} x", "tru",
	};
	struct json_doc doc;

	ck_assert_int_eq(json_parse(" {\"a\":{\"b\":-1.5e3},\"c\":[1,true],\"d\":null} ", &doc), 0);
	ck_assert_double_eq(json_get(&doc, "a.b")->number, -1500);
	ck_assert_int_eq(json_get(&doc, "d")->type, JSON_NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(json_parse(bad[i], &doc) == -1, "accepted: %s", bad[i]);
}
END_TEST

/* --- The run ---------------------------------------------------------------------------- */

static bool
have_netns(void)
{
	pid_t pid = fork();
	int status;

	if (pid == 0)
		_exit(unshare(CLONE_NEWNET) == 0 ||
		    unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0 ? 0 : 1);
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0;
}

static TCase *
tcase(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, TEST_TIMEOUT_S);
	suite_add_tcase(s, tc);
	return tc;
}

static void
add_peers(Suite *s)
{
	TCase *tc;
	int n;

	for (size_t i = 0; i < npeer_kinds; i++) {
		const char *why = peer_kinds[i].missing();

		if (why != NULL)
			missing[nmissing++] = why;
		else
			kinds[nkinds++] = &peer_kinds[i];
	}
	if (server_have_ipv6())
		nfamilies = 2;
	else
		missing[nmissing++] = "no IPv6 loopback (::1): IPv6 peer tests not run";
	if (nkinds == 0)
		return;
	n = (int)(nkinds * nfamilies);
	tc = tcase(s, "peers");
	tcase_add_loop_test(tc, test_peer_tcp_once, 0, n);
	tcase_add_loop_test(tc, test_peer_udp_once, 0, n);
	tcase_add_loop_test(tc, test_peer_tcp_probe, 0, n);
	tcase_add_loop_test(tc, test_peer_tcp_large, 0, n);
	tcase_add_loop_test(tc, test_peer_udp_probe, 0, n);
	tcase_add_loop_test(tc, test_peer_json, 0, n);
	tcase_add_loop_test(tc, test_peer_interactive_joined, 0, n);
	tcase_add_loop_test(tc, test_peer_interactive_split, 0, n);
	tcase_add_loop_test(tc, test_peer_interactive_bulk, 0, n);
	tcase_add_loop_test(tc, test_peer_interactive_udp, 0, n);
	tcase_add_loop_test(tc, test_peer_family, 0, n);
}

static Suite *
client_suite(void)
{
	Suite *s = suite_create("echo-client");
	TCase *tc;

	add_peers(s);
	tc = tcase(s, "misbehaving servers");
	tcase_add_test(tc, test_mismatch_tcp);
	tcase_add_test(tc, test_mismatch_udp);
	tcase_add_test(tc, test_udp_loss);
	tcase_add_test(tc, test_udp_late);
	tcase_add_test(tc, test_udp_duplicate);
	tcase_add_test(tc, test_echo_timeout);
	tcase_add_test(tc, test_interactive_halfclose);
	tcase_add_test(tc, test_interactive_mismatch);
	tcase_add_test(tc, test_interactive_udp_lines);
	tc = tcase(s, "unreachable");
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_connect_timeout);
	if (have_netns())
		tcase_add_test(tc, test_unreachable);
	else
		missing[nmissing++] = "cannot create a network namespace: unreachable test not run";
	tc = tcase(s, "unix");
	tcase_add_test(tc, test_unix);
	tc = tcase(s, "command line");
	tcase_add_loop_test(tc, test_usage, 0, sizeof(usage_cases) / sizeof(usage_cases[0]));
	tcase_add_test(tc, test_help_version);
	tcase_add_test(tc, test_interrupt);
	tc = tcase(s, "units");
	tcase_add_test(tc, test_stats);
	tcase_add_test(tc, test_payload);
	tcase_add_test(tc, test_json_reader);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	atexit(server_stop_all);
	signal(SIGPIPE, SIG_IGN);
	sr = srunner_create(client_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (failed != 0)
		return EXIT_FAILURE;
	/* Everything that could run passed; what could not is a skip, and says why. */
	for (size_t i = 0; i < nmissing; i++)
		printf("SKIP: %s\n", missing[i]);
	return nmissing > 0 ? 77 : EXIT_SUCCESS;
}
