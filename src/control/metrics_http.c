/* SPDX-License-Identifier: MIT */
/* metrics_http: serves GET/HEAD /metrics over libmicrohttpd, bounded in connections and size. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "addr.h"
#include "log.h"
#include "metrics_http.h"

struct metrics_http {
	struct MHD_Daemon *daemon;
	int fd;				/* our dup of the caller's socket, given to MHD */
	metrics_render_fn *render;
	void *arg;
	/* Answers that never change: built once, shared by every connection. */
	struct MHD_Response *not_found, *not_allowed, *failed;
	char name[ADDR_STRLEN];
};

static const char text_not_found[] = "404 not found: the only path is /metrics\n";
static const char text_not_allowed[] = "405 method not allowed: GET or HEAD only\n";
static const char text_failed[] = "500 internal server error: metrics unavailable\n";

/* "q=0.5" -> 500; the value is 0 to 1 with at most three decimals (RFC 9110, 12.4.2). */
static int
parse_qvalue(const char *s, size_t n)
{
	int q = 0, scale = 1000;
	size_t i = 0;

	if (n == 0 || (s[0] != '0' && s[0] != '1'))
		return 1000;
	q = (s[0] - '0') * 1000;
	if (n > 1 && s[1] == '.') {
		for (i = 2; i < n && i < 5 && s[i] >= '0' && s[i] <= '9'; i++) {
			scale /= 10;
			q += (s[i] - '0') * scale;
		}
	}
	return q > 1000 ? 1000 : q;
}

static const char *
skip_blanks(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* One element of an Accept list, "type/sub;param=v;q=0.5" in [s, end): its type and q in 1/1000. */
static void
parse_accept_element(const char *s, const char *end, const char **type, size_t *type_len,
    int *q)
{
	const char *p = memchr(s, ';', (size_t)(end - s));
	const char *type_end = p != NULL ? p : end;

	s = skip_blanks(s, type_end);
	while (type_end > s && (type_end[-1] == ' ' || type_end[-1] == '\t'))
		type_end--;
	*type = s;
	*type_len = (size_t)(type_end - s);
	*q = 1000;
	while (p != NULL) {
		const char *param = skip_blanks(p + 1, end);
		const char *stop = memchr(param, ';', (size_t)(end - param));

		if (stop == NULL)
			stop = end;
		if (stop - param >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=')
			*q = parse_qvalue(param + 2, (size_t)(stop - param - 2));
		p = stop < end ? stop : NULL;
	}
}

bool
metrics_http_wants_openmetrics(const char *accept)
{
	static const char om[] = "application/openmetrics-text", plain[] = "text/plain";
	int q_om = 0, q_plain = -1;

	if (accept == NULL)
		return false;
	while (*accept != '\0') {
		size_t n = strcspn(accept, ","), type_len;
		const char *type;
		int q;

		parse_accept_element(accept, accept + n, &type, &type_len, &q);
		if (type_len == sizeof(om) - 1 && strncasecmp(type, om, type_len) == 0)
			q_om = q > q_om ? q : q_om;
		else if (type_len == sizeof(plain) - 1 && strncasecmp(type, plain, type_len) == 0)
			q_plain = q > q_plain ? q : q_plain;
		accept += n;
		if (*accept == ',')
			accept++;
	}
	/* A tie goes to OpenMetrics: a scraper names it only when it can parse it. */
	return q_om > 0 && q_om >= q_plain;
}

static enum MHD_Result
reply_metrics(struct metrics_http *m, struct MHD_Connection *conn)
{
	const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_ACCEPT);
	bool om = metrics_http_wants_openmetrics(accept);
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *text = NULL;
	size_t len = 0;

	if (m->render(m->arg, om, &text, &len) == -1)
		return MHD_queue_response(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, m->failed);
	r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(text);
		return MHD_NO;		/* out of memory: MHD closes the connection */
	}
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    om ? METRICS_HTTP_OPENMETRICS_TYPE : METRICS_HTTP_TEXT_TYPE) == MHD_NO ||
	    MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT) == MHD_NO)
		ret = MHD_NO;
	else
		ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* *req: NULL for a new request, then one of these. */
static char answered, accepted;

/* A request body is announced: GET and HEAD take none, and none will be read. */
static bool
has_body(struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);

	return (cl != NULL && strspn(cl, "0") != strlen(cl)) ||
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
}

/*
 * MHD calls this once the headers are in, then once per piece of body, then
 * once more at the end of the request. Refusals are queued on the first call:
 * MHD then reads no body and closes the connection after the answer. A good
 * request is answered on the last call, which lets MHD keep the connection
 * alive for the scraper's next visit. No line is logged per request: a
 * scraper calls every few seconds, forever.
 */
static enum MHD_Result
metrics_http_cb(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **req)
{
	struct metrics_http *m = cls;

	if (*req == &answered) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*req == &accepted) {
		*req = &answered;
		return reply_metrics(m, conn);
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		*req = &answered;
		return MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, m->not_allowed);
	}
	if (strcmp(url, "/metrics") != 0) {
		*req = &answered;
		return MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, m->not_found);
	}
	if (has_body(conn)) {
		*req = &answered;
		return reply_metrics(m, conn);
	}
	*req = &accepted;
	return MHD_YES;
}

/*
 * MHD's own messages ("Server reached connection limit", a client's protocol
 * error) are about single clients, and a hostile one could make many: debug only.
 */
