/* SPDX-License-Identifier: MIT */
/* probe_run: the configured probes, run on the control thread's loop; their figures published. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ownaddr.h"
#include "probe_resolve.h"
#include "probe_run.h"
#include "probe_sync.h"

/* One of the engine's sockets, watched by the loop (malloc'd: the loop keeps its address). */
struct pwatch {
	struct watcher w;
	struct probe_run *run;
	bool seen;
};

struct probe_run {
	struct loop *loop;
	struct probe_engine *engine;		/* NULL until a load with probes */
	struct probe_resolver *res;
	struct watcher res_w;
	struct ownaddr own;
	struct probe_sync sync;
	const struct echod_config *cfg;		/* the one loaded; NULL: none */
	const struct echod_config *keys_for;	/* sync.keys are read for it already */
	struct pwatch **w;
	size_t nw;
	struct pollfd *pfd;			/* room for probe_engine_pollfds() */
	int npfd;
	bool dirty;				/* the engine's sockets may have changed */
	uint64_t next_pub_ms;
	struct probe_pub pub;
};

static const char *const proto_names[] = {
	[PROBE_STAMP] = "stamp", [PROBE_UDP] = "udp", [PROBE_TCP] = "tcp"
};

struct probe_run *
probe_run_new(struct loop *loop)
{
	struct probe_run *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->loop = loop;
	probe_pub_init(&r->pub);
	return r;
}

static void
watchers_clear(struct probe_run *r)
{
	for (size_t i = 0; i < r->nw; i++) {
		(void)loop_del(r->loop, &r->w[i]->w);
		free(r->w[i]);
	}
	free(r->w);
	r->w = NULL;
	r->nw = 0;
}

/* Everything stops: no target, no engine, no resolver (remade by the next load). */
static void
run_stop(struct probe_run *r)
{
	watchers_clear(r);
	probe_sync_clear(&r->sync);
	if (r->res != NULL) {
		(void)loop_del(r->loop, &r->res_w);
		probe_resolver_free(r->res);
		r->res = NULL;
	}
	probe_engine_free(r->engine);
	r->engine = NULL;
	r->sync.engine = NULL;
	ownaddr_free(&r->own);
	r->cfg = NULL;
	r->keys_for = NULL;
}

void
probe_run_free(struct probe_run *r)
{
	if (r == NULL)
		return;
	run_stop(r);
	free(r->pfd);
	probe_pub_fini(&r->pub);
	free(r);
}

struct probe_pub *
probe_run_pub(struct probe_run *r)
{
	return &r->pub;
}

/* Every target's figures now, for the other threads. */
static void
publish(struct probe_run *r, uint64_t now_ms)
{
	struct probe_row *rows = calloc(r->sync.n + 1, sizeof(*rows));
	double now = probe_now();
	size_t n = 0;

	r->next_pub_ms = now_ms + PROBE_RUN_PUBLISH_MS;
	if (rows == NULL)
		return;		/* the last figures stay: next time */
	for (size_t i = 0; i < r->sync.n; i++) {
		const struct probe_held *h = r->sync.held[i];
		struct probe_row *row = &rows[n];

		if (h->t == NULL)
			continue;
		row->probe = strdup(h->probe);
		row->target = strdup(h->text);
		if (row->probe == NULL || row->target == NULL) {
			free(row->probe);
			free(row->target);
			row->probe = row->target = NULL;
			continue;
		}
		addr_format(h->c.addr, h->c.addrlen, row->address, sizeof(row->address));
		row->protocol = proto_names[h->c.proto];
		probe_target_figures(h->t, now, &row->f);
		row->p50 = probe_target_recent(h->t, now, 50);
		row->p99 = probe_target_recent(h->t, now, 99);
		n++;
	}
	probe_pub_swap(&r->pub, rows, n);
}

/* The targets as the configuration and the names' answers say: published at once if changed. */
static void
run_sync(struct probe_run *r)
{
	if (r->cfg == NULL || r->engine == NULL)
		return;
	if (probe_sync_apply(&r->sync, r->cfg, r->res, &r->own)) {
		r->dirty = true;
		r->next_pub_ms = 0;
	}
}

static void
resolver_cb(int fd, uint32_t events, void *arg)
{
	struct probe_run *r = arg;

	(void)fd;
	(void)events;
	probe_resolver_poll(r->res);
	run_sync(r);
}

static void
engine_cb(int fd, uint32_t events, void *arg)
{
	struct pwatch *pw = arg;
	short revents = 0;

	revents |= events & EPOLLIN ? POLLIN : 0;
	revents |= events & EPOLLOUT ? POLLOUT : 0;
	revents |= events & EPOLLERR ? POLLERR : 0;
	revents |= events & EPOLLHUP ? POLLHUP : 0;
	probe_engine_ready(pw->run->engine, fd, revents, probe_now());
	pw->run->dirty = true;
}

static uint32_t
epoll_events(short events)
{
	return (events & POLLIN ? EPOLLIN : 0) | (events & POLLOUT ? EPOLLOUT : 0);
}

/* The engine's sockets now, into r->pfd; their count, or -1 (ENOMEM). */
static int
engine_fds(struct probe_run *r)
{
	int n;

	while ((n = probe_engine_pollfds(r->engine, r->pfd, r->npfd)) > r->npfd) {
		struct pollfd *grown = realloc(r->pfd, (size_t)n * sizeof(*grown));

		if (grown == NULL)
			return -1;
		r->pfd = grown;
		r->npfd = n;
	}
	return n;
}

