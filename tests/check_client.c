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
#include <time.h>
#include <unistd.h>

#include "../tools/client-opts.h"
#include "../tools/client-payload.h"
#include "../tools/client-stats.h"
#include "client-multi-tests.h"
#include "client-run.h"
#include "client-servers.h"
#include "client-wire.h"
#include "harness.h"
#include "json-check.h"
#include "stamp-client-tests.h"

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
	unsigned long sent, received, mismatched, lost, late, duplicates, unexpected, reordered;
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
			s->reordered = summary_extra(line, "reordered");
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
	snprintf(want, sizeof(want), "datagram\n%sseq=1 ttl=", bytes_from(8, &s));
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
	ASSERT_HAS(&r, " ms, p50/p90/p99/p99.9 = ", out);
	ASSERT_HAS(&r, "clock ", out);
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

/* -s 0: empty datagrams, as ping -s 0; RFC 862 servers echo them (issue 24). */
START_TEST(test_peer_udp_empty)
{
	struct test_server s;
	struct run_result r;
	struct summary sum;

	peer_start(_i, &s);
	run_client(&r, NULL, 0, "-u", "-p", s.port, "-c", "3", "-i", "0.05", "-s", "0",
	    "-W", "1", s.host, (char *)NULL);
	sum = summary_of(&r, r.out);
	ck_assert_msg(sum.sent == 3 && sum.mismatched == 0 && sum.unexpected == 0 &&
	    sum.received + sum.lost == 3 && sum.received > 0, "stdout:\n%s", r.out);
	ck_assert_uint_eq(run_count_lines(r.out, bytes_from(0, &s)), sum.received);
	ck_assert_msg(peer_kind(_i)->udp_lossy || sum.received == 3, "stdout:\n%s", r.out);
	ASSERT_STATUS(&r, sum.received == 3 ? 0 : 1);
	run_free(&r);
	server_stop(&s);
}
END_TEST

/* One "type":"probe" object of --json's output. */
struct probe_obj {
	unsigned seq;
	char status[16];
	double sent;		/* seconds since the epoch, from the RFC 3339 "sent" */
	double rtt;		/* -1 for null */
	int ttl, tos;		/* -1 when absent */
	char icmp[96];		/* icmp.text, "" when absent */
	int mtu;		/* icmp.mtu, 0 when absent */
};

/* "2026-11-29T22:55:04.123456Z" in seconds since the epoch; -1 when malformed. */
static double
rfc3339_seconds(const char *s)
{
	struct tm tm;
	unsigned usec;
	int n = 0;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%6uZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &usec, &n) != 7 || n != 27 || s[n] != '\0')
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (double)timegm(&tm) + usec / 1e6;
}

static const char *
json_str(const struct json_doc *d, const char *path)
{
	const struct json_item *it = json_get(d, path);

	return it != NULL && it->type == JSON_STRING ? it->string : NULL;
}

static double
json_num(const struct json_doc *d, const char *path, double dflt)
{
	const struct json_item *it = json_get(d, path);

	return it != NULL && it->type == JSON_NUMBER ? it->number : dflt;
}

/*
 * --json output as JSON Lines: every line one object, "type":"probe" ones (into probes, up
 * to max; their count returned through *n), then exactly one last "type":"summary" with
 * "schema":1 (into *sum).
 */
static void
json_lines(const struct run_result *r, struct probe_obj *probes, size_t max, size_t *n,
    struct json_doc *sum)
{
	static struct json_doc d;
	char *text = strdup(r->out), *line, *save = NULL;
	const char *type;
	bool summary = false;
	size_t count = 0;

	ck_assert_ptr_nonnull(text);
	ck_assert_msg(r->outlen > 0 && r->out[r->outlen - 1] == '\n', "no last newline:\n%s",
	    r->out);
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		ck_assert_msg(!summary, "a line after the summary: %s", line);
		ck_assert_msg(json_parse(line, &d) == 0, "not JSON: %s", line);
		type = json_str(&d, "type");
		ck_assert_msg(type != NULL, "no type: %s", line);
		if (strcmp(type, "summary") == 0) {
			summary = true;
			*sum = d;
			ck_assert_double_eq(json_num(&d, "schema", 0), 1);
			continue;
		}
		ck_assert_msg(strcmp(type, "probe") == 0, "type %s: %s", type, line);
		ck_assert_msg(json_get(&d, "seq") != NULL && json_str(&d, "status") != NULL &&
		    json_get(&d, "size") != NULL && json_get(&d, "rtt_ms") != NULL,
		    "probe fields: %s", line);
		if (count < max) {
			struct probe_obj *p = &probes[count];

			p->seq = (unsigned)json_num(&d, "seq", 0);
			snprintf(p->status, sizeof(p->status), "%.15s", json_str(&d, "status"));
			p->sent = rfc3339_seconds(json_str(&d, "sent") ? json_str(&d, "sent") : "");
			ck_assert_msg(p->sent > 0, "sent time: %s", line);
			p->rtt = json_num(&d, "rtt_ms", -1);
			p->ttl = (int)json_num(&d, "ttl", -1);
			p->tos = (int)json_num(&d, "tos", -1);
			snprintf(p->icmp, sizeof(p->icmp), "%.95s",
			    json_str(&d, "icmp.text") ? json_str(&d, "icmp.text") : "");
			p->mtu = (int)json_num(&d, "icmp.mtu", 0);
		}
		count++;
	}
	free(text);
	ck_assert_msg(summary, "no summary line:\n%s", r->out);
	*n = count;
}

/* The first object for probe seq, or NULL. */
static const struct probe_obj *
probe_of(const struct probe_obj *p, size_t n, unsigned seq)
{
	for (size_t i = 0; i < n; i++)
		if (p[i].seq == seq)
			return &p[i];
	return NULL;
}

