/* SPDX-License-Identifier: MIT */
/* check_metrics: echod's Prometheus endpoint: its socket (own or systemd's), hostile scrapers. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "harness.h"
#include "http-probe.h"
#include "log.h"
#include "metrics_endpoint.h"

/* Every renderer names this metric (spec of issue 12: echod_build_info{version=...} 1). */
#define KNOWN_METRIC	"echod_build_info"
#define GET_METRICS	"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
#define GET_OPENMETRICS	"GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\nAccept: " \
			"application/openmetrics-text; version=1.0.0\r\n\r\n"
#define HEAD_METRICS	"HEAD /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"

/* --- HTTP over loopback, by hand: the test must see exactly what a scraper sends -------- */

static long
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

/* One request on a fresh connection; status 0 when refused or unanswered. */
static void
exchange(int port, const char *request, size_t len, struct http_response *r)
{
	int fd = http_connect(NULL, "127.0.0.1", port);

	if (fd == -1) {
		memset(r, 0, sizeof(*r));
		r->closed = true;
		return;
	}
	http_send_all(fd, request, len);
	http_read_response(fd, r, strncmp(request, "HEAD ", 5) == 0, 5000);
	close(fd);
}

static int
get_status(int port)
{
	struct http_response r;

	exchange(port, GET_METRICS, strlen(GET_METRICS), &r);
	return r.status;
}

/* The body passes `promtool check metrics` (Debian's prometheus package). */
static void
assert_promtool_accepts(const struct http_response *r)
{
	FILE *p;
	int status;

	ck_assert_msg(system("command -v promtool >/dev/null") == 0,
	    "promtool not found: install the prometheus package (tools/deps.sh)");
	p = popen("promtool check metrics", "w");
	ck_assert_ptr_nonnull(p);
	fwrite(r->body, 1, r->body_len, p);
	status = pclose(p);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "promtool check metrics: status %d on:\n%.*s", status, (int)r->body_len, r->body);
}

/* --- echo traffic, which nothing on the metrics side may stall --------------------------- */

/* One TCP round trip and one UDP round trip on 127.0.0.1:port; true when both came back. */
static bool
echo_round_trip(int port, unsigned seed)
{
	unsigned char buf[700], got[sizeof(buf)];
	struct pollfd pfd;
	bool ok;
	int fd;

	random_fill(buf, sizeof(buf), seed);
	fd = tcp_connect_port(AF_INET, port);
	if (fd == -1)
		return false;
	ok = stream_echo_check(fd, buf, sizeof(buf), seed, 5000) == 0;
	close(fd);
	if (!ok)
		return false;
	fd = udp_socket_for(AF_INET, port);
	if (fd == -1)
		return false;
	pfd = (struct pollfd){ fd, POLLIN, 0 };
	ok = send(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf) &&
	    poll(&pfd, 1, harness_scale_ms(5000)) == 1 &&
	    recv(fd, got, sizeof(got), 0) == (ssize_t)sizeof(buf) &&
	    memcmp(got, buf, sizeof(buf)) == 0;
	close(fd);
	return ok;
}

/* Echo round trips in a thread of their own while the test troubles the endpoint. */
struct flow {
	int port;
	pthread_t thread;
	atomic_bool stop;
	atomic_int ok, failed;
};

#define FLOW_MAX_ROUNDS	20000	/* bounds the load whatever the timing */

static void *
flow_run(void *arg)
{
	struct flow *f = arg;

	for (unsigned i = 0; i < FLOW_MAX_ROUNDS && !atomic_load(&f->stop); i++) {
		if (echo_round_trip(f->port, i + 1))
			atomic_fetch_add(&f->ok, 1);
		else
			atomic_fetch_add(&f->failed, 1);
		poll(NULL, 0, 2);
	}
	return NULL;
}

static void
flow_start(struct flow *f, int port)
{
	memset(f, 0, sizeof(*f));
	f->port = port;
	ck_assert_int_eq(pthread_create(&f->thread, NULL, flow_run, f), 0);
}