static void __attribute__((format(printf, 2, 0)))
metrics_http_log_cb(void *cls, const char *fmt, va_list ap)
{
	char text[512];
	size_t n;

	if (!log_enabled(LOG_DEBUG))
		return;
	vsnprintf(text, sizeof(text), fmt, ap);
	n = strlen(text);
	while (n > 0 && text[n - 1] == '\n')
		text[--n] = '\0';
	log_debug("metrics: %s", text);
}

static struct MHD_Response *
static_response(const char *text, size_t len, const char *allow)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)text,
	    MHD_RESPMEM_PERSISTENT);

	if (r == NULL)
		return NULL;
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; charset=utf-8") == MHD_NO ||
	    (allow != NULL && MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow) == MHD_NO)) {
		MHD_destroy_response(r);
		return NULL;
	}
	return r;
}

/* A listening TCP socket, named in m->name for the start and stop lines. */
static int
check_listener(int fd, struct metrics_http *m)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int type = 0, listening = 0;
	socklen_t optlen = sizeof(int);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &optlen) == -1)
		return -1;
	optlen = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optlen) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	if (type != SOCK_STREAM || !listening ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)) {
		errno = EINVAL;
		return -1;
	}
	addr_format((struct sockaddr *)&ss, len, m->name, sizeof(m->name));
	return 0;
}

/*
 * MHD's thread inherits this thread's signal mask. echod reads its signals
 * from a signalfd, which only works while no thread can take them: block
 * everything but the faults that must kill, whoever calls us.
 */
static struct MHD_Daemon *
start_daemon(struct metrics_http *m, const struct metrics_http_conf *conf)
{
	sigset_t all, old;
	struct MHD_Daemon *d;
	int saved;

	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	errno = 0;
	/*
	 * One internal thread with epoll: a scraper, slow or hostile, waits on
	 * that thread only, never on a worker. MHD_USE_ITC makes
	 * MHD_quiesce_daemon() possible, so that stopping never shuts the socket.
	 */
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
	    MHD_USE_ERROR_LOG, 0, NULL, NULL, metrics_http_cb, m,
	    MHD_OPTION_EXTERNAL_LOGGER, metrics_http_log_cb, m,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)m->fd,
	    MHD_OPTION_CONNECTION_LIMIT, conf->max_connections,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, conf->max_per_ip,
	    MHD_OPTION_CONNECTION_TIMEOUT, conf->timeout_s,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, conf->memory_limit,
	    MHD_OPTION_STRICT_FOR_CLIENT, 1,
	    MHD_OPTION_END);
	saved = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved != 0 ? saved : EIO;
	return d;
}

static void
conf_defaults(struct metrics_http_conf *c, const struct metrics_http_conf *in)
{
	if (in != NULL)
		*c = *in;
	else
		memset(c, 0, sizeof(*c));
	if (c->max_connections == 0)
		c->max_connections = METRICS_HTTP_MAX_CONNECTIONS;
	if (c->max_per_ip == 0)
		c->max_per_ip = METRICS_HTTP_MAX_PER_IP;
	if (c->timeout_s == 0)
		c->timeout_s = METRICS_HTTP_TIMEOUT_S;
	if (c->memory_limit == 0)
		c->memory_limit = METRICS_HTTP_MEMORY_LIMIT;
}

static void
metrics_http_free(struct metrics_http *m)
{
	if (m->not_found != NULL)
		MHD_destroy_response(m->not_found);
	if (m->not_allowed != NULL)
		MHD_destroy_response(m->not_allowed);
	if (m->failed != NULL)
		MHD_destroy_response(m->failed);
	if (m->fd != -1)
		close(m->fd);
	free(m);
}

struct metrics_http *
metrics_http_start(int listen_fd, const struct metrics_http_conf *conf,
    metrics_render_fn *render, void *arg)
{
	struct metrics_http_conf c;
	struct metrics_http *m;
	int saved;

	if (render == NULL || listen_fd < 0) {
		errno = EINVAL;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	m->render = render;
	m->arg = arg;
	/* MHD closes what it was given; a dup leaves the caller's socket to the caller. */
	m->fd = -1;
	if (check_listener(listen_fd, m) == -1 ||
	    (m->fd = fcntl(listen_fd, F_DUPFD_CLOEXEC, 3)) == -1)
		goto fail;
	m->not_found = static_response(text_not_found, sizeof(text_not_found) - 1, NULL);
	m->not_allowed = static_response(text_not_allowed, sizeof(text_not_allowed) - 1,
	    "GET, HEAD");
	m->failed = static_response(text_failed, sizeof(text_failed) - 1, NULL);
	if (m->not_found == NULL || m->not_allowed == NULL || m->failed == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	conf_defaults(&c, conf);
	m->daemon = start_daemon(m, &c);
	if (m->daemon == NULL)
		goto fail;
	log_info("metrics endpoint on http://%s/metrics", m->name);
	return m;
fail:
	saved = errno;
	metrics_http_free(m);
	errno = saved;
	return NULL;
}

void
metrics_http_stop(struct metrics_http *m)
{
	if (m == NULL)
		return;
	/*
	 * Quiesced first, MHD_stop_daemon() leaves the listening socket alone
	 * (it would shut it down, which stops the caller's fd listening too).
	 */
	(void)MHD_quiesce_daemon(m->daemon);
	MHD_stop_daemon(m->daemon);
	log_info("metrics endpoint on http://%s/metrics stopped", m->name);
	metrics_http_free(m);
}