static void
assert_json(const struct run_result *r, const char *proto, unsigned long n, size_t size)
{
	struct json_doc doc;
	struct probe_obj probes[16];
	const struct json_item *it;
	double min, avg, max, p50, p99;
	size_t nprobes;

	json_lines(r, probes, 16, &nprobes, &doc);
	ck_assert_uint_eq(nprobes, n);
	for (size_t i = 0; i < nprobes && i < 16; i++) {
		ck_assert_str_eq(probes[i].status, "ok");
		ck_assert_uint_eq(probes[i].seq, i + 1);
		ck_assert_msg(probes[i].rtt > 0, "rtt of probe %zu", i + 1);
	}
	ck_assert_str_eq(json_get(&doc, "protocol")->string, proto);
	ck_assert_int_eq(json_get(&doc, "peer")->type, JSON_STRING);
	ck_assert_double_eq(json_get(&doc, "size")->number, (double)size);
	ck_assert_double_eq(json_get(&doc, "sent")->number, (double)n);
	ck_assert_double_eq(json_get(&doc, "received")->number, (double)n);
	ck_assert_double_eq(json_get(&doc, "mismatched")->number, 0);
	ck_assert_double_eq(json_get(&doc, "lost")->number, 0);
	ck_assert_double_eq(json_get(&doc, "late")->number, 0);
	ck_assert_double_eq(json_get(&doc, "loss_percent")->number, 0);
	ck_assert_int_eq(json_get(&doc, "reason")->type, JSON_NULL);
	ck_assert_msg(json_str(&doc, "clock") != NULL, "no clock");
	it = json_get(&doc, "rtt_ms");
	ck_assert_msg(it != NULL && it->type == JSON_OBJECT, "no rtt_ms object");
	min = json_get(&doc, "rtt_ms.min")->number;
	avg = json_get(&doc, "rtt_ms.avg")->number;
	max = json_get(&doc, "rtt_ms.max")->number;
	p50 = json_get(&doc, "rtt_ms.p50")->number;
	p99 = json_get(&doc, "rtt_ms.p99")->number;
	ck_assert_msg(min > 0 && min <= avg && avg <= max && min <= p50 && p50 <= p99 &&
	    p99 <= json_get(&doc, "rtt_ms.p99_9")->number &&
	    json_get(&doc, "rtt_ms.p99_9")->number <= max, "rtt out of order: %s", r->out);
	ck_assert_msg(json_get(&doc, "rtt_ms.mdev")->number >= 0, "mdev");
	ck_assert_msg(json_get(&doc, "jitter_ms")->number >= 0, "jitter");
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
	run_client(&r, steps, 0, "--interactive", "-p", s.port, s.host, (char *)NULL);
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
	run_client(&r, steps, 0, "--interactive", "-q", "-p", s.port, s.host, (char *)NULL);
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
	run_client(&r, one, 0, "--interactive", "-u", "-p", s.port, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 0);
	ck_assert_str_eq(r.out, "ping over udp\n");
	run_free(&r);

	/* Lines one at a time; see test_peer_udp_probe on when a loss is tolerated. */
	run_client(&r, three, 0, "--interactive", "-u", "-W", "1", "-p", s.port, s.host, (char *)NULL);
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
	struct probe_obj probes[4];
	size_t n;
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
	json_lines(&r, probes, 4, &n, &doc);
	ck_assert_uint_eq(n, 4);
	for (unsigned seq = 1; seq <= 4; seq++) {
		ck_assert_ptr_nonnull(probe_of(probes, n, seq));
		ck_assert_str_eq(probe_of(probes, n, seq)->status, seq % 2 ? "ok" : "lost");
	}
	ck_assert_str_eq(json_str(&doc, "reason"), "no echo within 0.2 s");
	ck_assert_double_eq(json_get(&doc, "lost")->number, 2);
	ck_assert_double_eq(json_get(&doc, "received")->number, 2);
	ck_assert_double_eq(json_get(&doc, "loss_percent")->number, 50);
	run_free(&r);
	server_stop(&s);
}
END_TEST

/* The server holds the echo of probe 2 until probe 3 arrives (0.5 s later), after probe 2's
 * -W of 0.3 s: counted late, not lost, and never confused with probe 3. Once with the
 * sequence header, once with payloads too short for one. */
START_TEST(test_udp_late)
{
	static const char *const sizes[] = { "64", "4" };
	struct test_server s;
	struct run_result r;
	struct summary sum;
	char want[512];

	fake(&s, AF_INET, SOCK_DGRAM, "ehe", -1, FAKE_ECHO);
	for (size_t i = 0; i < 2; i++) {
		run_client(&r, NULL, 0, "-u", "-p", s.port, "-c", "4", "-i", "0.5", "-W", "0.3",
		    "-s", sizes[i], s.host, (char *)NULL);
		ASSERT_STATUS(&r, 1);
		snprintf(want, sizeof(want), "no echo from %s seq=2 within 0.3 s", peer_name(&s));
		ASSERT_HAS(&r, want, out);
		snprintf(want, sizeof(want), "%sseq=2 ttl=", bytes_from((size_t)atoi(sizes[i]),
		    &s));
		ASSERT_HAS(&r, want, out);
		ASSERT_HAS(&r, " ms (late)\n", out);
		sum = summary_of(&r, r.out);
		assert_counts(&r, &sum, 4, 3, 0, 0);
		ck_assert_uint_eq(sum.late, 1);
		ck_assert_uint_eq(run_count_lines(r.out, " (late)"), 1);
		run_free(&r);
		server_stop(&s);
		if (i == 0)
			fake(&s, AF_INET, SOCK_DGRAM, "ehe", -1, FAKE_ECHO);
	}
}
END_TEST

/* The server answers every second datagram before the one it follows: 4 probes, 2 of them
 * reordered in RFC 4737's sense (they arrive after a later one), none lost. */
START_TEST(test_udp_reorder)
{
	struct test_server s;
	struct run_result r;
	struct summary sum;
	struct json_doc doc;
	struct probe_obj probes[8];
	size_t n;

	fake(&s, AF_INET, SOCK_DGRAM, "re", -1, FAKE_ECHO);
	run_client(&r, NULL, 0, "-u", "-p", s.port, "-c", "4", "-i", "0.1", "-W", "2", s.host,
	    (char *)NULL);
	ASSERT_STATUS(&r, 0);
	sum = summary_of(&r, r.out);
	assert_counts(&r, &sum, 4, 4, 0, 0);
	ck_assert_msg(sum.reordered == 2, "stdout:\n%s", r.out);
	run_free(&r);

	run_client(&r, NULL, 0, "--json", "-u", "-p", s.port, "-c", "4", "-i", "0.1", "-W", "2",
	    s.host, (char *)NULL);
	ASSERT_STATUS(&r, 0);
	json_lines(&r, probes, 8, &n, &doc);
	ck_assert_uint_eq(n, 4);
	/* Arrival order: 2 1 4 3. */
	ck_assert_uint_eq(probes[0].seq, 2);
	ck_assert_uint_eq(probes[1].seq, 1);
	ck_assert_double_eq(json_num(&doc, "reordered", -1), 2);
	ck_assert_double_eq(json_num(&doc, "received", -1), 4);
	run_free(&r);
	server_stop(&s);
}
END_TEST