/* Rounds the flow completes from now on, within timeout_ms: echo is still moving. */
static void
flow_assert_moving(struct flow *f, const char *during)
{
	int before = atomic_load(&f->ok);
	long deadline = now_ms() + harness_scale_ms(10000);

	while (atomic_load(&f->ok) < before + 3 && now_ms() < deadline)
		poll(NULL, 0, 5);
	ck_assert_msg(atomic_load(&f->ok) >= before + 3, "echo stalled during %s", during);
	ck_assert_msg(atomic_load(&f->failed) == 0, "%d echo round trips failed during %s",
	    atomic_load(&f->failed), during);
}

static void
flow_stop(struct flow *f)
{
	atomic_store(&f->stop, true);
	pthread_join(f->thread, NULL);
	ck_assert_int_eq(atomic_load(&f->failed), 0);
}

/* --- echod with a metrics block ----------------------------------------------------------- */

/* Until the endpoint answers (it starts right after READY=1), or timeout_ms: the status. */
static int
get_until_answered(int port, int timeout_ms)
{
	long deadline = now_ms() + harness_scale_ms(timeout_ms);
	int status;

	while ((status = get_status(port)) == 0 && now_ms() < deadline)
		poll(NULL, 0, 20);
	return status;
}

/*
 * echod serving echo on the harness's port (passed, named "echo") and binding
 * its metrics endpoint itself on *mport. A port free when picked may be taken
 * before echod binds it: tried again, 3 times.
 */
static int
serve_own_bind(struct echod_proc *p, int *mport)
{
	char settings[128];

	for (int attempt = 1; attempt <= 3; attempt++) {
		struct harness_service svc = { .settings = settings, .workers = 2 };
		int port;

		*mport = harness_free_port();
		snprintf(settings, sizeof(settings), "metrics = { port = %d; };\n", *mport);
		port = harness_serve(p, &svc);
		if (get_until_answered(*mport, 2000) == 200)
			return port;
		fprintf(stderr, "metrics on port %d did not answer (attempt %d)\n", *mport,
		    attempt);
		harness_stop(p);
		harness_cleanup(p);
	}
	ck_abort_msg("the metrics endpoint never answered");
	return -1;
}

/* GET /metrics: 200, the Prometheus text format, and promtool takes the body. */
START_TEST(own_bind_serves_prometheus_text)
{
	struct echod_proc p;
	struct http_response r;
	int mport;

	serve_own_bind(&p, &mport);
	exchange(mport, GET_METRICS, strlen(GET_METRICS), &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strcasestr(r.raw, "\r\nContent-Type: text/plain; version=0.0.4"));
	ck_assert_msg(memmem(r.body, r.body_len, KNOWN_METRIC, strlen(KNOWN_METRIC)) != NULL,
	    "no %s in:\n%s", KNOWN_METRIC, r.body);
	assert_promtool_accepts(&r);
	/* The scraper that asks for OpenMetrics gets it, ending as the format requires. */
	exchange(mport, GET_OPENMETRICS, strlen(GET_OPENMETRICS), &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strcasestr(r.raw, "\r\nContent-Type: application/openmetrics-text"));
	ck_assert(r.body_len >= 6 && memcmp(r.body + r.body_len - 6, "# EOF\n", 6) == 0);
	ck_assert_int_eq(harness_stop(&p), 0);
	/* Stopped with echod: nothing listens on the endpoint's port any more. */
	ck_assert_int_eq(http_connect(NULL, "127.0.0.1", mport), -1);
	harness_cleanup(&p);
}
END_TEST

/* The requests a scraper never sends, and what each must get. */
/*
 * Issue 23, item 8: the guard's per-source table (guard_get_stats(), once
 * called by nobody) and a stateful STAMP listener's session table reach
 * /metrics and `echodctl stats`, and promtool takes them.
 */
