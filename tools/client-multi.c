/* SPDX-License-Identifier: MIT */
/* echo-client with several HOSTs: resolved, added to one probe engine, driven by poll()
 * until every count is sent and answered (or timed out), -w's deadline or an interrupt. */
#include <err.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "client-io.h"
#include "client-multi.h"
#include "client-peer.h"

#define MULTI_EXIT_OK		0
#define MULTI_EXIT_FAILED	1
#define MULTI_EXIT_RESOLVE	2

/* The target conf of host's first address (getaddrinfo()'s order, as one HOST connects). */
static int
multi_add(struct probe_engine *e, const struct client_opts *o, struct multi_target *m)
{
	struct client_opts one = *o;
	struct peer *list = NULL;
	size_t n;
	struct probe_target_conf c = {
		.name = m->host,
		.proto = o->stamp ? PROBE_STAMP : o->socktype == SOCK_STREAM ? PROBE_TCP : PROBE_UDP,
		.interval = o->interval > 0 ? o->interval : 0.001, .timeout = o->timeout,
		.size = o->size, .dscp = o->tos >= 0 ? o->tos >> 2 : -1, .cos = o->cos,
		.ssid = o->ssid, .key = o->stamp_key_path != NULL ? &o->stamp_key : NULL,
		.count = o->count,
	};

	one.host = m->host;
	if (peer_resolve(&one, &list, &n) == -1)
		return MULTI_EXIT_RESOLVE;
	c.addr = (const struct sockaddr *)&list[0].addr;
	c.addrlen = list[0].addrlen;
	snprintf(m->peer, sizeof(m->peer), "%s", list[0].name);
	m->t = probe_target_add(e, &c);
	free(list);
	if (m->t == NULL) {
		warn("%s (%s)", m->host, m->peer);
		return MULTI_EXIT_FAILED;
	}
	return MULTI_EXIT_OK;
}

/* poll() the engine's sockets and tick it until it is done, the deadline or an interrupt. */
static void
multi_drive(struct probe_engine *e, double end, struct pollfd *pfd, int max)
{
	int n, i, r;

	probe_engine_tick(e, io_now());
	while (!probe_engine_done(e) && !io_interrupted() && io_now() < end) {
		n = probe_engine_pollfds(e, pfd, max);
		r = io_wait(pfd, (nfds_t)(n < max ? n : max), fmin(probe_engine_next(e), end));
		if (r == -1 && errno == EINTR)
			break;
		for (i = 0; r > 0 && i < n && i < max; i++)
			if (pfd[i].revents != 0)
				probe_engine_ready(e, pfd[i].fd, pfd[i].revents, io_now());
		probe_engine_tick(e, io_now());
	}
}

/* Every probe answered in time. */
static bool
multi_all_answered(const struct multi_target *m, double now)
{
	struct probe_figures f;

	probe_target_figures(m->t, now, &f);
	return f.sent > 0 && f.received - f.late == f.sent;
}

int
multi_run(const struct client_opts *o)
{
	struct probe_engine *e = probe_engine_new();
	struct multi_target *m = calloc(o->nhosts, sizeof(*m));
	struct pollfd *pfd = NULL;
	double now, end;
	size_t i;
	int ret = MULTI_EXIT_OK;

	if (e == NULL || m == NULL) {
		warn("probe engine");
		ret = MULTI_EXIT_FAILED;
		goto done;
	}
	for (i = 0; i < o->nhosts && ret == MULTI_EXIT_OK; i++) {
		m[i].host = o->hosts[i];
		ret = multi_add(e, o, &m[i]);
	}
	if (ret != MULTI_EXIT_OK)
		goto done;
	end = o->deadline > 0 ? io_now() + o->deadline : INFINITY;
	/* The shared sockets and a connection per TCP target, at most. */
	pfd = calloc(PROBE_MAX_FDS + o->nhosts, sizeof(*pfd));
	if (pfd == NULL) {
		warn("probe engine");
		ret = MULTI_EXIT_FAILED;
		goto done;
	}
	multi_drive(e, end, pfd, PROBE_MAX_FDS + (int)o->nhosts);
	now = io_now();
	for (i = 0; i < o->nhosts; i++) {
		multi_report(&m[i], o, now, stdout);
		if (!multi_all_answered(&m[i], now))
			ret = MULTI_EXIT_FAILED;
	}
done:
	probe_engine_free(e);
	free(pfd);
	free(m);
	return ret;
}