START_TEST(test_udp_duplicate)
{
	struct test_server s;
	struct run_result r;
	struct summary sum;

	/* Every echo twice: the copy of the last one may come after the run ended. */
	fake(&s, AF_INET, SOCK_DGRAM, "2", -1, FAKE_ECHO);
	run_client(&r, NULL, 0, "-u", "-p", s.port, "-c", "3", "-i", "0.05", s.host, (char *)NULL);
	ASSERT_STATUS(&r, 0);
	sum = summary_of(&r, r.out);
	assert_counts(&r, &sum, 3, 3, 0, 0);
	ck_assert_msg(sum.duplicates >= 2 && sum.duplicates <= 3, "stdout:\n%s", r.out);
	ck_assert_uint_eq(run_count_lines(r.out, "(duplicate)"), sum.duplicates);
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
	run_client(&r, steps, 0, "--interactive", "-p", s.port, s.host, (char *)NULL);
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
	run_client(&r, steps, 0, "--interactive", "-p", s.port, s.host, (char *)NULL);
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
	run_client(&r, steps, 0, "--interactive", "-u", "-p", s.port, s.host, (char *)NULL);
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
	run_client(&r, steps, 0, "--interactive", "-u", "-W", "0.3", "-p", s.port, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 1);
	ck_assert_str_eq(r.out, "one\n\n");
	ASSERT_HAS(&r, "no echo of 2 lines within 0.3 s", err);
	sum = summary_of(&r, r.err);
	assert_counts(&r, &sum, 4, 2, 0, 2);
	run_free(&r);
	server_stop(&s);
}
END_TEST

/* A reset before any echo: the error on stderr, and nothing on stdout (it printed a stray
 * newline there). */
START_TEST(test_tcp_reset)
{
	struct test_server s;
	struct run_result r;

	fake(&s, AF_INET, SOCK_STREAM, NULL, -1, FAKE_RESET);
	run_client(&r, NULL, 0, "-p", s.port, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 1);
	ck_assert_msg(r.outlen == 0, "stdout: '%s'", r.out);
	ASSERT_HAS(&r, "Connection reset by peer", err);
	run_free(&r);
	server_stop(&s);
}
END_TEST

/* -D, -l, -f, --pattern, --histogram and the received TTL / TOS on reply lines. */
START_TEST(test_probe_options)
{
	struct test_server s;
	struct run_result r;
	struct summary sum;
	struct json_doc doc;
	struct probe_obj probes[8];
	struct wire_dgram d;
	const char *line;
	unsigned long hist = 0, v;
	char portbuf[8];
	size_t n;
	int fd, port;

	fake(&s, AF_INET, SOCK_DGRAM, "e", -1, FAKE_ECHO);
	/* -D: "[1700000000.123456] " before each line. */
	run_client(&r, NULL, 0, "-u", "-D", "-c", "2", "-i", "0.05", "-p", s.port, s.host,
	    (char *)NULL);
	ASSERT_STATUS(&r, 0);
	ck_assert_uint_eq(run_count_lines(r.out, "] 64 bytes from"), 2);
	ck_assert_msg(r.out[0] == '[' && strspn(r.out + 1, "0123456789") >= 10 &&
	    r.out[1 + strspn(r.out + 1, "0123456789")] == '.', "stdout:\n%s", r.out);
	/* Reply lines show the received TTL; the TOS only when it differs from what was sent. */
	ASSERT_HAS(&r, " ttl=", out);
	ck_assert_ptr_null(strstr(r.out, " tos="));
	run_free(&r);
	/* The fake answers with TOS 0: that is its reply's marking, named as such, not a
	 * re-marking of the probe (which only STAMP's CoS TLV can tell, RFC 8972 4.4). */
	run_client(&r, NULL, 0, "-u", "-Q", "ef", "-c", "1", "-p", s.port, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 0);
	ASSERT_HAS(&r, " reply_tos=0x00 time=", out);
	ck_assert_ptr_null(strstr(r.out, " tos="));
	ck_assert_ptr_null(strstr(r.out, "re-marked"));
	run_free(&r);
	run_client(&r, NULL, 0, "--json", "-u", "-Q", "ef", "-c", "1", "-p", s.port, s.host,
	    (char *)NULL);
	ASSERT_STATUS(&r, 0);
	json_lines(&r, probes, 8, &n, &doc);
	ck_assert_uint_eq(n, 1);
	ck_assert_msg(json_parse(strtok(r.out, "\n"), &doc) == 0 &&
	    json_num(&doc, "reply_tos", -1) == 0, "stdout:\n%s", r.out);
	run_free(&r);

	/* -M probe: the path MTU in the summary (loopback's). -w: no count, still an end. */
	run_client(&r, NULL, 0, "-u", "-M", "probe", "-w", "0.25", "-i", "0.1", "-p", s.port,
	    s.host, (char *)NULL);
	ASSERT_STATUS(&r, 0);
	ASSERT_HAS(&r, "path mtu ", out);
	sum = summary_of(&r, r.out);
	ck_assert_msg(sum.sent == 3 && sum.received == 3, "stdout:\n%s", r.out);
	run_free(&r);

	/* -l 3 with -i 5: all three at once (ordering: long before one interval passed). */
	run_client(&r, NULL, 0, "--json", "-u", "-l", "3", "-c", "3", "-i", "5", "-p", s.port,
	    s.host, (char *)NULL);
	ASSERT_STATUS(&r, 0);
	json_lines(&r, probes, 8, &n, &doc);
	ck_assert_uint_eq(n, 3);
	ck_assert_msg(probe_of(probes, n, 3)->sent - probe_of(probes, n, 1)->sent < 5.0,
	    "preload waited for the interval");
	ck_assert_double_eq(json_num(&doc, "received", 0), 3);
	run_free(&r);

	/* -f: a dot per probe, taken back by each reply; no per-probe lines. */
	run_client(&r, NULL, 0, "-u", "-f", "-c", "20", "-p", s.port, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 0);
	ck_assert_uint_eq(run_count_lines(r.out, "bytes from"), 0);
	ck_assert_ptr_nonnull(strchr(r.out, '.'));
	ck_assert_ptr_nonnull(strchr(r.out, '\b'));
	sum = summary_of(&r, r.out);
	assert_counts(&r, &sum, 20, 20, 0, 0);
	run_free(&r);

	/* --histogram: one line per power of two, counts adding up to the samples. */
	run_client(&r, NULL, 0, "-u", "--histogram", "-c", "10", "-i", "0.01", "-p", s.port,
	    s.host, (char *)NULL);
	ASSERT_STATUS(&r, 0);
	ASSERT_HAS(&r, "rtt histogram (ms, log scale):\n", out);
	/* Each bucket line: "  0.016 -   0.032 |####     | 7". */
	for (line = strstr(r.out, "(ms, log scale):\n"); line != NULL;
	    line = strchr(line + 1, '\n'))
		if (sscanf(line + 1, "%*f - %*f |%*[# ]| %lu", &v) == 1)
			hist += v;
	ck_assert_uint_eq(hist, 10);
	run_free(&r);
	server_stop(&s);

	/* --pattern: after the 16-byte header, the pattern repeated. */
	fd = wire_socket(AF_INET, &port);
	ck_assert_int_ne(fd, -1);
	snprintf(portbuf, sizeof(portbuf), "%d", port);
	run_client(&r, NULL, 0, "-u", "-c", "1", "-W", "0.1", "-s", "24", "--pattern", "ab12",
	    "-p", portbuf, "127.0.0.1", (char *)NULL);
	ck_assert_int_eq(wire_recv(fd, &d, harness_scale_ms(5000)), 0);
	ck_assert_uint_eq(d.len, 24);
	for (size_t i = 16; i < 24; i++)
		ck_assert_uint_eq(d.data[i], i % 2 ? 0x12 : 0xab);
	run_free(&r);
	close(fd);
}
END_TEST

