/* SPDX-License-Identifier: MIT */
/* check_metrics_http: the metrics endpoint over loopback: statuses, limits, slow clients, stop. */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "http-probe.h"
#include "log.h"
#include "metrics_http.h"

/* A small, realistic exposition: what the real renderer will produce, in both formats. */
static const char text_body[] =
	"# HELP echod_tcp_accepted_total TCP connections accepted.\n"
	"# TYPE echod_tcp_accepted_total counter\n"
	"echod_tcp_accepted_total{protocol=\"tcp\",address=\"127.0.0.1:7\"} 42\n"
	"# HELP echod_tcp_open TCP connections open now.\n"
	"# TYPE echod_tcp_open gauge\n"
	"echod_tcp_open{protocol=\"tcp\",address=\"127.0.0.1:7\"} 3\n"
	"# HELP echod_refused_total Clients refused, by reason.\n"
	"# TYPE echod_refused_total counter\n"
	"echod_refused_total{reason=\"acl\"} 1\n"
	"echod_refused_total{reason=\"connection_rate\"} 41\n"
	"# HELP echod_echoed_bytes_total Bytes echoed.\n"
	"# TYPE echod_echoed_bytes_total counter\n"
	"echod_echoed_bytes_total 123456\n";

static const char om_body[] =
	"# TYPE echod_tcp_accepted counter\n"
	"# HELP echod_tcp_accepted TCP connections accepted.\n"
	"echod_tcp_accepted_total{protocol=\"tcp\",address=\"127.0.0.1:7\"} 42\n"
	"# EOF\n";

/* The test renderer; the endpoint calls it from its own thread. */
static struct renderer {
	atomic_int calls;
	atomic_bool fail;
	atomic_bool last_openmetrics;
	atomic_size_t big;		/* > 0: a body of this many bytes instead */
} rend;

static int
render_cb(void *arg, bool openmetrics, char **text, size_t *len)
{
	struct renderer *r = arg;
	size_t big = atomic_load(&r->big);

	atomic_fetch_add(&r->calls, 1);
	atomic_store(&r->last_openmetrics, openmetrics);
	if (atomic_load(&r->fail))
		return -1;
	if (big > 0) {
		*text = malloc(big);
		if (*text == NULL)
			return -1;
		memset(*text, '#', big);
		*len = big;
		return 0;
	}
	*text = strdup(openmetrics ? om_body : text_body);
	if (*text == NULL)
		return -1;
	*len = strlen(*text);
	return 0;
}

/* One endpoint on a loopback port of its own. */
struct endpoint {
	int fd;
	int port;
	struct metrics_http *m;
};

static void
endpoint_start(struct endpoint *e, const char *ip, const struct metrics_http_conf *conf)
{
	memset(&rend, 0, sizeof(rend));
	e->fd = harness_socket(SOCK_STREAM, ip, 0);
	ck_assert_int_ge(e->fd, 0);
	e->port = harness_socket_port(e->fd);
	e->m = metrics_http_start(e->fd, conf, render_cb, &rend);
	ck_assert_msg(e->m != NULL, "metrics_http_start: %s", strerror(errno));
}

static void
endpoint_stop(struct endpoint *e)
{
	metrics_http_stop(e->m);
	close(e->fd);
}

/* A TCP connection to ip:port from the local address src (NULL: any); it must succeed. */
static int
connect_from(const char *src, const char *ip, int port)
{
	int fd = http_connect(src, ip, port);

	ck_assert_msg(fd >= 0, "connect: %s", strerror(errno));
	return fd;
}

/* One request on a fresh connection ("Connection: close" is the caller's to add). */
static void
exchange(const struct endpoint *e, const char *request, struct http_response *r)
{
	int fd = connect_from(NULL, "127.0.0.1", e->port);

	http_send_all(fd, request, strlen(request));
	http_read_response(fd, r, strncmp(request, "HEAD ", 5) == 0, 5000);
	close(fd);
}

#define GET_METRICS "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
#define GET_KEEP "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

START_TEST(get_metrics)
{
	struct endpoint e;
	struct http_response r;
	char buf[256];

	endpoint_start(&e, "127.0.0.1", NULL);
	exchange(&e, GET_METRICS, &r);
	ck_assert_msg(r.status == 200, "response: %s", r.raw);
	ck_assert_str_eq(http_header(&r, "Content-Type", buf, sizeof(buf)), METRICS_HTTP_TEXT_TYPE);
	ck_assert_uint_eq(r.body_len, strlen(text_body));
	ck_assert(memcmp(r.body, text_body, r.body_len) == 0);
	ck_assert(!atomic_load(&rend.last_openmetrics));
	/* The query string is not part of the path. */
	exchange(&e, "GET /metrics?name[]=x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
	    &r);
	ck_assert_int_eq(r.status, 200);
	endpoint_stop(&e);
}
END_TEST

