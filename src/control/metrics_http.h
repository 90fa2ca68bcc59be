/* SPDX-License-Identifier: MIT */
/* metrics_http: the HTTP side of the Prometheus endpoint (libmicrohttpd, one thread of its own). */
#ifndef ECHOD_METRICS_HTTP_H
#define ECHOD_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Produce the exposition text: *text malloc'd (freed with free() once sent),
 * *len its length. openmetrics: the scraper asked for OpenMetrics 1.0.0, and
 * the text must then end with "# EOF\n" (OpenMetrics requires it; the Prometheus
 * text format 0.0.4 must not have it). Returns 0, or -1 (the scraper gets a 500).
 * Runs on the metrics thread, concurrently with the workers: read counters
 * atomically, take no lock that a worker may hold for long.
 */
typedef int metrics_render_fn(void *arg, bool openmetrics, char **text, size_t *len);

/* Limits; a zero field takes the default below. */
struct metrics_http_conf {
	unsigned max_connections;	/* open at once, all clients */
	unsigned max_per_ip;		/* open at once from one address */
	unsigned timeout_s;		/* a connection silent this long is closed */
	size_t memory_limit;		/* per connection: request line and headers must fit */
};

#define METRICS_HTTP_MAX_CONNECTIONS	16
#define METRICS_HTTP_MAX_PER_IP		4
#define METRICS_HTTP_TIMEOUT_S		5
#define METRICS_HTTP_MEMORY_LIMIT	(16 * 1024)

/*
 * Serve GET/HEAD /metrics on listen_fd, a bound and listening TCP socket
 * (echod's own, or one passed by systemd), from one thread started here with
 * every signal blocked. The caller keeps the fd: metrics_http_stop() never
 * closes it, so a socket passed by systemd survives a restart of the endpoint.
 * conf may be NULL (defaults). Returns NULL with errno set (EINVAL for a bad
 * fd, else libmicrohttpd's failure as EIO or its errno).
 */
struct metrics_http *metrics_http_start(int listen_fd, const struct metrics_http_conf *conf,
	    metrics_render_fn *render, void *arg);

/* Close every client connection, join the thread, free m (NULL is fine). */
void	metrics_http_stop(struct metrics_http *m);

/*
 * Content negotiation, exposed for tests: does this Accept header value
 * (NULL: none) prefer application/openmetrics-text over text/plain?
 */
bool	metrics_http_wants_openmetrics(const char *accept);

#define METRICS_HTTP_TEXT_TYPE		"text/plain; version=0.0.4; charset=utf-8"
#define METRICS_HTTP_OPENMETRICS_TYPE \
	"application/openmetrics-text; version=1.0.0; charset=utf-8"

#endif