static int
serve_stamp_stateful(struct echod_proc *p, int *mport)
{
	char control[128];

	for (int attempt = 1; attempt <= 3; attempt++) {
		int sport = harness_free_port();

		*mport = harness_free_port();
		harness_init(p);
		harness_control_path(p, control, sizeof(control));
		harness_write_config(p, "control_socket = \"%s\";\nlisteners = (\n  { protocol = "
		    "\"stamp\"; port = %d; address = \"127.0.0.1\"; stamp_mode = \"stateful\"; "
		    "stamp_sessions = 64; }\n);\nmetrics = { port = %d; };\n", control, sport,
		    *mport);
		if (sport != *mport && harness_start(p, NULL, 0) == 0 &&
		    get_until_answered(*mport, 2000) == 200)
			return sport;
		harness_stop(p);
		harness_cleanup(p);
	}
	ck_abort_msg("echod with a stamp listener and metrics never answered");
	return -1;
}

static void
assert_has(const char *text, size_t len, const char *what)
{
	ck_assert_msg(memmem(text, len, what, strlen(what)) != NULL, "no '%s' in:\n%.*s", what,
	    (int)len, text);
}

START_TEST(source_and_session_tables_are_shown)
{
	unsigned char test[44] = { 0 }, reply[128];
	struct echod_proc p;
	struct http_response r;
	struct pollfd pfd;
	char want[256], stats[16384];
	int mport, sport, fd;

	sport = serve_stamp_stateful(&p, &mport);
	/* One unauthenticated test packet (sequence 0): one session begins. */
	fd = udp_socket_for(AF_INET, sport);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(send(fd, test, sizeof(test), 0), (ssize_t)sizeof(test));
	pfd = (struct pollfd){ fd, POLLIN, 0 };
	ck_assert_int_eq(poll(&pfd, 1, harness_scale_ms(5000)), 1);
	ck_assert_int_ge(recv(fd, reply, sizeof(reply), 0), 44);
	close(fd);
	exchange(mport, GET_METRICS, strlen(GET_METRICS), &r);
	ck_assert_int_eq(r.status, 200);
	assert_has(r.body, r.body_len, "# TYPE echod_source_table_evictions_total counter\n"
	    "echod_source_table_evictions_total 0\n");
	assert_has(r.body, r.body_len, "\nechod_source_table_full_total 0\n");
	assert_has(r.body, r.body_len, "\nechod_source_table_unbalanced_total 0\n");
	assert_has(r.body, r.body_len, "\nechod_source_table_capacity ");
	snprintf(want, sizeof(want), "\nechod_session_table_entries{protocol=\"stamp\","
	    "address=\"127.0.0.1:%d\"} 1\n", sport);
	assert_has(r.body, r.body_len, want);
	snprintf(want, sizeof(want), "\nechod_session_table_capacity{protocol=\"stamp\","
	    "address=\"127.0.0.1:%d\"} 64\n", sport);
	assert_has(r.body, r.body_len, want);
	snprintf(want, sizeof(want), "\nechod_session_table_created_total{protocol=\"stamp\","
	    "address=\"127.0.0.1:%d\"} 1\n", sport);
	assert_has(r.body, r.body_len, want);
	assert_promtool_accepts(&r);
	exchange(mport, GET_OPENMETRICS, strlen(GET_OPENMETRICS), &r);
	ck_assert_int_eq(r.status, 200);
	assert_has(r.body, r.body_len, "# TYPE echod_session_table_evicted counter\n");
	ck_assert_int_eq(harness_echodctl(&p, "stats", stats, sizeof(stats)), 0);
	assert_has(stats, strlen(stats), "\nechod.source_table_capacity=");
	assert_has(stats, strlen(stats), "\nechod.source_table_evictions=0\n");
	snprintf(want, sizeof(want), "\nlistener[stamp 127.0.0.1:%d].session_table_entries=1\n",
	    sport);
	assert_has(stats, strlen(stats), want);
	ck_assert_int_eq(harness_echodctl(&p, "stats --json", stats, sizeof(stats)), 0);
	assert_has(stats, strlen(stats), "\"session_table_created\":1");
	ck_assert_int_eq(harness_stop(&p), 0);
	harness_cleanup(&p);
}
END_TEST