START_TEST(head_has_no_body)
{
	struct endpoint e;
	struct http_response r;
	char buf[256];
	int fd;

	endpoint_start(&e, "127.0.0.1", NULL);
	fd = connect_from(NULL, "127.0.0.1", e.port);
	http_send_all(fd, "HEAD /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 54);
	/* Read to EOF: whatever came after the headers would be a body. */
	http_read_response(fd, &r, false, 5000);
	close(fd);
	ck_assert_msg(r.status == 200, "response: %s", r.raw);
	ck_assert(r.closed);
	ck_assert_str_eq(http_header(&r, "Content-Type", buf, sizeof(buf)), METRICS_HTTP_TEXT_TYPE);
	ck_assert_uint_eq(r.body_len, 0);
	endpoint_stop(&e);
}
END_TEST

START_TEST(other_methods_405)
{
	static const char *const requests[] = {
		"POST /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
		    "Connection: close\r\n\r\nhello",
		"PUT /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n"
		    "Connection: close\r\n\r\n",
		"DELETE /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
		"OPTIONS * HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
		"TRACE /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
		"BREW /other HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
	};
	struct endpoint e;
	struct http_response r;
	char buf[256];

	endpoint_start(&e, "127.0.0.1", NULL);
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
		exchange(&e, requests[i], &r);
		ck_assert_msg(r.status == 405, "%.12s: %s", requests[i], r.raw);
		ck_assert_msg(http_header(&r, "Allow", buf, sizeof(buf)) != NULL &&
		    strcmp(buf, "GET, HEAD") == 0, "%.12s: %s", requests[i], r.raw);
	}
	ck_assert_int_eq(atomic_load(&rend.calls), 0);
	endpoint_stop(&e);
}
END_TEST

START_TEST(other_paths_404)
{
	static const char *const paths[] = {
		"/", "/other", "/metrics/", "/metricsx", "/Metrics", "/metrics/../metrics",
		"//metrics",
	};
	struct endpoint e;
	struct http_response r;
	char req[256];

	endpoint_start(&e, "127.0.0.1", NULL);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		snprintf(req, sizeof(req),
		    "GET %s HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", paths[i]);
		exchange(&e, req, &r);
		ck_assert_msg(r.status == 404, "%s: %s", paths[i], r.raw);
	}
	ck_assert_int_eq(atomic_load(&rend.calls), 0);
	endpoint_stop(&e);
}
END_TEST

START_TEST(render_failure_500)
{
	struct endpoint e;
	struct http_response r;

	endpoint_start(&e, "127.0.0.1", NULL);
	atomic_store(&rend.fail, true);
	exchange(&e, GET_METRICS, &r);
	ck_assert_msg(r.status == 500, "response: %s", r.raw);
	atomic_store(&rend.fail, false);
	exchange(&e, GET_METRICS, &r);
	ck_assert_int_eq(r.status, 200);
	endpoint_stop(&e);
}
END_TEST

START_TEST(malformed_request_400)
{
	static const char *const bad[] = {
		"GET /metrics\r\nHost: a\r\n\r\n",			/* no version */
		"GET /metrics HTTX/1.1\r\nHost: a\r\n\r\n",
		"GET /metrics HTTP/1.1 extra\r\nHost: a\r\n\r\n",
		"GET  HTTP/1.1\r\nHost: a\r\n\r\n",			/* no target */
		"GET /metrics HTTP/1.1\r\nHost a\r\n\r\n",		/* header without colon */
		"GET /metrics HTTP/1.1\r\n\r\n",			/* HTTP/1.1 without Host */
	};
	/* MHD closes on these without an answer: a 4xx would do as well. */
	static const char *const worse[] = {
		"GET\r\n\r\n",
		"GET /metr ics HTTP/1.1\r\nHost: a\r\n\r\n",
		"\x01\x02garbage\r\n\r\n",
	};
	struct metrics_http_conf conf = { .timeout_s = 1 };
	struct endpoint e;
	struct http_response r;

	endpoint_start(&e, "127.0.0.1", &conf);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		exchange(&e, bad[i], &r);
		ck_assert_msg(r.status == 400, "request %zu: %s", i, r.raw);
	}
	for (size_t i = 0; i < sizeof(worse) / sizeof(worse[0]); i++) {
		exchange(&e, worse[i], &r);
		ck_assert_msg((r.status == 0 && r.closed) || (r.status >= 400 && r.status < 500),
		    "request %zu: %s", i, r.raw);
	}
	ck_assert_int_eq(atomic_load(&rend.calls), 0);
	exchange(&e, GET_METRICS, &r);
	ck_assert_int_eq(r.status, 200);
	endpoint_stop(&e);
}
END_TEST

