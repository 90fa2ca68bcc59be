/* SPDX-License-Identifier: MIT */
/* metrics_endpoint: the Prometheus endpoint's socket (echod's own or systemd's) and its life. */
#ifndef ECHOD_METRICS_ENDPOINT_H
#define ECHOD_METRICS_ENDPOINT_H

#include "config.h"
#include "metrics_http.h"

struct metrics_endpoint;

/*
 * Serve GET /metrics for conf (cfg->metrics) with render(arg, ...) on its
 * own thread (metrics_http.h). passed_fd: the socket systemd passed
 * (activation_take_metrics_fd()), or -1 to bind conf's address and port
 * here. The endpoint owns passed_fd from here on, whatever the outcome.
 * Starts a thread: call it after privdrop_apply() (which wants none yet);
 * a port below net.ipv4.ip_unprivileged_port_start then needs the socket
 * from systemd. Nothing copied from conf is kept: a reload may free it.
 * Returns NULL with errno when there is no endpoint, each case logged:
 * ENOENT conf is off (a passed socket is then closed, with a warning);
 * else the bind or start failed (EACCES, EADDRINUSE, ...). Never fatal to
 * echod: the echo service does not depend on its metrics.
 */
struct metrics_endpoint *metrics_endpoint_open(const struct echod_metrics_conf *conf,
	    int passed_fd, metrics_render_fn *render, void *arg);

/* Stop serving (joins the thread, closes clients) and close the socket; NULL is fine. */
void	metrics_endpoint_close(struct metrics_endpoint *m);

#endif