static const struct {
	const char *what, *request;
	int status;			/* 0: a 4xx, or closed without an answer */
} hostile[] = {
	{ "POST", "POST /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc", 405 },
	{ "PUT", "PUT /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 405 },
	{ "DELETE", "DELETE /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 405 },
	{ "OPTIONS", "OPTIONS * HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 405 },
	{ "path /", "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 404 },
	{ "path /metrics/x", "GET /metrics/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
	    404 },
	{ "path ../", "GET /../etc/passwd HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
	    404 },
	{ "bad version", "GET /metrics HTTX/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "no Host", "GET /metrics HTTP/1.1\r\n\r\n", 400 },
	{ "header without colon", "GET /metrics HTTP/1.1\r\nHost a\r\n\r\n", 400 },
	{ "garbage", "\x01\x02\x03garbage\r\n\r\n", 0 },
};

START_TEST(hostile_requests_get_their_status_while_echo_flows)
{
	struct echod_proc p;
	struct http_response r;
	struct flow f;
	char *big;
	int port, mport;

	port = serve_own_bind(&p, &mport);
	flow_start(&f, port);
	flow_assert_moving(&f, "start");
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		exchange(mport, hostile[i].request, strlen(hostile[i].request), &r);
		if (hostile[i].status != 0)
			ck_assert_msg(r.status == hostile[i].status, "%s: want %d, got: %.300s",
			    hostile[i].what, hostile[i].status, r.raw);
		else
			ck_assert_msg((r.status >= 400 && r.status < 500) ||
			    (r.status == 0 && r.closed), "%s: got: %.300s", hostile[i].what, r.raw);
		if (hostile[i].status == 405)
			ck_assert_msg(strcasestr(r.raw, "\r\nAllow: GET, HEAD") != NULL, "%s: %s",
			    hostile[i].what, r.raw);
		flow_assert_moving(&f, hostile[i].what);
	}
	/* Oversized: 64 KiB of header, then 64 KiB of URL. */
	big = malloc(70000);
	ck_assert_ptr_nonnull(big);
	for (int k = 0; k < 2; k++) {
		int n = snprintf(big, 200, k == 0 ? "GET /metrics HTTP/1.1\r\nHost: a\r\nX-Big: " :
		    "GET /metrics?");

		memset(big + n, 'x', 65536);
		snprintf(big + n + 65536, 200, "%s", k == 0 ? "\r\n\r\n" : " HTTP/1.1\r\n\r\n");
		exchange(mport, big, strlen(big), &r);
		ck_assert_msg((r.status >= 400 && r.status < 500) || (r.status == 0 && r.closed),
		    "oversized %s: %.300s", k == 0 ? "header" : "URL", r.raw);
		flow_assert_moving(&f, "oversized request");
	}
	free(big);
	/* HEAD: the headers of a GET, no body. */
	exchange(mport, HEAD_METRICS, strlen(HEAD_METRICS), &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.body_len, 0);
	ck_assert_int_eq(get_status(mport), 200);
	flow_stop(&f);
	ck_assert_int_eq(harness_stop(&p), 0);
	harness_cleanup(&p);
}
END_TEST

/*
 * Slow clients take every connection the endpoint allows (16, at most 4 per
 * address: 127.0.0.2 to .5) and send half a request line. Echo goes on; the
 * endpoint closes them once silent for its timeout and serves again.
 */
START_TEST(slow_clients_stall_neither_echo_nor_the_endpoint)
{
	enum { SLOW = 16 };
	struct echod_proc p;
	struct flow f;
	int port, mport, slow[SLOW];
	char src[32];

	port = serve_own_bind(&p, &mport);
	flow_start(&f, port);
	for (int i = 0; i < SLOW; i++) {
		snprintf(src, sizeof(src), "127.0.0.%d", 2 + i / 4);
		slow[i] = http_connect(src, "127.0.0.1", mport);
		ck_assert_int_ge(slow[i], 0);
		ck_assert(http_send_all(slow[i], "GET /metr", 9));
	}
	flow_assert_moving(&f, "16 slow scrapers");
	for (int i = 0; i < SLOW; i++) {
		ck_assert_msg(peer_closed(slow[i], 20000), "slow client %d never closed", i);
		close(slow[i]);
	}
	ck_assert_int_eq(get_until_answered(mport, 10000), 200);
	flow_assert_moving(&f, "after the slow scrapers");
	flow_stop(&f);
	ck_assert_int_eq(harness_stop(&p), 0);
	harness_cleanup(&p);
}
END_TEST

/* A listening TCP socket on 127.0.0.1, bound here as systemd would; its port in *port. */
static int
metrics_socket(int *port)
{
	int fd = harness_socket(SOCK_STREAM, "127.0.0.1", 0);

	ck_assert_int_ge(fd, 0);
	*port = harness_socket_port(fd);
	return fd;
}

/*
 * echod with the echo sockets of the harness (named "echo") and the metrics
 * socket fd (named "metrics"), as echod.socket and echod-metrics.socket pass
 * them; metrics: the block for the configuration, or "". Returns the echo port.
 */
static int
serve_passing(struct echod_proc *p, int fd, const char *metrics)
{
	static const struct harness_socket set[] = {
		{ SOCK_STREAM, "127.0.0.1" }, { SOCK_DGRAM, "127.0.0.1" },
	};
	int port;

	harness_init(p);
	port = harness_listen_set(p, set, 2);
	harness_write_config(p, "listeners = (\n"
	    "  { protocol = \"tcp\"; port = %d; address = \"127.0.0.1\"; },\n"
	    "  { protocol = \"udp\"; port = %d; address = \"127.0.0.1\"; }\n"
	    ");\nworkers = 1;\n%s", port, port, metrics);
	ck_assert_int_eq(harness_start_passing(p, NULL, &fd, 1, "metrics", true), 0);
	return port;
}

/*
 * The socket systemd passes as "metrics" serves the endpoint (even where the
 * file names another port: the socket unit is rebuilt only on daemon-reload),
 * and is no echo listener.
 */
START_TEST(passed_socket_named_metrics_is_the_endpoint)
{
	struct echod_proc p;
	char block[128], err[8192] = "";
	int fd, mport, other, port;

	fd = metrics_socket(&mport);
	other = harness_free_port();
	snprintf(block, sizeof(block), "metrics = { address = \"127.0.0.1\"; port = %d; };\n",
	    other);
	port = serve_passing(&p, fd, block);
	ck_assert_int_eq(get_until_answered(mport, 5000), 200);
	/* Served on the passed socket, not on one of echod's own. */
	ck_assert_int_eq(http_connect(NULL, "127.0.0.1", other), -1);
	ck_assert(echo_round_trip(port, 7));
	fd = http_connect(NULL, "127.0.0.1", mport);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_ne(stream_probe(fd, 1000), PROBE_ECHOED);
	harness_read_stderr(&p, err, sizeof(err), 500);
	ck_assert_msg(strstr(err, "socket passed by systemd (metrics)") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "serving the passed socket") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "in no configured listener") == NULL,
	    "the metrics socket was taken for an echo listener: %s", err);
	ck_assert_int_eq(harness_stop(&p), 0);
	harness_cleanup(&p);
}
END_TEST

/* Passed as "metrics" with no metrics block: not served, said so, and echo is unharmed. */
START_TEST(passed_socket_without_block_is_not_served)
{
	struct echod_proc p;
	char err[8192] = "";
	int fd, mport, port;

	fd = metrics_socket(&mport);
	port = serve_passing(&p, fd, "");
	ck_assert(echo_round_trip(port, 8));
	harness_read_stderr(&p, err, sizeof(err), 500);
	ck_assert_msg(strstr(err, "no metrics block: not served") != NULL, "%s", err);
	/* echod closed it, and the test's copy went with the start: nothing listens. */
	ck_assert_int_eq(http_connect(NULL, "127.0.0.1", mport), -1);
	ck_assert_int_eq(harness_stop(&p), 0);
	harness_cleanup(&p);
}
END_TEST

/*
 * A privileged port that systemd does not pass: echod -t refuses the file;
 * started anyway, echod says why the endpoint is missing and serves echo.
 */
START_TEST(privileged_port_without_systemd)
{
	const char *args[] = { "-t", "-c", NULL, NULL };
	struct harness_service svc = {
		.settings = "metrics = { port = 1; };\n", .stderr_pipe = true,
	};
	struct echod_proc p;
	char out[8192] = "", want[256];
	FILE *f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "r");
	int start = 1024, port;

	if (f != NULL) {
		if (fscanf(f, "%d", &start) != 1)
			start = 1024;
		fclose(f);
	}
	if (start <= 1) {
		fprintf(stderr, "skipped: net.ipv4.ip_unprivileged_port_start = %d, port 1 is not "
		    "privileged here\n", start);
		return;
	}
	port = harness_serve(&p, &svc);
	ck_assert(echo_round_trip(port, 9));
	harness_read_stderr(&p, out, sizeof(out), 500);
	ck_assert_msg(strstr(out, "metrics endpoint 127.0.0.1:1") != NULL &&
	    strstr(out, "cannot listen: Permission denied") != NULL &&
	    strstr(out, "echo goes on without it") != NULL, "%s", out);
	args[2] = p.conf;
	out[0] = '\0';
	ck_assert_int_eq(harness_run(args, out, sizeof(out)), 78);
	/* Line 5: harness_serve() writes the settings after the listeners. */
	snprintf(want, sizeof(want), "%s:5: metrics port 1 is privileged", p.conf);
	ck_assert_msg(strstr(out, want) != NULL, "%s", out);
	ck_assert_int_eq(harness_stop(&p), 0);
	harness_cleanup(&p);
}
END_TEST

/* A bad metrics block: exit 78 with file:line, for -t and for a start alike. */
START_TEST(bad_block_exits_78_naming_file_and_line)
{
	const char *dir = getenv("TEST_DATA");
	const char *args[] = { "-t", "-c", NULL, NULL };
	char path[512], out[4096], want[600];

	snprintf(path, sizeof(path), "%s/metrics-keys.conf", dir != NULL ? dir : "data");
	snprintf(want, sizeof(want), "%s:3: unknown key 'adress' in metrics", path);
	args[2] = path;
	ck_assert_int_eq(harness_run(args, out, sizeof(out)), 78);
	ck_assert_msg(strstr(out, want) != NULL, "%s", out);
	args[0] = "--log-target=stderr";
	ck_assert_int_eq(harness_run(args, out, sizeof(out)), 78);
	ck_assert_msg(strstr(out, want) != NULL, "%s", out);
}
END_TEST

/* A reload that changes the block applies everything else and says it waits for a restart. */
START_TEST(reload_says_metrics_waits_for_restart)
{
	struct echod_proc p;
	char control[128], out[8192];
	int fd, mport, port;

	fd = metrics_socket(&mport);
	harness_init(&p);
	harness_control_path(&p, control, sizeof(control));
	port = harness_listen(&p, SOCK_STREAM, "127.0.0.1", 0);
	harness_write_config(&p, "listeners = ( { protocol = \"tcp\"; port = %d; address = "
	    "\"127.0.0.1\"; } );\ncontrol_socket = \"%s\";\nmetrics = { port = %d; };\n", port,
	    control, mport);
	ck_assert_int_eq(harness_start_passing(&p, NULL, &fd, 1, "metrics", false), 0);
	ck_assert_int_eq(get_until_answered(mport, 5000), 200);
	harness_write_config(&p, "listeners = ( { protocol = \"tcp\"; port = %d; address = "
	    "\"127.0.0.1\"; } );\ncontrol_socket = \"%s\";\nmetrics = { port = %d; };\n", port,
	    control, mport == 65535 ? 65534 : mport + 1);
	ck_assert_int_eq(harness_echodctl(&p, "reload", out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "metrics takes effect at the next restart") != NULL, "%s", out);
	ck_assert_int_eq(get_status(mport), 200);
	ck_assert_int_eq(harness_stop(&p), 0);
	harness_cleanup(&p);
}
END_TEST

/* --- metrics_endpoint.c alone, with a renderer of the test's own --------------------------- */

static atomic_int renders;

static int
stub_render(void *arg, bool openmetrics, char **text, size_t *len)
{
	atomic_fetch_add(&renders, 1);
	*text = strdup(openmetrics ? "# TYPE stub_up gauge\nstub_up 1\n# EOF\n" :
	    "# TYPE stub_up gauge\nstub_up 1\n");
	if (*text == NULL)
		return -1;
	*len = strlen(*text);
	return 0;
}

static void
conf_for(struct echod_metrics_conf *c, int port)
{
	memset(c, 0, sizeof(*c));
	c->enabled = true;
	c->port = port;
	c->where = "test:1";
	ck_assert_int_gt(harness_sockaddr("127.0.0.1", port, &c->addr), 0);
	c->addrlen = sizeof(struct sockaddr_in);
}

/* Own bind, serve, close: after close the port is free and nothing is rendered. */
START_TEST(endpoint_binds_serves_and_closes)
{
	struct echod_metrics_conf c;
	struct metrics_endpoint *m;
	struct http_response r;
	int port = harness_free_port();

	conf_for(&c, port);
	m = metrics_endpoint_open(&c, -1, stub_render, NULL);
	ck_assert_msg(m != NULL, "metrics_endpoint_open: %s", strerror(errno));
	exchange(port, GET_METRICS, strlen(GET_METRICS), &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "stub_up 1"));
	metrics_endpoint_close(m);
	ck_assert_int_eq(http_connect(NULL, "127.0.0.1", port), -1);
	/* Bound again at once: SO_REUSEADDR, so a restart never waits out TIME_WAIT. */
	m = metrics_endpoint_open(&c, -1, stub_render, NULL);
	ck_assert_ptr_nonnull(m);
	metrics_endpoint_close(m);
}
END_TEST