/* 64 KiB of header: a 4xx or a closed connection, and the endpoint serves on. */
START_TEST(huge_header_refused)
{
	size_t size = 64 * 1024;
	char *req = malloc(size + 256);
	struct endpoint e;
	struct http_response r;
	int n, fd;

	ck_assert_ptr_nonnull(req);
	endpoint_start(&e, "127.0.0.1", NULL);
	n = snprintf(req, 256, "GET /metrics HTTP/1.1\r\nHost: a\r\nX-Big: ");
	memset(req + n, 'x', size);
	memcpy(req + n + size, "\r\n\r\n", 5);
	fd = connect_from(NULL, "127.0.0.1", e.port);
	http_send_all(fd, req, strlen(req));
	http_read_response(fd, &r, false, 5000);
	close(fd);
	ck_assert_msg(r.status == 0 || (r.status >= 400 && r.status < 500), "response: %.200s",
	    r.raw);
	ck_assert_msg(r.status != 0 || r.closed, "neither an answer nor a close");
	ck_assert_int_eq(atomic_load(&rend.calls), 0);
	/* A long URL too. */
	n = snprintf(req, 256, "GET /metrics?");
	memset(req + n, 'q', size);
	snprintf(req + n + size, 256, " HTTP/1.1\r\nHost: a\r\n\r\n");
	fd = connect_from(NULL, "127.0.0.1", e.port);
	http_send_all(fd, req, strlen(req));
	http_read_response(fd, &r, false, 5000);
	close(fd);
	ck_assert_msg(r.status == 0 || (r.status >= 400 && r.status < 500), "response: %.200s",
	    r.raw);
	exchange(&e, GET_METRICS, &r);
	ck_assert_int_eq(r.status, 200);
	endpoint_stop(&e);
	free(req);
}
END_TEST