/*
 * -b 10M -w 2 against echod: UDP paced at 10 Mbit/s (1000-byte datagrams, 1250 a second)
 * for 2 s. One JSON probe object per datagram sent; the counts add up. The rate is
 * asserted in a generous band only (this runs on a shared, loaded machine); the figure is
 * printed, and the 5 % claim belongs to the benchmark note.
 */
START_TEST(test_bandwidth)
{
	const struct peer_kind *k = NULL;
	struct test_server s;
	struct run_result r;
	struct json_doc doc;
	static struct probe_obj probes[4096];
	size_t n, ok = 0;
	double sent, recv, sent_bps, echoed_bps;

	for (size_t i = 0; i < npeer_kinds; i++)
		if (strcmp(peer_kinds[i].name, "echod") == 0)
			k = &peer_kinds[i];
	ck_assert_ptr_nonnull(k);
	ck_assert_int_eq(k->start(&s, AF_INET), 0);
	run_client(&r, NULL, 0, "--json", "-u", "-b", "10M", "-w", "2", "-s", "1000", "-p",
	    s.port, s.host, (char *)NULL);
	json_lines(&r, probes, 4096, &n, &doc);
	sent = json_num(&doc, "sent", -1);
	recv = json_num(&doc, "received", -1);
	for (size_t i = 0; i < n && i < 4096; i++)
		ok += strcmp(probes[i].status, "ok") == 0;
	ck_assert_double_eq((double)n, sent);
	ck_assert_double_eq((double)ok, recv);
	ck_assert_double_eq(sent, recv + json_num(&doc, "lost", -1) +
	    json_num(&doc, "mismatched", -1) + json_num(&doc, "late", -1));
	sent_bps = json_num(&doc, "throughput.sent_bps", -1);
	echoed_bps = json_num(&doc, "throughput.echoed_bps", -1);
	fprintf(stderr, "bandwidth: -b 10M -w 2 -s 1000 against echod: %.0f sent, %.0f echoed, "
	    "sent %.3f Mbit/s, echoed %.3f Mbit/s, loss %.3f %%\n", sent, recv, sent_bps / 1e6,
	    echoed_bps / 1e6, json_num(&doc, "loss_percent", -1));
	ck_assert_msg(sent_bps > 5e6 && sent_bps < 15e6, "sent %.0f bit/s", sent_bps);
	ck_assert_msg(echoed_bps > 5e6 && echoed_bps <= sent_bps, "echoed %.0f bit/s",
	    echoed_bps);
	ck_assert_double_eq(json_num(&doc, "throughput.seconds", -1), 2);
	ASSERT_STATUS(&r, recv == sent ? 0 : 1);
	run_free(&r);

	/* Text: an interval line a second, then the throughput line. */
	run_client(&r, NULL, 0, "-u", "-b", "1M", "-w", "2", "-s", "500", "-p", s.port, s.host,
	    (char *)NULL);
	ck_assert_uint_eq(run_count_lines(r.out, " s] sent "), 2);
	ASSERT_HAS(&r, "throughput: sent ", out);
	run_free(&r);
	server_stop(&s);
}
END_TEST

/* --stream -w: a verified echoed stream for a while, its throughput; a corrupted byte is
 * found at its offset. */
START_TEST(test_stream)
{
	struct test_server s;
	struct run_result r;
	struct summary sum;
	struct json_doc doc;
	struct probe_obj probes[1];
	size_t n;

	fake(&s, AF_INET, SOCK_STREAM, NULL, -1, FAKE_ECHO);
	run_client(&r, NULL, 0, "--stream", "-w", "1", "-p", s.port, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 0);
	sum = summary_of(&r, r.out);
	ck_assert_msg(sum.sent > 0 && sum.received == sum.sent && sum.mismatched == 0,
	    "stdout:\n%s", r.out);
	ASSERT_HAS(&r, "throughput: sent ", out);
	ck_assert_uint_eq(run_count_lines(r.out, "bytes from"), 0);
	run_free(&r);

	run_client(&r, NULL, 0, "--json", "--stream", "-w", "1", "-b", "8M", "-p", s.port, s.host,
	    (char *)NULL);
	ASSERT_STATUS(&r, 0);
	json_lines(&r, probes, 0, &n, &doc);
	ck_assert_double_eq(json_num(&doc, "sent", -1), (double)n);
	ck_assert_double_eq(json_num(&doc, "throughput.bytes_echoed", -1),
	    json_num(&doc, "throughput.bytes_sent", -2));
	fprintf(stderr, "stream: --stream -w 1 -b 8M against a fake echo: %.3f Mbit/s echoed\n",
	    json_num(&doc, "throughput.echoed_bps", -1) / 1e6);
	run_free(&r);
	server_stop(&s);

	/* Byte 65536 + 1000: the second block's byte 1000. */
	fake(&s, AF_INET, SOCK_STREAM, NULL, 65536 + 1000, FAKE_ECHO);
	run_client(&r, NULL, 0, "--stream", "-w", "1", "-p", s.port, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 1);
	sum = summary_of(&r, r.out);
	ck_assert_uint_eq(sum.mismatched, 1);
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
	ASSERT_HAS(&r, "From 127.0.0.1 icmp_seq=1 Destination Port Unreachable", err);
	run_free(&r);
	server_stop(&s);
}
END_TEST

/* ICMP port unreachable, reported per probe as ping does, and in JSON with its source and
 * the summary's reason: all lost, and why. */