/* The port is another's: NULL, EADDRINUSE, and the other's socket untouched. */
START_TEST(endpoint_port_taken)
{
	struct echod_metrics_conf c;
	int port, fd = metrics_socket(&port);

	conf_for(&c, port);
	errno = 0;
	ck_assert_ptr_null(metrics_endpoint_open(&c, -1, stub_render, NULL));
	ck_assert_int_eq(errno, EADDRINUSE);
	ck_assert_int_ne(fcntl(fd, F_GETFD), -1);
	close(fd);
}
END_TEST

/* Off: a passed socket is closed (the endpoint owns it), ENOENT; on: it is served. */
START_TEST(endpoint_owns_the_passed_socket)
{
	struct echod_metrics_conf c = { .enabled = false };
	struct metrics_endpoint *m;
	int port, fd = metrics_socket(&port);

	errno = 0;
	ck_assert_ptr_null(metrics_endpoint_open(&c, fd, stub_render, NULL));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
	fd = metrics_socket(&port);
	conf_for(&c, port);
	atomic_store(&renders, 0);
	m = metrics_endpoint_open(&c, fd, stub_render, NULL);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(get_status(port), 200);
	ck_assert_int_eq(atomic_load(&renders), 1);
	metrics_endpoint_close(m);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
	ck_assert_int_eq(http_connect(NULL, "127.0.0.1", port), -1);
}
END_TEST

static Suite *
metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *unit = harness_tcase(s, "endpoint", 30);
	TCase *echod = harness_tcase(s, "echod", 120);

	tcase_add_test(unit, endpoint_binds_serves_and_closes);
	tcase_add_test(unit, endpoint_port_taken);
	tcase_add_test(unit, endpoint_owns_the_passed_socket);
	tcase_add_test(echod, own_bind_serves_prometheus_text);
	tcase_add_test(echod, source_and_session_tables_are_shown);
	tcase_add_test(echod, hostile_requests_get_their_status_while_echo_flows);
	tcase_add_test(echod, slow_clients_stall_neither_echo_nor_the_endpoint);
	tcase_add_test(echod, passed_socket_named_metrics_is_the_endpoint);
	tcase_add_test(echod, passed_socket_without_block_is_not_served);
	tcase_add_test(echod, privileged_port_without_systemd);
	tcase_add_test(echod, bad_block_exits_78_naming_file_and_line);
	tcase_add_test(echod, reload_says_metrics_waits_for_restart);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(metrics_suite());
	int failed;

	/* The endpoint's own lines (bind failures) go to this test's stderr. */
	log_init(LOG_TARGET_STDERR, LOG_WARNING);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return harness_exit_status(failed, false);
}