START_TEST(openmetrics_negotiated)
{
	/* What Prometheus 2.x sends when it may scrape OpenMetrics. */
	static const char prom[] = "application/openmetrics-text;version=1.0.0,"
	    "application/openmetrics-text;version=0.0.1;q=0.75,"
	    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
	struct endpoint e;
	struct http_response r;
	char req[512], buf[256];

	endpoint_start(&e, "127.0.0.1", NULL);
	snprintf(req, sizeof(req), "GET /metrics HTTP/1.1\r\nHost: a\r\nAccept: %s\r\n"
	    "Connection: close\r\n\r\n", prom);
	exchange(&e, req, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(atomic_load(&rend.last_openmetrics));
	ck_assert_str_eq(http_header(&r, "Content-Type", buf, sizeof(buf)),
	    METRICS_HTTP_OPENMETRICS_TYPE);
	ck_assert(r.body_len >= 6 && memcmp(r.body + r.body_len - 6, "# EOF\n", 6) == 0);

	exchange(&e, "GET /metrics HTTP/1.1\r\nHost: a\r\nAccept: text/plain\r\n"
	    "Connection: close\r\n\r\n", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(!atomic_load(&rend.last_openmetrics));
	ck_assert_str_eq(http_header(&r, "Content-Type", buf, sizeof(buf)), METRICS_HTTP_TEXT_TYPE);
	endpoint_stop(&e);

	ck_assert(metrics_http_wants_openmetrics(prom));
	ck_assert(metrics_http_wants_openmetrics("application/openmetrics-text"));
	ck_assert(metrics_http_wants_openmetrics(" Application/OpenMetrics-Text ; q=0.3"));
	ck_assert(metrics_http_wants_openmetrics("text/plain;q=0.5, application/openmetrics-text"));
	ck_assert(!metrics_http_wants_openmetrics(NULL));
	ck_assert(!metrics_http_wants_openmetrics(""));
	ck_assert(!metrics_http_wants_openmetrics("*/*"));
	ck_assert(!metrics_http_wants_openmetrics("text/plain"));
	ck_assert(!metrics_http_wants_openmetrics("application/openmetrics-text;q=0"));
	ck_assert(!metrics_http_wants_openmetrics("application/openmetrics-text;q=0.000"));
	ck_assert(!metrics_http_wants_openmetrics(
	    "application/openmetrics-text;q=0.5,text/plain;version=0.0.4"));
	ck_assert(!metrics_http_wants_openmetrics("application/openmetrics-textual"));
}
END_TEST

/* The body as served passes `promtool check metrics` (Debian's prometheus package). */
START_TEST(promtool_accepts_output)
{
	struct endpoint e;
	struct http_response r;
	FILE *p;
	int status;

	endpoint_start(&e, "127.0.0.1", NULL);
	exchange(&e, GET_METRICS, &r);
	ck_assert_int_eq(r.status, 200);
	endpoint_stop(&e);
	ck_assert_msg(system("command -v promtool >/dev/null") == 0,
	    "promtool not found: install the prometheus package (tools/deps.sh)");
	p = popen("promtool check metrics", "w");
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(fwrite(r.body, 1, r.body_len, p), r.body_len);
	status = pclose(p);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "promtool check metrics: status %d on:\n%.*s", status, (int)r.body_len, r.body);
	/* And it would catch a bad exposition: a counter without _total, a sample without HELP. */
	p = popen("promtool check metrics 2>/dev/null >/dev/null", "w");
	ck_assert_ptr_nonnull(p);
	fputs("# TYPE echod_accepted counter\necho_accepted 1\n", p);
	status = pclose(p);
	ck_assert_msg(!(WIFEXITED(status) && WEXITSTATUS(status) == 0), "promtool took anything");
}
END_TEST

START_TEST(start_rejects_non_listener)
{
	int udp = socket(AF_INET, SOCK_DGRAM, 0), tcp = socket(AF_INET, SOCK_STREAM, 0);

	errno = 0;
	ck_assert_ptr_null(metrics_http_start(-1, NULL, render_cb, &rend));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(metrics_http_start(tcp, NULL, render_cb, &rend));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(metrics_http_start(udp, NULL, render_cb, &rend));
	ck_assert_int_eq(errno, EINVAL);
	close(udp);
	close(tcp);
}
END_TEST

START_TEST(ipv6_listener)
{
	struct endpoint e;
	struct http_response r;
	int fd;

	if (!harness_have_ipv6()) {
		fprintf(stderr, "ipv6_listener: no IPv6 loopback here; not tested\n");
		return;
	}
	endpoint_start(&e, "::1", NULL);
	fd = connect_from(NULL, "::1", e.port);
	http_send_all(fd, GET_METRICS, strlen(GET_METRICS));
	http_read_response(fd, &r, false, 5000);
	close(fd);
	ck_assert_int_eq(r.status, 200);
	endpoint_stop(&e);
}
END_TEST

/* A client that sends half a request and stops holds its connection, nothing more. */
START_TEST(slow_client_does_not_stall)
{
	struct metrics_http_conf conf = { .timeout_s = 1 };
	struct endpoint e;
	struct http_response r;
	int slow;

	endpoint_start(&e, "127.0.0.1", &conf);
	slow = connect_from(NULL, "127.0.0.1", e.port);
	ck_assert(http_send_all(slow, "GET /metr", 9));
	exchange(&e, GET_METRICS, &r);
	ck_assert_int_eq(r.status, 200);
	/* The slow one is closed by the endpoint once silent for timeout_s. */
	ck_assert(peer_closed(slow, 10000));
	close(slow);
	endpoint_stop(&e);
}
END_TEST

/* A GET on a new connection until one is answered (the endpoint frees slots on its own time). */
static int
get_until_served(const struct endpoint *e, const char *src, int timeout_ms)
{
	struct timespec t0, t;
	struct http_response r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int fd = connect_from(src, "127.0.0.1", e->port);

		http_send_all(fd, GET_METRICS, strlen(GET_METRICS));
		http_read_response(fd, &r, false, 2000);
		close(fd);
		if (r.status != 0)
			return r.status;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 >
		    harness_scale_ms(timeout_ms))
			return 0;
		poll(NULL, 0, 50);
	}
}