START_TEST(test_icmp_per_probe)
{
	struct test_server s;
	struct run_result r;
	struct json_doc doc;
	struct probe_obj probes[4];
	struct summary sum;
	char want[128];
	size_t n;

	ck_assert_int_eq(closed_udp_port(&s), 0);
	run_client(&r, NULL, 0, "-u", "-c", "3", "-i", "0.05", "-p", s.port, s.host,
	    (char *)NULL);
	ASSERT_STATUS(&r, 1);
	for (int seq = 1; seq <= 3; seq++) {
		snprintf(want, sizeof(want), "From 127.0.0.1 icmp_seq=%d Destination Port "
		    "Unreachable\n", seq);
		ASSERT_HAS(&r, want, out);
	}
	sum = summary_of(&r, r.out);
	assert_counts(&r, &sum, 3, 0, 0, 3);
	ASSERT_HAS(&r, "+3 errors", out);
	run_free(&r);

	run_client(&r, NULL, 0, "--json", "-u", "-c", "3", "-i", "0.05", "-p", s.port, s.host,
	    (char *)NULL);
	ASSERT_STATUS(&r, 1);
	json_lines(&r, probes, 4, &n, &doc);
	ck_assert_uint_eq(n, 3);
	for (size_t i = 0; i < n; i++) {
		ck_assert_str_eq(probes[i].status, "icmp");
		ck_assert_str_eq(probes[i].icmp, "Destination Port Unreachable");
	}
	ck_assert_double_eq(json_num(&doc, "errors", -1), 3);
	ck_assert_double_eq(json_num(&doc, "lost", -1), 3);
	ck_assert_str_eq(json_str(&doc, "reason"), "Destination Port Unreachable");
	run_free(&r);
	server_stop(&s);
}
END_TEST

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Probes keep their schedule whatever is outstanding: a server that drops every other
 * datagram, -c 10 -i 0.1 -W 2. Serialised, each lost probe would hold the next one back
 * for 2 s (5 x 2 s: over 10 s); on schedule the last goes out at 0.9 s and the run ends
 * 2 s later. Asserted as ordering facts from the JSON send times: each probe after a lost
 * one was sent before that one's -W was over; the run's length only against the
 * serialised one, with generous slack.
 */
START_TEST(test_schedule)
{
	struct test_server s;
	struct run_result r;
	struct json_doc doc;
	struct probe_obj probes[16];
	const struct probe_obj *p, *q;
	double t0, elapsed;
	size_t n;

	fake(&s, AF_INET, SOCK_DGRAM, "ed", -1, FAKE_ECHO);
	t0 = mono_now();
	run_client(&r, NULL, 0, "--json", "-u", "-p", s.port, "-c", "10", "-i", "0.1", "-W", "2",
	    s.host, (char *)NULL);
	elapsed = mono_now() - t0;
	ASSERT_STATUS(&r, 1);
	json_lines(&r, probes, 16, &n, &doc);
	ck_assert_uint_eq(n, 10);
	for (unsigned seq = 2; seq <= 10; seq += 2) {
		p = probe_of(probes, n, seq);
		ck_assert_ptr_nonnull(p);
		ck_assert_str_eq(p->status, "lost");
		ck_assert_str_eq(probe_of(probes, n, seq - 1)->status, "ok");
		q = probe_of(probes, n, seq + 1);
		if (q != NULL)
			ck_assert_msg(q->sent < p->sent + 2.0, "probe %u sent %.3f s after lost "
			    "probe %u: held back", seq + 1, q->sent - p->sent, seq);
	}
	/* In order, and the last one out long before one -W per lost probe would allow. */
	for (unsigned seq = 2; seq <= 10; seq++)
		ck_assert(probe_of(probes, n, seq)->sent > probe_of(probes, n, seq - 1)->sent);
	ck_assert_double_eq(json_num(&doc, "loss_percent", -1), 50);
	ck_assert_double_eq(json_num(&doc, "lost", -1), 5);
	fprintf(stderr, "schedule: -c 10 -i 0.1 -W 2, every other lost: last probe sent %.3f s "
	    "after the first, run %.3f s (serialised: over 10 s)\n",
	    probe_of(probes, n, 10)->sent - probe_of(probes, n, 1)->sent, elapsed);
	ck_assert_msg(elapsed < 8.0, "took %.3f s: probes held back by lost ones", elapsed);
	run_free(&r);

	/* The same in text: the summary's 50 %. */
	run_client(&r, NULL, 0, "-u", "-p", s.port, "-c", "4", "-i", "0.1", "-W", "1", s.host,
	    (char *)NULL);
	ASSERT_STATUS(&r, 1);
	ASSERT_HAS(&r, "(50.0% loss)", out);
	run_free(&r);
	server_stop(&s);
}
END_TEST

/* What -Q and -t put on the wire, as a receiving socket with IP_RECVTOS / IP_RECVTTL (or
 * their IPv6 forms) sees it. Nobody answers: the client exits 1, the datagram is here. */
START_TEST(test_wire_tos_ttl)
{
	static const struct { const char *q; int tos; } cases[] = {
		{ "0xb8", 0xb8 }, { "ef", 0xb8 }, { "af41", 0x88 }, { "cs1", 0x20 }, { "184", 0xb8 },
	};
	int family = _i == 0 ? AF_INET : AF_INET6, fd, port;
	char portbuf[8];
	struct wire_dgram d;
	struct run_result r;

	fd = wire_socket(family, &port);
	ck_assert_int_ne(fd, -1);
	snprintf(portbuf, sizeof(portbuf), "%d", port);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_client(&r, NULL, 0, "-u", "-c", "1", "-W", "0.1", "-Q", cases[i].q, "-t", "7",
		    "-p", portbuf, family == AF_INET ? "127.0.0.1" : "::1", (char *)NULL);
		ASSERT_STATUS(&r, 1);
		ck_assert_int_eq(wire_recv(fd, &d, harness_scale_ms(5000)), 0);
		ck_assert_msg(d.tos == cases[i].tos && d.ttl == 7, "-Q %s -t 7: tos 0x%x ttl %d",
		    cases[i].q, d.tos, d.ttl);
		run_free(&r);
	}
	/* Without them: the defaults (TOS 0, TTL 64 here), so the above is the options' doing. */
	run_client(&r, NULL, 0, "-u", "-c", "1", "-W", "0.1", "-p", portbuf,
	    family == AF_INET ? "127.0.0.1" : "::1", (char *)NULL);
	ck_assert_int_eq(wire_recv(fd, &d, harness_scale_ms(5000)), 0);
	ck_assert_msg(d.tos == 0 && d.ttl != 7, "defaults: tos 0x%x ttl %d", d.tos, d.ttl);
	run_free(&r);
	close(fd);
}
END_TEST

/* -B ADDR:PORT and -I ADDR: the datagram comes from there. (A free port, not 40000: other
 * tests run beside this one.) */
START_TEST(test_wire_source)
{
	int fd, port, src;
	char portbuf[8], bind[32];
	struct wire_dgram d;
	struct run_result r;

	fd = wire_socket(AF_INET, &port);
	ck_assert_int_ne(fd, -1);
	snprintf(portbuf, sizeof(portbuf), "%d", port);
	src = wire_free_port("127.0.0.5");
	ck_assert_int_gt(src, 0);
	snprintf(bind, sizeof(bind), "127.0.0.5:%d", src);
	run_client(&r, NULL, 0, "-u", "-c", "1", "-W", "0.1", "-B", bind, "-p", portbuf,
	    "127.0.0.1", (char *)NULL);
	ASSERT_STATUS(&r, 1);
	ck_assert_int_eq(wire_recv(fd, &d, harness_scale_ms(5000)), 0);
	ck_assert_str_eq(d.from, "127.0.0.5");
	ck_assert_int_eq(d.port, src);
	run_free(&r);

	run_client(&r, NULL, 0, "-u", "-c", "1", "-W", "0.1", "-I", "127.0.0.6", "-p", portbuf,
	    "127.0.0.1", (char *)NULL);
	ck_assert_int_eq(wire_recv(fd, &d, harness_scale_ms(5000)), 0);
	ck_assert_str_eq(d.from, "127.0.0.6");
	run_free(&r);
	close(fd);
}
END_TEST

