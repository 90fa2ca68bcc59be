/* SPDX-License-Identifier: MIT */
/* metrics_endpoint: the Prometheus endpoint's socket (echod's own or systemd's) and its life. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "metrics_endpoint.h"

/* Scrapers are few: a short queue is plenty, and bounds what a flood of SYNs can park. */
#define METRICS_ENDPOINT_BACKLOG	64

struct metrics_endpoint {
	int fd;
	struct metrics_http *http;
};

/*
 * Bind and listen on conf's address and port: a listening, non-blocking TCP
 * socket, or -1 with errno; logs nothing.
 */
static int
metrics_endpoint_listen(const struct echod_metrics_conf *conf)
{
	const struct sockaddr *sa = (const struct sockaddr *)&conf->addr;
	int fd, on = 1, saved;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	/* An address written "::" means IPv6 only, as for the listeners (echod.conf(5)). */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    (sa->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == -1) ||
	    bind(fd, sa, conf->addrlen) == -1 || listen(fd, METRICS_ENDPOINT_BACKLOG) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* What to do about a bind that failed, for the one warning that says it. */
static const char *
bind_hint(int error)
{
	switch (error) {
	case EACCES:
		return "a port below net.ipv4.ip_unprivileged_port_start needs the socket from "
		    "systemd (echod-metrics.socket, which echod-socket-generator derives from "
		    "echod.conf): systemctl daemon-reload && systemctl restart echod.socket";
	case EADDRINUSE:
		return "another program holds the port: pick another in the metrics block";
	case EADDRNOTAVAIL:
	case EAFNOSUPPORT:
		/* PrivateNetwork= hides the address; RestrictAddressFamilies= the family. */
		return "the address is not on this host or not in echod's network namespace "
		    "(PrivateNetwork=, RestrictAddressFamilies=): let systemd pass the socket "
		    "(echod-metrics.socket)";
	default:
		return "see echod.conf(5), metrics";
	}
}

/* Systemd's socket, as it is: a socket unit left from an older echod.conf still serves. */
static void
note_passed(int fd, const struct echod_metrics_conf *conf)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char have[ADDR_STRLEN], want[ADDR_STRLEN];

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    addr_equal((const struct sockaddr *)&ss, (const struct sockaddr *)&conf->addr))
		return;
	addr_format((const struct sockaddr *)&ss, len, have, sizeof(have));
	addr_format((const struct sockaddr *)&conf->addr, conf->addrlen, want, sizeof(want));
	log_notice("metrics: systemd passed %s but %s says %s: serving the passed socket until "
	    "systemctl daemon-reload && systemctl restart echod.socket", have, conf->where,
	    want);
}

struct metrics_endpoint *
metrics_endpoint_open(const struct echod_metrics_conf *conf, int passed_fd,
    metrics_render_fn *render, void *arg)
{
	struct metrics_endpoint *m;
	char name[ADDR_STRLEN];
	int saved;

	if (conf == NULL || !conf->enabled) {
		if (passed_fd != -1) {
			log_warnx("systemd passed a socket named metrics, but the configuration "
			    "has no metrics block: not served (echod.conf(5), metrics)");
			close(passed_fd);
		}
		errno = ENOENT;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		saved = errno;
		if (passed_fd != -1)
			close(passed_fd);
		log_warn("metrics endpoint");
		errno = saved;
		return NULL;
	}
	addr_format((const struct sockaddr *)&conf->addr, conf->addrlen, name, sizeof(name));
	if (passed_fd != -1) {
		m->fd = passed_fd;
		note_passed(passed_fd, conf);
	} else if ((m->fd = metrics_endpoint_listen(conf)) == -1) {
		saved = errno;
		log_warnx("metrics endpoint %s (%s): cannot listen: %s; echo goes on without it: "
		    "%s", name, conf->where, strerror(saved), bind_hint(saved));
		free(m);
		errno = saved;
		return NULL;
	}
	m->http = metrics_http_start(m->fd, NULL, render, arg);
	if (m->http == NULL) {
		saved = errno;
		log_warn("metrics endpoint %s (%s) did not start; echo goes on without it", name,
		    conf->where);
		close(m->fd);
		free(m);
		errno = saved;
		return NULL;
	}
	if (passed_fd != -1)
		log_info("metrics endpoint: socket passed by systemd (metrics)");
	return m;
}

void
metrics_endpoint_close(struct metrics_endpoint *m)
{
	if (m == NULL)
		return;
	metrics_http_stop(m->http);
	close(m->fd);
	free(m);
}