/* n keep-alive connections from src, each served once: the endpoint holds them, idle. */
static void
open_idle(const struct endpoint *e, const char *src, int *fds, int n)
{
	struct http_response r;

	for (int i = 0; i < n; i++) {
		fds[i] = connect_from(src, "127.0.0.1", e->port);
		ck_assert(http_send_all(fds[i], GET_KEEP, strlen(GET_KEEP)));
		http_read_response(fds[i], &r, false, 5000);
		ck_assert_msg(r.status == 200 && !r.closed, "idle %d: %s", i, r.raw);
	}
}

/* One more connection from src than the per-address limit allows: closed at once. */
static void
assert_refused(const struct endpoint *e, const char *src)
{
	struct http_response r;
	int fd = connect_from(src, "127.0.0.1", e->port);

	http_send_all(fd, GET_METRICS, strlen(GET_METRICS));
	http_read_response(fd, &r, false, 5000);
	close(fd);
	ck_assert_msg(r.status == 0 && r.closed, "over the limit, yet: %s", r.raw);
}

/*
 * Over max_connections MHD stops accepting: a new client waits in the
 * socket's backlog until a slot frees, by a close or by the timeout.
 */
START_TEST(idle_connections_over_limit)
{
	struct metrics_http_conf conf = { .max_connections = 4, .max_per_ip = 8, .timeout_s = 30 };
	struct endpoint e;
	struct http_response r;
	int idle[4], extra;

	endpoint_start(&e, "127.0.0.1", &conf);
	open_idle(&e, NULL, idle, 4);
	extra = connect_from(NULL, "127.0.0.1", e.port);
	http_send_all(extra, GET_METRICS, strlen(GET_METRICS));
	/* Not answered while the four are held (they time out in 30 s, not in this wait). */
	http_read_response(extra, &r, false, 500);
	ck_assert_msg(r.status == 0 && !r.closed, "a fifth connection: %s", r.raw);
	for (int i = 0; i < 4; i++)
		close(idle[i]);
	http_read_response(extra, &r, false, 10000);
	ck_assert_msg(r.status == 200 || r.closed, "the fifth once the four closed: %s", r.raw);
	close(extra);
	ck_assert_int_eq(get_until_served(&e, NULL, 10000), 200);
	endpoint_stop(&e);

	/* Held until the endpoint times them out. */
	conf.timeout_s = 1;
	endpoint_start(&e, "127.0.0.1", &conf);
	open_idle(&e, NULL, idle, 4);
	for (int i = 0; i < 4; i++) {
		ck_assert_msg(peer_closed(idle[i], 10000), "idle %d never timed out", i);
		close(idle[i]);
	}
	ck_assert_int_eq(get_until_served(&e, NULL, 10000), 200);
	endpoint_stop(&e);
}
END_TEST

START_TEST(per_ip_limit)
{
	struct metrics_http_conf conf = { .max_connections = 16, .max_per_ip = 2 };
	struct endpoint e;
	struct http_response r;
	int idle[2], fd;

	endpoint_start(&e, "127.0.0.1", &conf);
	open_idle(&e, "127.0.0.1", idle, 2);
	assert_refused(&e, "127.0.0.1");
	fd = connect_from("127.0.0.2", "127.0.0.1", e.port);
	http_send_all(fd, GET_METRICS, strlen(GET_METRICS));
	http_read_response(fd, &r, false, 5000);
	close(fd);
	ck_assert_msg(r.status == 200, "another address: %s", r.raw);
	close(idle[0]);
	close(idle[1]);
	endpoint_stop(&e);
}
END_TEST

/* Stopping with clients in every state: each sees a close; the caller's socket serves again. */
START_TEST(stop_with_clients)
{
	struct endpoint e;
	struct http_response r;
	int idle[2], half, bare;

	endpoint_start(&e, "127.0.0.1", NULL);
	/* Accepted in order: once the idle ones were served, half was accepted too. */
	half = connect_from(NULL, "127.0.0.1", e.port);
	http_send_all(half, "GET /metrics HTTP/1.1\r\nHo", 25);
	open_idle(&e, NULL, idle, 2);
	bare = connect_from(NULL, "127.0.0.1", e.port);
	metrics_http_stop(e.m);
	ck_assert(peer_closed(idle[0], 5000));
	ck_assert(peer_closed(idle[1], 5000));
	ck_assert(peer_closed(half, 5000));
	close(idle[0]);
	close(idle[1]);
	close(half);
	close(bare);	/* maybe never accepted: still in the socket's backlog */

	e.m = metrics_http_start(e.fd, NULL, render_cb, &rend);
	ck_assert_ptr_nonnull(e.m);
	exchange(&e, GET_METRICS, &r);
	ck_assert_int_eq(r.status, 200);
	endpoint_stop(&e);
	metrics_http_stop(NULL);
}
END_TEST

