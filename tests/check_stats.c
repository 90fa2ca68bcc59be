/* SPDX-License-Identifier: MIT */
/* check_stats: echod's counters through `echodctl stats --json` and `echodctl metrics`. */
#include <arpa/inet.h>
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "json-check.h"
#include "stats.h"

#define ANSWER_MS	5000
#define PROMTOOL	"/usr/bin/promtool"
/* Per-source limits off: each test switches on the one it needs. */
#define NO_LIMITS	"max_connections_per_source = 0; connection_rate = 0; udp_rate = 0; " \
	"udp_max_reply_bytes_per_second = 0;"

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A socket of type bound to src:sport (a 127.0.0.0/8 address: a source of its own). */
static int
bound_socket(int type, const char *src, int sport)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)sport) };
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(inet_pton(AF_INET, src, &sin.sin_addr), 1);
	ck_assert_msg(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0, "bind %s:%d: %s", src,
	    sport, strerror(errno));
	return fd;
}

/* Connected to ip:port from src (TCP or UDP). */
static int
connected_from(int type, const char *src, int sport, const char *ip, int port)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = bound_socket(type, src, sport);

	ck_assert_int_eq(inet_pton(AF_INET, ip, &to.sin_addr), 1);
	ck_assert_msg(connect(fd, (struct sockaddr *)&to, sizeof(to)) == 0, "connect from %s: %s",
	    src, strerror(errno));
	return fd;
}

/* Send len bytes; true if they came back within the wait (false: closed, reset or silent). */
static bool
echoed(int fd, size_t len)
{
	unsigned char out[2048], in[2048];

	ck_assert_uint_le(len, sizeof(out));
	memset(out, 'e', len);
	if (send(fd, out, len, MSG_NOSIGNAL) != (ssize_t)len)
		return false;
	return recv_exact(fd, in, len, harness_scale_ms(1000)) == len;
}

/* `echodctl stats --json`, parsed (it must be valid JSON) into doc. */
static void
stats_json(struct echod_proc *p, struct json_doc *doc)
{
	static char out[16384];

	ck_assert_int_eq(harness_echodctl(p, "stats --json", out, sizeof(out)), 0);
	ck_assert_msg(json_parse(out, doc) == 0, "not valid JSON (or over 64 values): %s", out);
}