static struct pwatch *
watch_find(const struct probe_run *r, int fd)
{
	for (size_t i = 0; i < r->nw; i++)
		if (r->w[i]->w.fd == fd)
			return r->w[i];
	return NULL;
}

/* A socket the engine opened: watched from now on. */
static int
watch_add(struct probe_run *r, int fd, uint32_t events)
{
	struct pwatch *pw = calloc(1, sizeof(*pw)), **grown;

	grown = pw == NULL ? NULL : realloc(r->w, (r->nw + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(pw);
		return -1;
	}
	r->w = grown;
	pw->run = r;
	pw->seen = true;
	if (loop_add(r->loop, &pw->w, fd, events, engine_cb, pw) == -1) {
		free(pw);
		return -1;
	}
	r->w[r->nw++] = pw;
	return 0;
}

/*
 * The loop watches exactly the engine's sockets, for what it wants. Each
 * one is set again even when it looks unchanged: a TCP target's socket may
 * have been closed (which took it out of epoll) and its number reused.
 */
static void
watchers_sync(struct probe_run *r)
{
	int n = engine_fds(r);
	size_t kept = 0;

	if (n == -1)
		return;		/* stays dirty: tried again after the next batch */
	r->dirty = false;
	for (size_t i = 0; i < r->nw; i++)
		r->w[i]->seen = false;
	for (int i = 0; i < n; i++) {
		struct pwatch *pw = watch_find(r, r->pfd[i].fd);
		uint32_t ev = epoll_events(r->pfd[i].events);

		if (pw != NULL) {
			pw->seen = true;
			pw->w.events = 0;	/* forces the system call */
			if (loop_mod(r->loop, &pw->w, ev) == 0 || errno != ENOENT ||
			    loop_add(r->loop, &pw->w, pw->w.fd, ev, engine_cb, pw) == 0)
				continue;
		} else if (watch_add(r, r->pfd[i].fd, ev) == 0) {
			continue;
		}
		log_warn("probes: cannot watch socket %d", r->pfd[i].fd);
		r->dirty = true;
	}
	for (size_t i = 0; i < r->nw; i++) {
		if (r->w[i]->seen) {
			r->w[kept++] = r->w[i];
			continue;
		}
		(void)loop_del(r->loop, &r->w[i]->w);	/* ENOENT/EBADF when closed: fine */
		free(r->w[i]);
	}
	r->nw = kept;
}

/* The engine and the resolver, made at the first load that has probes. */
static int
run_start(struct probe_run *r)
{
	if (r->engine != NULL)
		return 0;
	if ((r->engine = probe_engine_new()) == NULL)
		return -1;
	r->sync.engine = r->engine;
	if ((r->res = probe_resolver_new(NULL)) == NULL)
		return -1;
	if (loop_add(r->loop, &r->res_w, probe_resolver_fd(r->res), EPOLLIN, resolver_cb,
	    r) == -1) {
		probe_resolver_free(r->res);
		r->res = NULL;
		return -1;
	}
	return 0;
}

int
probe_run_keys(struct probe_run *r, const struct echod_config *cfg)
{
	if (probe_sync_keys(&r->sync, cfg) == -1)
		return -1;
	r->keys_for = cfg;
	return 0;
}

int
probe_run_load(struct probe_run *r, const struct echod_config *cfg)
{
	struct ownaddr own;

	if (cfg->nprobes == 0 && r->engine == NULL)
		return 0;
	/* A reload's keys are read here, as echod's user (a key read before stays). */
	if (run_start(r) == -1 || (r->keys_for != cfg && probe_sync_keys(&r->sync, cfg) == -1) ||
	    probe_resolver_load(r->res, cfg) == -1)
		goto fail;
	r->keys_for = NULL;
	/* Addresses come and go (DHCP, a new interface): read them again at each load. */
	if (ownaddr_load(&own) == 0) {
		ownaddr_free(&r->own);
		r->own = own;
	} else {
		log_warn("probes: cannot list this host's addresses; the last list stays");
	}
	r->cfg = cfg;
	probe_resolver_poll(r->res);
	run_sync(r);
	r->dirty = true;
	return 0;
fail:
	/* The resolver's entries may point into a configuration about to go: drop it all. */
	log_warn("probes: cannot start them (every probe stops until a reload)");
	run_stop(r);
	probe_pub_swap(&r->pub, NULL, 0);
	return -1;
}

/* A probe_now() time as a loop_now() deadline, rounded up. */
static uint64_t
deadline_ms(double at, double now, uint64_t now_ms)
{
	if (isinf(at))
		return UINT64_MAX;
	return at <= now ? now_ms : now_ms + (uint64_t)ceil((at - now) * 1000);
}

uint64_t
probe_run_tick(struct probe_run *r, uint64_t now_ms)
{
	double now = probe_now();
	uint64_t next;

	if (r->engine == NULL)
		return UINT64_MAX;
	if (probe_resolver_next_ms(r->res) <= now_ms)
		probe_resolver_poll(r->res);
	if (probe_engine_next(r->engine) <= now) {
		probe_engine_tick(r->engine, now);
		r->dirty = true;
	}
	if (r->dirty)
		watchers_sync(r);
	if (now_ms >= r->next_pub_ms)
		publish(r, now_ms);
	next = deadline_ms(probe_engine_next(r->engine), now, now_ms);
	if (probe_resolver_next_ms(r->res) < next)
		next = probe_resolver_next_ms(r->res);
	if (r->sync.n > 0 && r->next_pub_ms < next)
		next = r->next_pub_ms;
	return next;
}