/*
 * With SIGPIPE at its default (death), a client that resets mid-response
 * does not kill the process: the endpoint's sends cannot raise it.
 */
START_TEST(reset_mid_response_no_sigpipe)
{
	struct endpoint e;
	void (*old)(int) = signal(SIGPIPE, SIG_DFL);

	endpoint_start(&e, "127.0.0.1", NULL);
	atomic_store(&rend.big, (size_t)8 << 20);
	for (int i = 0; i < 5; i++) {
		struct linger lg = { 1, 0 };
		int fd = connect_from(NULL, "127.0.0.1", e.port);
		char c;

		http_send_all(fd, GET_METRICS, strlen(GET_METRICS));
		ck_assert_int_eq(recv_exact(fd, &c, 1, 5000), 1);
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);	/* RST while the endpoint still sends */
	}
	atomic_store(&rend.big, 0);
	ck_assert_int_eq(get_until_served(&e, NULL, 10000), 200);
	endpoint_stop(&e);
	signal(SIGPIPE, old);
}
END_TEST

/* The signals blocked in thread tid, from /proc (SigBlk: a hex mask, bit n-1 for signal n). */
static unsigned long long
thread_blocked(const char *tid)
{
	unsigned long long mask = 0;
	char path[320], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%s/status", tid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "SigBlk: %llx", &mask) == 1)
			break;
	fclose(f);
	return mask;
}

/*
 * echod takes its signals from a signalfd, which needs them blocked in every
 * thread: the endpoint's thread blocks them, whatever its starter's mask.
 */
START_TEST(thread_takes_no_signal)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD, SIGPIPE };
	struct endpoint e;
	struct http_response r;
	sigset_t none, old;
	struct dirent *d;
	char self[32];
	int others = 0;
	DIR *dir;

	sigemptyset(&none);
	pthread_sigmask(SIG_SETMASK, &none, &old);
	endpoint_start(&e, "127.0.0.1", NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* A new thread starts with all blocked until it sets its own: see it serve first. */
	exchange(&e, GET_METRICS, &r);
	ck_assert_int_eq(r.status, 200);
	snprintf(self, sizeof(self), "%ld", (long)gettid());
	dir = opendir("/proc/self/task");
	ck_assert_ptr_nonnull(dir);
	while ((d = readdir(dir)) != NULL) {
		unsigned long long mask;

		if (d->d_name[0] == '.' || strcmp(d->d_name, self) == 0)
			continue;
		mask = thread_blocked(d->d_name);
		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			ck_assert_msg(mask & (1ULL << (sigs[i] - 1)), "thread %s takes signal %d",
			    d->d_name, sigs[i]);
		others++;
	}
	closedir(dir);
	ck_assert_int_ge(others, 1);
	endpoint_stop(&e);
}
END_TEST

static Suite *
metrics_http_suite(void)
{
	Suite *s = suite_create("metrics_http");
	TCase *http = harness_tcase(s, "http", 30);
	TCase *limits = harness_tcase(s, "limits", 60);

	tcase_add_test(http, get_metrics);
	tcase_add_test(http, head_has_no_body);
	tcase_add_test(http, other_methods_405);
	tcase_add_test(http, other_paths_404);
	tcase_add_test(http, render_failure_500);
	tcase_add_test(http, malformed_request_400);
	tcase_add_test(http, huge_header_refused);
	tcase_add_test(http, openmetrics_negotiated);
	tcase_add_test(http, promtool_accepts_output);
	tcase_add_test(http, start_rejects_non_listener);
	tcase_add_test(http, ipv6_listener);
	tcase_add_test(limits, slow_client_does_not_stall);
	tcase_add_test(limits, idle_connections_over_limit);
	tcase_add_test(limits, per_ip_limit);
	tcase_add_test(limits, stop_with_clients);
	tcase_add_test(limits, reset_mid_response_no_sigpipe);
	tcase_add_test(limits, thread_takes_no_signal);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(metrics_http_suite());
	int failed;

	/* The endpoint logs its start and stop; the debug level shows what MHD says. */
	log_init(LOG_TARGET_STDERR, getenv("METRICS_DEBUG") != NULL ? LOG_DEBUG : LOG_WARNING);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return harness_exit_status(failed, false);
}