/* The number at path (printf-like) in doc; fails the test if absent. */
static uint64_t __attribute__((format(printf, 2, 3)))
jnum(const struct json_doc *doc, const char *fmt, ...)
{
	const struct json_item *it;
	char path[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	it = json_get(doc, path);
	ck_assert_msg(it != NULL && it->type == JSON_NUMBER, "no number at %s", path);
	return (uint64_t)it->number;
}

/* Poll `echodctl stats --json` until the value at path reaches want; returns the last one. */
static uint64_t
wait_stat(struct echod_proc *p, uint64_t want, const char *path)
{
	long deadline = now_ms() + harness_scale_ms(ANSWER_MS);
	struct json_doc *doc = malloc(sizeof(*doc));
	uint64_t v = 0;

	ck_assert_ptr_nonnull(doc);
	for (;;) {
		stats_json(p, doc);
		v = jnum(doc, "%s", path);
		if (v >= want || now_ms() > deadline)
			break;
		usleep(20000);
	}
	free(doc);
	return v;
}

/* `echodctl metrics` into buf; promtool must find nothing wrong with it. */
static void
metrics_checked(struct echod_proc *p, char *buf, size_t size)
{
	char path[160], cmd[256];
	FILE *f;

	ck_assert_int_eq(harness_echodctl(p, "metrics", buf, size), 0);
	ck_assert_msg(access(PROMTOOL, X_OK) == 0, PROMTOOL " missing (Debian: prometheus)");
	snprintf(path, sizeof(path), "%s/metrics.prom", p->dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(buf, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), PROMTOOL " check metrics < '%s' >&2", path);
	ck_assert_msg(system(cmd) == 0, "promtool check metrics failed on:\n%s", buf);
	unlink(path);
}

/* N connections and M datagrams: per listener and in total, exactly that. */
START_TEST(counters_follow_traffic)
{
	enum { N = 5, K = 1000, M = 7, L = 300 };
	struct harness_service svc = { .workers = 2 };
	struct echod_proc p;
	struct json_doc *doc = malloc(sizeof(*doc));
	char tcp[64], udp[64], text[8192], key[128];
	static char metrics[65536];
	int port, fd;

	ck_assert_ptr_nonnull(doc);
	port = harness_serve(&p, &svc);
	snprintf(tcp, sizeof(tcp), "listeners.tcp 127.0.0.1:%d", port);
	snprintf(udp, sizeof(udp), "listeners.udp 127.0.0.1:%d", port);
	for (int i = 0; i < N; i++) {
		fd = connected_from(SOCK_STREAM, "127.0.0.1", 0, "127.0.0.1", port);
		ck_assert(echoed(fd, K));
		if (i < N - 1)
			close(fd);
	}
	/* The last one is still open. */
	ck_assert_uint_eq(wait_stat(&p, N - 1, "total.connections_closed"), N - 1);
	stats_json(&p, doc);
	ck_assert_uint_eq(jnum(doc, "%s.connections_open", tcp), 1);
	ck_assert_uint_eq(jnum(doc, "total.connections_open"), 1);
	close(fd);
	fd = connected_from(SOCK_DGRAM, "127.0.0.1", 0, "127.0.0.1", port);
	for (int i = 0; i < M; i++)
		ck_assert(echoed(fd, L));
	close(fd);
	wait_stat(&p, N, "total.connections_closed");
	stats_json(&p, doc);
	ck_assert_uint_eq(jnum(doc, "%s.connections_accepted", tcp), N);
	ck_assert_uint_eq(jnum(doc, "%s.connections_closed", tcp), N);
	ck_assert_uint_eq(jnum(doc, "%s.connections_open", tcp), 0);
	ck_assert_uint_eq(jnum(doc, "%s.echoed_bytes", tcp), N * K);
	ck_assert_uint_eq(jnum(doc, "%s.datagrams_echoed", udp), M);
	ck_assert_uint_eq(jnum(doc, "%s.datagrams_dropped", udp), 0);
	ck_assert_uint_eq(jnum(doc, "%s.echoed_bytes", udp), M * L);
	ck_assert_uint_eq(jnum(doc, "total.echoed_bytes"), N * K + M * L);
	ck_assert_uint_eq(jnum(doc, "total.connections_accepted"), N);
	ck_assert_uint_eq(jnum(doc, "total.datagrams_echoed"), M);
	ck_assert_uint_eq(jnum(doc, "total.refused.acl"), 0);
	ck_assert_uint_eq(jnum(doc, "workers"), 2);
	ck_assert_uint_eq(jnum(doc, "reloads_ok"), 0);
	ck_assert_ptr_nonnull(json_get(doc, "version"));
	/* A stream listener shows no datagram counters. */
	ck_assert_ptr_null(json_get(doc, "listeners.tcp 127.0.0.1:0.datagrams_echoed"));
	snprintf(key, sizeof(key), "%s.datagrams_echoed", tcp);
	ck_assert_ptr_null(json_get(doc, key));

	/* The same counters as name=value lines, and in the Prometheus text. */
	ck_assert_int_eq(harness_echodctl(&p, "stats", text, sizeof(text)), 0);
	snprintf(key, sizeof(key), "\nlistener[tcp 127.0.0.1:%d].connections_accepted=%d\n", port,
	    N);
	ck_assert_msg(strstr(text, key) != NULL, "no %s in:\n%s", key + 1, text);
	ck_assert_ptr_nonnull(strstr(text, "\ntotal.datagrams_echoed=7\n"));
	metrics_checked(&p, metrics, sizeof(metrics));
	snprintf(key, sizeof(key), "echod_echoed_bytes_total{protocol=\"udp\","
	    "address=\"127.0.0.1:%d\"} %d\n", port, M * L);
	ck_assert_msg(strstr(metrics, key) != NULL, "no %s in:\n%s", key, metrics);
	ck_assert_ptr_nonnull(strstr(metrics, "\nechod_workers 2\n"));
	ck_assert_ptr_nonnull(strstr(metrics, "\n# TYPE echod_refused_total counter\n"));

	/* --json is for status, stats and probes only. */
	ck_assert_int_eq(harness_echodctl(&p, "--json metrics 2>/dev/null", text, sizeof(text)), 64);
	/* Reading never resets, and a reload is counted. */
	ck_assert_int_eq(harness_echodctl(&p, "reload", text, sizeof(text)), 0);
	stats_json(&p, doc);
	ck_assert_uint_eq(jnum(doc, "%s.connections_accepted", tcp), N);
	ck_assert_uint_eq(jnum(doc, "reloads_ok"), 1);
	free(doc);
	ck_assert_int_eq(harness_stop(&p), 0);
	harness_cleanup(&p);
}
END_TEST

/* One refusal reason: how echod is set up, and how it is provoked. */
struct reason_case {
	const char *reason, *proto;
	const char *settings, *limits;
	void (*provoke)(struct echod_proc *p, int port, int arg);
	int arg;		/* for provoke: a source port chosen before the start */
};

static void
provoke_acl(struct echod_proc *p, int port, int arg)
{
	int fd = connected_from(SOCK_STREAM, "127.0.0.3", 0, "127.0.0.1", port);

	ck_assert(!echoed(fd, 10));
	close(fd);
}

/* Connections from 127.0.0.2 until one is refused (at most tries), all held meanwhile. */
static void
provoke_connections(struct echod_proc *p, int port, int tries)
{
	int fds[16], n = 0;
	bool refused = false;

	ck_assert_int_le(tries, 16);
	while (n < tries && !refused) {
		fds[n] = connected_from(SOCK_STREAM, "127.0.0.2", 0, "127.0.0.1", port);
		refused = !echoed(fds[n], 10);
		n++;
	}
	ck_assert_msg(refused, "%d connections, none refused", n);
	while (n > 0)
		close(fds[--n]);
}

/* Datagrams of len bytes from 127.0.0.2:sport until one is not answered (at most 16). */
static void
provoke_datagrams(struct echod_proc *p, int port, int sport, size_t len)
{
	int fd = connected_from(SOCK_DGRAM, "127.0.0.2", sport, "127.0.0.1", port);
	unsigned char buf[2048], in[2048];
	struct pollfd pfd = { fd, POLLIN, 0 };
	bool dropped = false;

	memset(buf, 'd', len);
	for (int i = 0; i < 16 && !dropped; i++) {
		ck_assert_int_eq(send(fd, buf, len, 0), (ssize_t)len);
		dropped = poll(&pfd, 1, harness_scale_ms(300)) == 0;
		if (!dropped)
			ck_assert_int_eq(recv(fd, in, sizeof(in), 0), (ssize_t)len);
	}
	ck_assert_msg(dropped, "every datagram answered");
	close(fd);
}

static void
provoke_rate(struct echod_proc *p, int port, int arg)
{
	/* Faster than one a second for more than the burst: unanswered ones come at once. */
	provoke_datagrams(p, port, 0, 20);
}

static void
provoke_bytes(struct echod_proc *p, int port, int arg)
{
	provoke_datagrams(p, port, 0, 600);
}

static void
provoke_oversize(struct echod_proc *p, int port, int arg)
{
	provoke_datagrams(p, port, 0, 200);
}

static void
provoke_source_port(struct echod_proc *p, int port, int sport)
{
	provoke_datagrams(p, port, sport, 20);
}

static void
provoke_conn_limit(struct echod_proc *p, int port, int arg)
{
	provoke_connections(p, port, 2);
}

static void
provoke_conn_rate(struct echod_proc *p, int port, int arg)
{
	provoke_connections(p, port, 16);
}

/* A client that sends and never reads, until max_buffered_bytes holds echod back. */
static void
provoke_buffered(struct echod_proc *p, int port, int arg)
{
	int fd = connected_from(SOCK_STREAM, "127.0.0.2", 0, "127.0.0.1", port);
	static char buf[65536];
	long deadline = now_ms() + harness_scale_ms(ANSWER_MS);
	size_t sent = 0;

	ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	/* 16 MiB at most: far past the kernel's buffers and the 64 KiB cap. */
	while (sent < (16u << 20) && now_ms() < deadline) {
		struct pollfd pfd = { fd, POLLOUT, 0 };
		ssize_t n = send(fd, buf, sizeof(buf), MSG_NOSIGNAL);

		if (n > 0) {
			sent += (size_t)n;
			continue;
		}
		ck_assert_msg(n == -1 && errno == EAGAIN, "send: %s", strerror(errno));
		/* Nothing moves for a while: echod stopped reading. */
		if (poll(&pfd, 1, harness_scale_ms(300)) == 0)
			break;
	}
	wait_stat(p, 1, "total.refused.max_buffered");
	close(fd);
}

static const struct reason_case reasons[] = {
	{ "acl", "tcp", "allow = [ \"127.0.0.2/32\" ];", NO_LIMITS, provoke_acl, 0 },
	{ "source_connections", "tcp", "", "max_connections_per_source = 1; connection_rate = 0; "
	    "udp_rate = 0; udp_max_reply_bytes_per_second = 0;", provoke_conn_limit, 0 },
	{ "connection_rate", "tcp", "", "max_connections_per_source = 0; connection_rate = 1; "
	    "udp_rate = 0; udp_max_reply_bytes_per_second = 0;", provoke_conn_rate, 0 },
	{ "max_connections", "tcp", "", "max_connections = 1; " NO_LIMITS, provoke_conn_limit,
	    0 },
	{ "max_buffered", "tcp", "", "buffer_size = 1048576; max_buffered_bytes = 65536; "
	    NO_LIMITS, provoke_buffered, 0 },
	{ "datagram_rate", "udp", "", "max_connections_per_source = 0; connection_rate = 0; "
	    "udp_rate = 1; udp_max_reply_bytes_per_second = 0;", provoke_rate, 0 },
	{ "reply_bytes", "udp", "", "max_connections_per_source = 0; connection_rate = 0; "
	    "udp_rate = 0; udp_max_reply_bytes_per_second = 100;", provoke_bytes, 0 },
	{ "oversize", "udp", "", "max_datagram = 100; " NO_LIMITS, provoke_oversize, 0 },
	{ "source_port", "udp", NULL, NO_LIMITS, provoke_source_port, 0 },
};

/* The refusal counted on its listener, in JSON and in the metrics, and logged. */
static void
assert_refusal_seen(struct echod_proc *p, const char *listener, const char *proto,
    const char *reason)
{
	struct json_doc *doc = malloc(sizeof(*doc));
	static char metrics[65536], err[65536];
	char path[64], series[256], line[160];
	uint64_t n;

	ck_assert_ptr_nonnull(doc);
	snprintf(path, sizeof(path), "listeners.%s.refused.%s", listener, reason);
	n = wait_stat(p, 1, path);
	ck_assert_msg(n >= 1, "%s: no refusal counted", path);
	snprintf(path, sizeof(path), "total.refused.%s", reason);
	stats_json(p, doc);
	ck_assert_uint_ge(jnum(doc, "%s", path), n);
	free(doc);
	metrics_checked(p, metrics, sizeof(metrics));
	/* Labelled by protocol and address: "tcp 127.0.0.1:7" is tcp and 127.0.0.1:7. */
	snprintf(series, sizeof(series), "echod_refused_total{protocol=\"%s\",address=\"%s\","
	    "reason=\"%s\"} ", proto, strchr(listener, ' ') + 1, reason);
	ck_assert_msg(strstr(metrics, series) != NULL, "no %s in:\n%s", series, metrics);
	ck_assert_uint_ge(strtoull(strstr(metrics, series) + strlen(series), NULL, 10), 1);
	/*
	 * And the refusal log said so: its first line for this source and
	 * reason, written by the control thread once it takes the worker's record
	 * from the queue, or, had the queue been full, the tick's warning that
	 * counts it (refusal_log.h: told about exactly once).
	 */
	snprintf(line, sizeof(line), " on %s: %s (", listener, reason);
	err[0] = '\0';
	for (long end = now_ms() + harness_scale_ms(ANSWER_MS); now_ms() < end &&
	    strstr(err, line) == NULL && strstr(err, " not logged") == NULL;)
		harness_read_stderr(p, err, sizeof(err), 100);
	ck_assert_msg(strstr(err, line) != NULL || strstr(err, " not logged") != NULL,
	    "no refusal logged ('%s') in:\n%s", line, err);
}

START_TEST(each_refusal_reason)
{
	const struct reason_case *c = &reasons[_i];
	char settings[256], listener[64];
	struct harness_service svc = { .workers = 2, .limits = c->limits, .settings = settings,
	    .stderr_pipe = true };
	struct echod_proc p;
	int port, sport = 0, holder = -1;

	if (c->settings == NULL) {
		/* A source port of our own, then echod told to drop datagrams from it. */
		struct sockaddr_in sin;
		socklen_t len = sizeof(sin);

		holder = bound_socket(SOCK_DGRAM, "127.0.0.2", 0);
		ck_assert_int_eq(getsockname(holder, (struct sockaddr *)&sin, &len), 0);
		sport = ntohs(sin.sin_port);
		snprintf(settings, sizeof(settings), "exempt = [];\n"
		    "udp_drop_source_ports = [ %d ];\n", sport);
	} else {
		snprintf(settings, sizeof(settings), "exempt = [];\n%s\n", c->settings);
	}
	port = harness_serve(&p, &svc);
	if (holder != -1)
		close(holder);
	c->provoke(&p, port, sport);
	snprintf(listener, sizeof(listener), "%s 127.0.0.1:%d", c->proto, port);
	assert_refusal_seen(&p, listener, c->proto, c->reason);
	ck_assert_int_eq(harness_stop(&p), 0);
	harness_cleanup(&p);
}
END_TEST

/* A socket systemd passed on [::] while the file lists 127.0.0.1 only: the rest is unlisted. */
START_TEST(unlisted_refused)
{
	struct echod_proc p;
	char listener[64];
	int port, fd;

	if (!harness_have_ipv6()) {
		fprintf(stderr, "unlisted_refused: no IPv6 loopback, dual-stack [::] cannot be "
		    "bound\n");
		return;
	}
	harness_init(&p);
	port = harness_listen(&p, SOCK_STREAM, NULL, 0);
	ck_assert_int_gt(port, 0);
	harness_write_config(&p, "exempt = [];\nlisteners = ( { protocol = \"tcp\"; "
	    "address = \"127.0.0.1\"; port = %d; } );\n", port);
	ck_assert_int_eq(harness_start_passing(&p, NULL, NULL, 0, NULL, true), 0);
	fd = connected_from(SOCK_STREAM, "127.0.0.2", 0, "127.0.0.2", port);
	ck_assert(!echoed(fd, 10));
	close(fd);
	snprintf(listener, sizeof(listener), "tcp [::]:%d", port);
	assert_refusal_seen(&p, listener, "tcp", "unlisted");
	ck_assert_int_eq(harness_stop(&p), 0);
	harness_cleanup(&p);
}
END_TEST

/* Lines of the refusal log in text: first refusals, summaries, "not logged" warnings. */
static int
refusal_lines(const char *text)
{
	int n = 0;

	for (const char *s = text; (s = strstr(s, "\n")) != NULL; s++)
		if (strncmp(s + 1, "<5>refused ", 11) == 0 || strncmp(s + 1, "<4>", 3) == 0)
			n++;
	return n;
}

/*
 * 100 000 refused datagrams from 1000 sources: the log stays within its bound
 * (REFUSAL_LOG_LINES first lines a second, and one warning a second saying
 * how many were not logged), while every datagram is counted.
 */
START_TEST(refusal_log_bounded_under_flood)
{
	enum { SOURCES = 1000, EACH = 100, LINES_PER_S = 20 };
	struct harness_service svc = { .workers = 2, .settings = "exempt = [];\n"
	    "allow = [ \"127.0.0.1/32\" ];\n", .stderr_pipe = true };
	struct sockaddr_in to = { .sin_family = AF_INET };
	static char err[1 << 18];
	struct echod_proc p;
	char src[32], path[64];
	uint64_t seen, before;
	long start, secs;
	int port, lines;

	port = harness_serve(&p, &svc);
	to.sin_port = htons((uint16_t)port);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	start = now_ms();
	for (int s = 0; s < SOURCES; s++) {
		int fd;

		snprintf(src, sizeof(src), "127.1.%d.%d", s / 250, s % 250 + 1);
		fd = bound_socket(SOCK_DGRAM, src, 0);
		for (int i = 0; i < EACH; i++)
			(void)sendto(fd, "flood", 5, 0, (struct sockaddr *)&to, sizeof(to));
		close(fd);
	}
	/* Until echod has counted what reached it (the kernel may have dropped some). */
	snprintf(path, sizeof(path), "listeners.udp 127.0.0.1:%d.refused.acl", port);
	seen = wait_stat(&p, SOURCES * EACH, path);
	do {
		before = seen;
		usleep(200000);
		seen = wait_stat(&p, 0, path);
	} while (seen != before);
	ck_assert_msg(seen >= SOURCES * EACH / 10, "only %" PRIu64 " refusals counted", seen);
	/* The next tick says how many were not logged. */
	err[0] = '\n';
	err[1] = '\0';
	for (long end = now_ms() + harness_scale_ms(ANSWER_MS); now_ms() < end &&
	    strstr(err, "not logged") == NULL;)
		harness_read_stderr(&p, err, sizeof(err), 100);
	ck_assert_msg(strstr(err, "not logged") != NULL, "no 'not logged' warning");
	harness_read_stderr(&p, err, sizeof(err), 200);
	secs = (now_ms() - start) / 1000 + 2;
	lines = refusal_lines(err);
	fprintf(stderr, "flood: %" PRIu64 " refusals counted, %d log lines in about %ld s\n",
	    seen, lines, secs);
	ck_assert_int_ge(lines, 2);
	ck_assert_msg(lines <= (LINES_PER_S + 1) * secs, "%d refusal lines in %ld s", lines, secs);
	ck_assert_int_eq(harness_stop(&p), 0);
	harness_cleanup(&p);
}
END_TEST

/* A journal field of the SIGUSR1 entry: ECHOD_ and the name in upper case. */
static bool
has_field(char **fields, const char *name, const char *sub, uint64_t value)
{
	char want[128];
	char *w;

	snprintf(want, sizeof(want), "ECHOD_%s%s%s=%" PRIu64, name, sub != NULL ? "_" : "",
	    sub != NULL ? sub : "", value);
	for (w = want; *w != '='; w++)
		*w = (char)toupper((unsigned char)*w);
	for (size_t i = 0; fields[i] != NULL; i++)
		if (strcmp(fields[i], want) == 0)
			return true;
	return false;
}

/* Every counter of counters.h, and every process value, is a field with its value. */
START_TEST(sigusr1_fields_complete)
{
	struct stats_snapshot snap = { .version = "9.9" };
	char *fields[64];
	size_t n;

	for (int i = 0; i < STAT_COUNT; i++)
		snap.total.v[i] = 1000 + (uint64_t)i;
	snap.proc.uptime_seconds = 11;
	snap.proc.workers = 3;
	snap.proc.reloads_ok = 4;
	snap.proc.reloads_failed = 5;
	snap.proc.buffered_bytes = 6;
	snap.proc.buffered_bytes_peak = 7;
	snap.proc.source_table_evictions = 8;
	n = stats_format_fields(&snap, fields, 64);
	/* The version, each process value (counters.h's second table), each counter. */
#define ONE(name, kind, metric, label, help) + 1
	ck_assert_uint_eq(n, 1 + (0 ECHOD_PROCESS_STATS(ONE)) + STAT_COUNT);
#undef ONE
	ck_assert_str_eq(fields[0], "ECHOD_VERSION=9.9");
	ck_assert(has_field(fields, "uptime_seconds", NULL, 11));
	ck_assert(has_field(fields, "reloads_failed", NULL, 5));
	ck_assert(has_field(fields, "buffered_bytes_peak", NULL, 7));
	ck_assert(has_field(fields, "source_table_evictions", NULL, 8));
	for (size_t k = 0; k < stats_nrows; k++) {
		const struct stats_row *r = &stats_rows[k];

		for (unsigned i = 0; i < r->n; i++)
			ck_assert_msg(has_field(fields, r->name, r->n == 1 ? NULL :
			    stats_row_value(r, i), 1000 + r->first + i),
			    "no field for %s[%u]", r->name, i);
	}
	ck_assert(has_field(fields, "refused", "max_buffered", 1000 + STAT_refused +
	    REFUSAL_MAX_BUFFERED));
	ck_assert_ptr_null(fields[n]);
	stats_fields_free(fields);
}
END_TEST

/* SIGUSR1 on a running echod: its summary line (the fields go to the journal). */
START_TEST(sigusr1_logs_summary)
{
	struct harness_service svc = { .stderr_pipe = true };
	struct echod_proc p;
	char err[8192] = "";

	harness_serve(&p, &svc);
	harness_signal(&p, SIGUSR1);
	for (long end = now_ms() + harness_scale_ms(ANSWER_MS); now_ms() < end &&
	    strstr(err, "statistics: up ") == NULL;)
		harness_read_stderr(&p, err, sizeof(err), 100);
	ck_assert_msg(strstr(err, "statistics: up ") != NULL, "%s", err);
	ck_assert_int_eq(harness_stop(&p), 0);
	harness_cleanup(&p);
}
END_TEST

/*
 * Issue 24: a shell splits every key of `echodctl stats` into the listener's
 * name and the counter, with names holding dots, "]", "=" and a byte that is
 * not UTF-8 (written \xff). The awk program is the rule echodctl(8) gives:
 * the name runs to the last "].", the counter from there to the "=".
 */
#define SPLIT_AWK "awk '/^listener\\[/ { if (!match($0, /^listener\\[.*\\]\\./)) " \
	"{ print \"BAD \" $0; next } rest = substr($0, RLENGTH + 1); eq = index(rest, \"=\"); " \
	"print substr($0, 10, RLENGTH - 11) \"|\" substr(rest, 1, eq - 1) \"|\" " \
	"substr(rest, eq + 1); n++ } END { print n \" keys\" }'"

START_TEST(stats_keys_split)
{
	struct echod_proc p;
	const struct harness_service svc = { .unix_name = "a.b]=\\xff.sock" };
	static char text[65536];
	char want[256], path[128];
	int port, fd;

	port = harness_serve(&p, &svc);
	snprintf(path, sizeof(path), "%s/a.b]=\xff.sock", p.dir);
	fd = unix_connect_path(path);
	ck_assert_int_ge(fd, 0);
	ck_assert(echoed(fd, 10));
	close(fd);
	wait_stat(&p, 1, "total.connections_closed");
	ck_assert_int_eq(harness_echodctl(&p, "stats | " SPLIT_AWK, text, sizeof(text)), 0);
	ck_assert_msg(strstr(text, "BAD ") == NULL, "unsplit key in:\n%s", text);
	snprintf(want, sizeof(want), "unix %s/a.b]=\\xff.sock|connections_accepted|1\n", p.dir);
	ck_assert_msg(strstr(text, want) != NULL, "no %s in:\n%s", want, text);
	snprintf(want, sizeof(want), "unix %s/a.b]=\\xff.sock|echoed_bytes|10\n", p.dir);
	ck_assert_msg(strstr(text, want) != NULL, "no %s in:\n%s", want, text);
	snprintf(want, sizeof(want), "\ntcp 127.0.0.1:%d|refused.acl|0\n", port);
	ck_assert_msg(strstr(text, want) != NULL, "no %s in:\n%s", want, text);
	snprintf(want, sizeof(want), "\nudp 127.0.0.1:%d|datagrams_echoed|0\n", port);
	ck_assert_msg(strstr(text, want) != NULL, "no %s in:\n%s", want, text);
	/* Every line of the output was split: as many as echodctl printed keys. */
	ck_assert_int_eq(harness_echodctl(&p, "stats | grep -c '^listener\\['", want,
	    sizeof(want)), 0);
	ck_assert_int_gt(atoi(want), 20);
	snprintf(path, sizeof(path), "\n%d keys\n", atoi(want));
	ck_assert_msg(strstr(text, path) != NULL, "%s expected in:\n%s", path + 1, text);
	ck_assert_int_eq(harness_stop(&p), 0);
	harness_cleanup(&p);
}
END_TEST

static Suite *
stats_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc;

	tc = harness_tcase(s, "unit", 10);
	tcase_add_test(tc, sigusr1_fields_complete);
	tc = harness_tcase(s, "traffic", 60);
	tcase_add_test(tc, counters_follow_traffic);
	tcase_add_test(tc, sigusr1_logs_summary);
	tcase_add_test(tc, stats_keys_split);
	tc = harness_tcase(s, "refusals", 60);
	tcase_add_loop_test(tc, each_refusal_reason, 0, sizeof(reasons) / sizeof(reasons[0]));
	tcase_add_test(tc, unlisted_refused);
	tc = harness_tcase(s, "flood", 120);
	tcase_add_test(tc, refusal_log_bounded_under_flood);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(stats_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return harness_exit_status(failed, false);
}