/* -I IFACE binds to the interface: lo reaches a loopback server, a missing one is an
 * error, not silently ignored. */
START_TEST(test_iface)
{
	struct test_server s;
	struct run_result r;

	fake(&s, AF_INET, SOCK_DGRAM, "e", -1, FAKE_ECHO);
	run_client(&r, NULL, 0, "-u", "-I", "lo", "-c", "1", "-p", s.port, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 0);
	run_free(&r);
	run_client(&r, NULL, 0, "-u", "-I", "nosuchif0", "-c", "1", "-p", s.port, s.host,
	    (char *)NULL);
	ASSERT_STATUS(&r, 1);
	ASSERT_HAS(&r, "-I nosuchif0: No such device", err);
	run_free(&r);
	server_stop(&s);
}
END_TEST

/* -M do -s 2000 where the path MTU is 1280 (a network namespace of our own, its loopback's
 * MTU set to 1280): a local error per probe with the MTU, the path MTU in the summary,
 * exit 1. No server is needed: the datagram never leaves. */
START_TEST(test_pmtu)
{
	struct run_result r;
	struct json_doc doc;
	struct probe_obj probes[4];
	size_t n;

	run_client(&r, NULL, RUN_NETNS | RUN_LO_1280, "-u", "-M", "do", "-s", "2000", "-c", "2",
	    "-i", "0.05", "-p", "9", "127.0.0.1", (char *)NULL);
	ASSERT_STATUS(&r, 1);
	ck_assert_uint_eq(run_count_lines(r.out, "Message too long, mtu = 1280"), 2);
	ASSERT_HAS(&r, "path mtu 1280\n", out);
	run_free(&r);

	run_client(&r, NULL, RUN_NETNS | RUN_LO_1280, "--json", "-u", "-M", "do", "-s", "2000",
	    "-c", "1", "-p", "9", "127.0.0.1", (char *)NULL);
	ASSERT_STATUS(&r, 1);
	json_lines(&r, probes, 4, &n, &doc);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(probes[0].status, "icmp");
	ck_assert_int_eq(probes[0].mtu, 1280);
	ck_assert_double_eq(json_num(&doc, "path_mtu", 0), 1280);
	run_free(&r);

	/* -M dont: fragmented, so it goes out (and finds nobody: port unreachable). */
	run_client(&r, NULL, RUN_NETNS | RUN_LO_1280, "-u", "-M", "dont", "-s", "2000", "-c", "1",
	    "-p", "9", "127.0.0.1", (char *)NULL);
	ASSERT_STATUS(&r, 1);
	ASSERT_HAS(&r, "Destination Port Unreachable", out);
	run_free(&r);
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

	run_client(&r, steps, 0, "--interactive", s.host, (char *)NULL);
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

/* Bad usage exits 64 (EX_USAGE); a name or port that does not resolve 2, as ping's. */
static const struct usage_case {
	const char *args[6];
	const char *message;
	int status;
} usage_cases[] = {
	{ { "-x", "127.0.0.1" }, "invalid option", 64 },
	{ { NULL }, "missing HOST", 64 },
	{ { "--tcp", "-s", "4", "h", "y" }, "several HOSTs over UDP or TCP: -s at least 12", 64 },
	{ { "-u", "-m", "x", "h", "y" }, "several HOSTs take -c ", 64 },
	{ { "-u", "--stream", "h", "y" }, ", not --stream", 64 },
	{ { "-u", "h", "unix:/x" }, "several HOSTs: each an IP host name or address, not 'unix:/x'",
	    64 },
	{ { "-u", "-s", "4", "h", "y" }, "several HOSTs over UDP or TCP: -s at least 12", 64 },
	{ { "-u", "-6", "::1", "127.0.0.1" }, "127.0.0.1 port 7: ", 2 },
	{ { "-c", "0", "h" }, "invalid value for -c: '0'", 64 },
	{ { "-c", "1x", "h" }, "invalid value for -c", 64 },
	{ { "-s", "-5", "h" }, "invalid value for -s", 64 },
	{ { "-s", "0", "h" }, "--size 0: empty probes are UDP datagrams (-u)", 64 },
	{ { "-s", "0", "unix:/x" }, "--size 0: empty probes are UDP datagrams (-u)", 64 },
	{ { "-u", "-s", "0", "-b", "1M", "h" }, "--size 0 with --bandwidth", 64 },
	{ { "-p", "70000", "h" }, "invalid value for -p", 64 },
	{ { "-i", "nan", "h" }, "invalid value for -i", 64 },
	{ { "-W", "0", "h" }, "invalid value for -W", 64 },
	{ { "-m", "x", "-s", "10", "h" }, "--message and --size", 64 },
	{ { "-m", "", "h" }, "empty message", 64 },
	{ { "--interactive", "-c", "3", "h" }, "--interactive reads", 64 },
	{ { "--interactive", "--json", "h" }, "--json is not available", 64 },
	{ { "--interactive", "-f", "h" }, "--interactive reads", 64 },
	{ { "-t", "5", "h", "x" }, ", not -t", 64 },
	{ { "-t", "0", "h" }, "invalid value for -t: '0'", 64 },
	{ { "-t", "256", "h" }, "invalid value for -t", 64 },
	{ { "-Q", "xyz", "h" }, "invalid value for -Q: 'xyz'", 64 },
	{ { "-Q", "256", "h" }, "invalid value for -Q", 64 },
	{ { "-M", "maybe", "h" }, "invalid value for -M", 64 },
	{ { "-B", "not-an-ip", "h" }, "invalid value for -B", 64 },
	{ { "-B", "127.0.0.1:99999", "h" }, "invalid value for -B", 64 },
	{ { "--pattern", "abc", "h" }, "invalid value for --pattern", 64 },
	{ { "--pattern", "0011223344556677889900112233445566", "h" }, "--pattern", 64 },
	{ { "--pattern", "ab", "-m", "x", "h" }, "--pattern and --message", 64 },
	{ { "-w", "0", "h" }, "invalid value for -w", 64 },
	{ { "-l", "0", "h" }, "invalid value for -l", 64 },
	{ { "-b", "10X", "-u", "h" }, "invalid value for -b", 64 },
	{ { "-b", "10M", "h" }, "--bandwidth paces UDP", 64 },
	{ { "-b", "10M", "-u", "-i", "1", "h" }, "no -i or -f with it", 64 },
	{ { "--stream", "-u", "h" }, "--stream is a TCP mode", 64 },
	{ { "--stream", "-i", "1", "h" }, "--stream sends back to back", 64 },
	{ { "-t", "5", "unix:/x" }, "apply to IP", 64 },
	{ { "-u", "-s", "70000", "h" }, "a datagram carries at most 65507", 64 },
	{ { "-u", "unix:/x" }, "--udp does not apply", 64 },
	{ { "-4", "unix:/x" }, "-4 and -6 do not apply", 64 },
	{ { "unix:" }, "needs a socket path", 64 },
	{ { "-6", "127.0.0.1" }, "127.0.0.1 port 7: ", 2 },
	{ { "-4", "::1" }, "::1 port 7: ", 2 },
	{ { "-p", "no-such-service", "127.0.0.1" }, "127.0.0.1 port no-such-service: ", 2 },
};

START_TEST(test_usage)
{
	const struct usage_case *c = &usage_cases[_i];
	const char *a[6] = { 0 };
	struct run_result r;

	memcpy(a, c->args, sizeof(a));
	run_client(&r, NULL, 0, a[0], a[1], a[2], a[3], a[4], a[5], (char *)NULL);
	ASSERT_STATUS(&r, c->status);
	ASSERT_HAS(&r, c->message, err);
	ck_assert_uint_eq(r.outlen, 0);
	/* Usage: one line on what is wrong, then where to look (coreutils), not the help. */
	if (c->status == 64)
		ck_assert_msg(strstr(r.err, "\nTry 'echo-client --help' for more information.\n") ==
		    strchr(r.err, '\n'), "stderr: %s", r.err);
	run_free(&r);
}
END_TEST

START_TEST(test_help_version)
{
	struct run_result r;

	static const char *const flags[] = {
		"--tcp ", "-u, --udp", "-4, -6", "-p, --port", "-m, --message", "-c, --count",
		"-i, --interval", "-s, --size", "-W, --timeout", "-w DEADLINE", "-l PRELOAD",
		"-f ", "-D ", "-t TTL", "-Q TOS", "-I IFACE|ADDR", "-B ADDR[:PORT]",
		"-M do|want|dont|probe", "--pattern HEX", "-b, --bandwidth", "--stream",
		"--histogram", "--interactive", "-q, --quiet", "--json", "-V, --version",
		"-h, --help",
	};

	run_client(&r, NULL, 0, "--help", (char *)NULL);
	ASSERT_STATUS(&r, 0);
	ASSERT_HAS(&r, "usage: echo-client [-u|--udp]", out);
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		ASSERT_HAS(&r, flags[i], out);
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
	/* A probe may be on its way at the signal: lost, in flight, and no failure. */
	ASSERT_STATUS(&r, 0);
	sum = summary_of(&r, r.out);
	ck_assert_msg(sum.sent >= 3 && sum.received + sum.lost == sum.sent && sum.lost <= 1 &&
	    sum.lost == summary_extra(strstr(r.out, " sent, "), "in flight at exit"),
	    "stdout:\n%s", r.out);
	run_free(&r);
	server_stop(&s);
}
END_TEST

/*
 * Cut short against a path that answers nothing (a UDP sink, a TCP peer that reads and
 * never answers): every probe sent is counted, those still within -W lost and shown apart
 * (RFC 7680 2.4: a packet sent and not received is lost; ping counts it so at Ctrl-C and
 * at -w). _i: UDP, TCP, --stamp, each interrupted by SIGINT (3 flood dots: 3 sent, as
 * -c 3 stops there) and ended by -w 0.9 with -i 0.2 (5 sent, at 0 to 0.8 s).
 */
START_TEST(test_cut_short)
{
	static const char *const modes[][2] = { { "-u", NULL }, { "--tcp", NULL },
		{ "--stamp", NULL } };
	static const struct run_step steps[] = { { "...", NULL, 0, SIGINT }, { 0 } };
	const char *mode = modes[_i % 3][0];
	bool sigint = _i / 3 == 0;
	unsigned long want = sigint ? 3 : 5;
	struct test_server s;
	struct run_result r;
	struct summary sum;
	struct json_doc doc;
	size_t n;
	char line[64];

	fake(&s, AF_INET, _i % 3 == 1 ? SOCK_STREAM : SOCK_DGRAM, "d", -1, FAKE_SINK);
	if (sigint)
		run_client(&r, steps, 0, mode, "-f", "-i", "0.05", "-c", "3", "-W", "30", "-p",
		    s.port, s.host, (char *)NULL);
	else
		run_client(&r, NULL, 0, mode, "--json", "-i", "0.2", "-w", "0.9", "-W", "30",
		    "-p", s.port, s.host, (char *)NULL);
	ASSERT_STATUS(&r, 1);
	if (sigint) {
		sum = summary_of(&r, r.out);
		assert_counts(&r, &sum, want, 0, 0, want);
		snprintf(line, sizeof(line), "%lu lost (100.0%% loss), %lu in flight at exit",
		    want, want);
		ASSERT_HAS(&r, line, out);
	} else {
		json_lines(&r, NULL, 0, &n, &doc);
		ck_assert_uint_eq(n, 0);	/* none reported lost: -W was not over */
		ck_assert_double_eq(json_num(&doc, "sent", -1), want);
		ck_assert_double_eq(json_num(&doc, "received", -1), 0);
		ck_assert_double_eq(json_num(&doc, "lost", -1), want);
		ck_assert_double_eq(json_num(&doc, "in_flight_at_exit", -1), want);
		ck_assert_double_eq(json_num(&doc, "loss_percent", -1), 100);
		/* The deadline ends the run: no wait for -W's 30 s. */
		ck_assert_msg(json_num(&doc, "time_ms", -1) < 5000, "stdout:\n%s", r.out);
	}
	run_free(&r);
	server_stop(&s);
}
END_TEST

/* --- Pure parts ------------------------------------------------------------------------- */

START_TEST(test_stats)
{
	struct stats st;
	struct stats_info info = { .peer = "peer:7", .proto = "tcp", .size = 64 };
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
	    "p50/p90/p99/p99.9 = 50.000/90.000/99.000/100.000 ms\n"));
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
	static const unsigned char pat[] = { 0xde, 0xad };

	ck_assert_int_eq(payload_init(&p, NULL, sizeof(a)), 0);
	payload_fill(&p, 5, 1000, a);
	payload_fill(&p, 6, 1000, b);
	ck_assert_uint_eq(payload_seq(&p, a, sizeof(a)), 5);
	ck_assert_uint_eq(payload_seq(&p, b, sizeof(b)), 6);
	ck_assert_uint_eq(payload_stamp(&p, a, sizeof(a)), 1000);
	ck_assert_int_ne(memcmp(a + PAYLOAD_STAMPED, b + PAYLOAD_STAMPED, 48), 0);
	ck_assert_int_eq(payload_diff(&p, 5, 1000, a, sizeof(a)), -1);
	ck_assert_int_eq(payload_diff(&p, 6, 1000, a, sizeof(a)), 7);	/* the seq's last byte */
	ck_assert_int_eq(payload_diff(&p, 5, 1001, a, sizeof(a)), 15);	/* the stamp's */
	ck_assert_int_eq(payload_diff(&p, 5, 1000, a, 30), 30);
	payload_restamp(&p, 77, a);
	ck_assert_uint_eq(payload_stamp(&p, a, sizeof(a)), 77);
	ck_assert_int_eq(payload_diff(&p, 5, 77, a, sizeof(a)), -1);
	a[20] ^= 1;
	ck_assert_int_eq(payload_diff(&p, 5, 77, a, sizeof(a)), 20);
	a[0] ^= 1;
	ck_assert_uint_eq(payload_seq(&p, a, sizeof(a)), 0);	/* another run's nonce */
	payload_set_pattern(&p, pat, sizeof(pat));
	payload_fill(&p, 1, 0, a);
	for (size_t i = PAYLOAD_STAMPED; i < sizeof(a); i++)
		ck_assert_uint_eq(a[i], pat[i % 2]);
	payload_free(&p);

	/* 8 to 15 bytes: a sequence, no send time. */
	ck_assert_int_eq(payload_init(&p, NULL, 12), 0);
	payload_fill(&p, 3, 99, a);
	ck_assert_uint_eq(payload_seq(&p, a, 12), 3);
	ck_assert_uint_eq(payload_stamp(&p, a, 12), 0);
	payload_free(&p);

	/* Too short for a header: still different per sequence, never a sequence read back. */
	ck_assert_int_eq(payload_init(&p, NULL, 4), 0);
	payload_fill(&p, 1, 0, a);
	payload_fill(&p, 2, 0, b);
	ck_assert_int_ne(memcmp(a, b, 4), 0);
	ck_assert_uint_eq(payload_seq(&p, a, 4), 0);
	payload_free(&p);

	ck_assert_int_eq(payload_init(&p, "hello", 5), 0);
	payload_fill(&p, 9, 0, a);
	ck_assert_int_eq(memcmp(a, "hello", 5), 0);
	ck_assert_uint_eq(payload_seq(&p, a, 5), 0);
	ck_assert_int_eq(payload_diff(&p, 1, 0, (const unsigned char *)"help!", 5), 3);
	payload_free(&p);
}
END_TEST

/* -Q and -b values, and the jitter and IPDV arithmetic. */
START_TEST(test_parsers)
{
	struct stats st;

	ck_assert_int_eq(opts_tos("ef"), 0xb8);
	ck_assert_int_eq(opts_tos("EF"), 0xb8);
	ck_assert_int_eq(opts_tos("af11"), 0x28);
	ck_assert_int_eq(opts_tos("af43"), 0x98);
	ck_assert_int_eq(opts_tos("cs7"), 0xe0);
	ck_assert_int_eq(opts_tos("0xb8"), 0xb8);
	ck_assert_int_eq(opts_tos("3"), 3);		/* ECN bits only */
	ck_assert_int_eq(opts_tos("0x100"), -1);
	ck_assert_int_eq(opts_tos("af44"), -1);
	ck_assert_int_eq(opts_tos(""), -1);
	ck_assert_double_eq(opts_rate("10M"), 1e7);
	ck_assert_double_eq(opts_rate("1.5k"), 1500);
	ck_assert_double_eq(opts_rate("2G"), 2e9);
	ck_assert_double_eq(opts_rate("0"), -1);
	ck_assert_double_eq(opts_rate("10Mb"), -1);

	/* RFC 3550: J += (|D| - J) / 16. Round trips 1, 3, 2: J = 2/16, then += (1 - J)/16. */
	stats_init(&st);
	stats_jitter(&st, 1);
	stats_jitter(&st, 3);
	ck_assert_double_eq_tol(st.jitter, 0.125, 1e-12);
	stats_jitter(&st, 2);
	ck_assert_double_eq_tol(st.jitter, 0.125 + (1 - 0.125) / 16, 1e-12);
	stats_ipdv(&st, 1, 3);
	stats_ipdv(&st, 3, 2);
	ck_assert_double_eq(st.ipdv_max, 2);
	ck_assert_double_eq(st.ipdv_sum / (double)st.ipdv_n, 1.5);
	/* Late replies are not lost. */
	st.sent = 10;
	st.received = 7;
	st.late = 2;
	ck_assert_uint_eq(stats_lost(&st), 1);
	stats_free(&st);
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
	tcase_add_loop_test(tc, test_peer_udp_empty, 0, n);
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
	tcase_add_test(tc, test_udp_reorder);
	tcase_add_test(tc, test_schedule);
	tcase_add_test(tc, test_tcp_reset);
	tcase_add_test(tc, test_stream);
	tcase_add_test(tc, test_echo_timeout);
	tcase_add_test(tc, test_interactive_halfclose);
	tcase_add_test(tc, test_interactive_mismatch);
	tcase_add_test(tc, test_interactive_udp_lines);
	tc = tcase(s, "unreachable");
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_connect_timeout);
	tcase_add_test(tc, test_icmp_per_probe);
	if (have_netns()) {
		tcase_add_test(tc, test_unreachable);
		tcase_add_test(tc, test_pmtu);
	} else {
		missing[nmissing++] = "cannot create a network namespace (not root, no user "
		    "namespaces): unreachable and -M do (path MTU 1280) tests not run";
	}
	tc = tcase(s, "packet options");
	tcase_add_loop_test(tc, test_wire_tos_ttl, 0, server_have_ipv6() ? 2 : 1);
	tcase_add_test(tc, test_wire_source);
	tcase_add_test(tc, test_iface);
	tcase_add_test(tc, test_probe_options);
	if (peer_kinds[1].missing() == NULL) {
		tc = tcase(s, "throughput");
		tcase_add_test(tc, test_bandwidth);
	}
	tc = tcase(s, "unix");
	tcase_add_test(tc, test_unix);
	tc = tcase(s, "command line");
	tcase_add_loop_test(tc, test_usage, 0, sizeof(usage_cases) / sizeof(usage_cases[0]));
	tcase_add_test(tc, test_help_version);
	tcase_add_test(tc, test_interrupt);
	tcase_add_loop_test(tc, test_cut_short, 0, 6);
	tc = tcase(s, "units");
	tcase_add_test(tc, test_stats);
	tcase_add_test(tc, test_payload);
	tcase_add_test(tc, test_parsers);
	tcase_add_test(tc, test_json_reader);
	stamp_client_tcases(s, TEST_TIMEOUT_S);
	client_multi_tcases(s, TEST_TIMEOUT_S);
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
	/* Everything that could run passed; what could not is a skip, and says why. */
	for (size_t i = 0; failed == 0 && i < nmissing; i++)
		printf("SKIP: %s\n", missing[i]);
	return harness_exit_status(failed, nmissing > 0);
}
