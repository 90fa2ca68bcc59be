/* SPDX-License-Identifier: MIT */
/* server: the workers, the listener set, signals, reload and status: echod while it runs. */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "guard.h"
#include "log.h"
#include "notify.h"
#include "server.h"
#include "worker.h"

#define STATUS_INTERVAL_MS 1000
/* How often worker 0 looks whether every worker has applied a reload. */
#define RELOAD_POLL_MS 5

struct server {
	struct echod_config *cfg;
	struct tcp_shared shared;
	struct guard guard;
	bool guard_ready;
	struct worker **workers;
	size_t nworkers;
	struct listener_set listeners;
	int sigfd;
	struct watcher sig_watcher;
	uint64_t next_status_ms;
	uint64_t watchdog_ms, next_watchdog_ms;
	char status[256];
	/* A reload is done once every worker has applied it (then READY=1). */
	bool reloading;
	atomic_int reload_acks;
	int reload_failures;
	/* What workers may still read until they have all synced: freed by reload_finish(). */
	struct echod_config *retired_cfg;
	const struct guard_policy *retired_policy;
};

static int reload_finish(struct server *s);

static size_t
workers_wanted(const struct echod_config *cfg)
{
	cpu_set_t set;

	if (cfg->workers > 0)
		return (size_t)cfg->workers;
	/* One per CPU this process may run on (taskset and CPUAffinity= are respected). */
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (size_t)CPU_COUNT(&set);
	return 1;
}

static void
limits_apply(struct server *s, const struct echod_limits *limits)
{
	atomic_store(&s->shared.max_connections, limits->max_connections);
	atomic_store(&s->shared.idle_timeout, limits->idle_timeout);
	atomic_store(&s->shared.buffer_size, limits->buffer_size);
	atomic_store(&s->shared.max_buffered, limits->max_buffered_bytes);
}

/*
 * The ACL a listener applies under cfg: its configured one, else the top
 * level's (a socket systemd passed that no listener names). Unix: none.
 */
static const struct acl *
acl_for(const struct echod_config *cfg, const struct listener *l)
{
	if (l->spec.proto == PROTO_UNIX)
		return NULL;
	for (size_t i = 0; i < cfg->nlisteners; i++)
		if (listener_spec_same(&cfg->listeners[i], &l->spec))
			return &cfg->listeners[i].acl;
	return &cfg->acl;
}

static void
retire_free(struct server *s)
{
	config_free(s->retired_cfg);
	s->retired_cfg = NULL;
	guard_policy_free((struct guard_policy *)(uintptr_t)s->retired_policy);
	s->retired_policy = NULL;
}

struct server *
server_new(struct echod_config *cfg)
{
	struct server *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->cfg = cfg;
	s->sigfd = -1;
	limits_apply(s, &cfg->limits);
	if (guard_init(&s->guard, cfg) == -1)
		goto fail;
	s->guard_ready = true;
	s->nworkers = workers_wanted(cfg);
	s->workers = calloc(s->nworkers, sizeof(*s->workers));
	if (s->workers == NULL)
		goto fail;
	for (size_t i = 0; i < s->nworkers; i++)
		if ((s->workers[i] = worker_new((int)i, &s->shared, &s->guard)) == NULL)
			goto fail;
	return s;
fail:
	server_free(s);
	return NULL;
}

void
server_free(struct server *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; s->workers != NULL && i < s->nworkers; i++)
		worker_free(s->workers[i]);
	free(s->workers);
	listener_set_clear(&s->listeners);
	if (s->sigfd != -1)
		close(s->sigfd);
	/* After the workers: closing their connections updates the per-source table. */
	if (s->guard_ready)
		guard_fini(&s->guard);
	retire_free(s);
	config_free(s->cfg);
	free(s);
}

static void __attribute__((format(printf, 4, 5)))
log_listener(int priority, const char *msgid, const struct listener_spec *spec,
    const char *fmt, ...)
{
	char proto[32], port[32];
	const char *fields[] = { proto, port, NULL };
	va_list ap;

	snprintf(proto, sizeof(proto), "ECHOD_PROTOCOL=%s", proto_name(spec->proto));
	snprintf(port, sizeof(port), "ECHOD_PORT=%d", spec->port);
	if (spec->proto == PROTO_UNIX)
		fields[1] = NULL;
	va_start(ap, fmt);
	log_vstruct(priority, msgid, fields, fmt, ap);
	va_end(ap);
}

/* Put a listener in the set and in every worker's loop. */
static int
server_serve(struct server *s, struct listener *l)
{
	/* Before any worker sees the socket: no connection may slip in unchecked. */
	atomic_store_explicit(&l->acl, acl_for(s->cfg, l), memory_order_release);
	if (listener_set_add(&s->listeners, l) == -1) {
		listener_release(l);
		return -1;
	}
	for (size_t i = 0; i < s->nworkers; i++)
		if (worker_add_listener(s->workers[i], l) == -1)
			log_warn("worker %zu cannot take %s", i, l->name);
	return 0;
}

int
server_adopt(struct server *s, struct listener *l)
{
	log_listener(LOG_INFO, ECHOD_MSGID_LISTENER_OPENED, &l->spec,
	    "listening on %s (socket activation)", l->name);
	return server_serve(s, l);
}

static int
open_one(struct server *s, const struct listener_spec *spec)
{
	struct listener *l = listener_open(spec);
	char name[ADDR_STRLEN + 8];

	if (l == NULL) {
		snprintf(name, sizeof(name), "%s listener at %s", proto_name(spec->proto),
		    spec->where);
		log_listener(LOG_ERR, ECHOD_MSGID_LISTENER_FAILED, spec, "cannot open %s: %s",
		    name, strerror(errno));
		return -1;
	}
	log_listener(LOG_INFO, ECHOD_MSGID_LISTENER_OPENED, spec, "listening on %s", l->name);
	return server_serve(s, l);
}

int
server_open_listeners(struct server *s)
{
	int failed = 0;

	for (size_t i = 0; i < s->cfg->nlisteners; i++) {
		const struct listener_spec *spec = &s->cfg->listeners[i];

		if (listener_set_find(&s->listeners, spec) == -1 && open_one(s, spec) == -1)
			failed++;
	}
	return failed;
}

static struct echo_totals
server_totals(const struct server *s)
{
	struct echo_totals t = { 0 };

	for (size_t i = 0; i < s->nworkers; i++)
		stats_accumulate(&t, worker_stats(s->workers[i]));
	return t;
}

static void
format_status(const struct server *s, char *buf, size_t size)
{
	struct echo_totals t = server_totals(s);

	snprintf(buf, size, "%" PRIu64 " connections open; echoed %" PRIu64 " connections, %"
	    PRIu64 " datagrams, %" PRIu64 " bytes; refused %" PRIu64 " connections, %" PRIu64
	    " datagrams", t.tcp_open, t.tcp_accepted, t.udp_datagrams, t.tcp_bytes + t.udp_bytes,
	    t.tcp_refused + t.tcp_denied + t.tcp_limited, t.udp_dropped);
}

/* Worker 0's periodic work: STATUS= at most once a second, and watchdog pings. */
static uint64_t
server_tick(void *arg, uint64_t now)
{
	struct server *s = arg;
	char status[sizeof(s->status)];

	if (s->reloading && reload_finish(s) == -1)
		return now + RELOAD_POLL_MS;
	if (now >= s->next_status_ms) {
		format_status(s, status, sizeof(status));
		if (strcmp(status, s->status) != 0) {
			notify_status(status);
			memcpy(s->status, status, sizeof(status));
		}
		s->next_status_ms = now + STATUS_INTERVAL_MS;
	}
	if (s->watchdog_ms == 0)
		return s->next_status_ms;
	if (now >= s->next_watchdog_ms) {
		notify_watchdog();
		s->next_watchdog_ms = now + s->watchdog_ms;
	}
	return s->next_status_ms < s->next_watchdog_ms ? s->next_status_ms : s->next_watchdog_ms;
}

/* Every counter, by reason, in one journal entry (SIGUSR1). */
static void
log_stats(struct server *s)
{
	struct echo_totals t = server_totals(s);
	struct srclimit_stats sl;
	char refused[64], dropped[64];
	const char *fields[] = { refused, dropped, NULL };

	srclimit_get_stats(s->guard.table, &sl);
	snprintf(refused, sizeof(refused), "ECHOD_CONNECTIONS_REFUSED=%" PRIu64,
	    t.tcp_refused + t.tcp_denied + t.tcp_limited);
	snprintf(dropped, sizeof(dropped), "ECHOD_DATAGRAMS_DROPPED=%" PRIu64, t.udp_dropped);
	log_struct(LOG_INFO, ECHOD_MSGID_STATS, fields,
	    "statistics: %" PRIu64 " connections open, %" PRIu64 " accepted, %" PRIu64
	    " bytes over streams; connections refused: %" PRIu64 " max_connections, %" PRIu64
	    " allow/deny, %" PRIu64 " per-source limits; %" PRIu64 " datagrams echoed, %" PRIu64
	    " bytes over UDP; datagrams dropped: %" PRIu64 " allow/deny, %" PRIu64
	    " source port, %" PRIu64 " max_datagram, %" PRIu64 " per-source limits, %" PRIu64
	    " send failed; per-source refusals: %" PRIu64 " max_connections_per_source, %" PRIu64
	    " connection_rate, %" PRIu64 " udp_rate, %" PRIu64 " udp_max_reply_bytes_per_second, %"
	    PRIu64 " table full; source table: %zu of %zu sources, %" PRIu64 " evicted, %" PRIu64
	    " unmatched closes; %ld bytes buffered, %" PRIu64 " reads paused by max_buffered_bytes",
	    t.tcp_open, t.tcp_accepted, t.tcp_bytes, t.tcp_refused, t.tcp_denied, t.tcp_limited,
	    t.udp_datagrams, t.udp_bytes, t.udp_denied, t.udp_source_port, t.udp_oversize,
	    t.udp_limited, t.udp_send_failed, sl.refused[SRCLIMIT_CONNECTIONS],
	    sl.refused[SRCLIMIT_CONNECTION_RATE], sl.refused[SRCLIMIT_UDP_RATE],
	    sl.refused[SRCLIMIT_UDP_BYTES], sl.refused[SRCLIMIT_TABLE_FULL], sl.entries,
	    sl.capacity, sl.evicted, sl.unbalanced, atomic_load(&s->shared.buffered),
	    t.tcp_starved);
}

static void
close_removed(struct server *s, const struct echod_config *cfg)
{
	for (size_t i = s->listeners.count; i-- > 0;) {
		struct listener *l = s->listeners.items[i];
		bool wanted = false;

		for (size_t j = 0; j < cfg->nlisteners && !wanted; j++)
			wanted = listener_spec_same(&l->spec, &cfg->listeners[j]);
		/* systemd owns what it passed: keep it even when the file no longer names it. */
		if (wanted || l->passed)
			continue;
		log_info("closing %s: no longer configured", l->name);
		for (size_t w = 0; w < s->nworkers; w++)
			worker_remove_listener(s->workers[w], l);
		listener_set_remove_at(&s->listeners, i);
		listener_release(l);
	}
}

static void
reload_failed(struct config_errors *errs)
{
	for (size_t i = 0; i < errs->count; i++)
		log_struct(LOG_ERR, ECHOD_MSGID_RELOAD_FAILED, NULL, "%s", errs->lines[i]);
	log_struct(LOG_ERR, ECHOD_MSGID_RELOAD_FAILED, NULL,
	    "reload failed: keeping the running configuration");
}

/* Once every worker has applied the reload: removed ports are closed, new ones served. */
static int
reload_finish(struct server *s)
{
	if (atomic_load(&s->reload_acks) > 0)
		return -1;
	/* No worker can still be reading the old ACLs or policy. */
	retire_free(s);
	s->reloading = false;
	log_struct(s->reload_failures ? LOG_WARNING : LOG_NOTICE, ECHOD_MSGID_RELOAD, NULL,
	    "configuration reloaded from %s: %zu listeners%s", s->cfg->path,
	    s->listeners.count, s->reload_failures ? ", some could not be opened" : "");
	notify_ready();
	return 0;
}

/* Two phases: parse into a fresh config; only if it is valid, apply the difference. */
static void
server_reload(struct server *s)
{
	struct config_errors errs = { 0 };
	struct guard_policy *policy;
	struct echod_config *cfg;

	if (s->reloading) {
		log_notice("reload already in progress: SIGHUP ignored");
		return;
	}
	notify_reloading();
	cfg = config_load(s->cfg->path, &errs);
	if (cfg == NULL) {
		reload_failed(&errs);
		config_errors_free(&errs);
		notify_ready();
		return;
	}
	close_removed(s, cfg);
	s->retired_cfg = s->cfg;
	s->cfg = cfg;
	s->reload_failures = server_open_listeners(s);
	for (size_t i = 0; i < s->listeners.count; i++)
		atomic_store_explicit(&s->listeners.items[i]->acl,
		    acl_for(cfg, s->listeners.items[i]), memory_order_release);
	policy = guard_policy_new(cfg);
	if (policy == NULL)
		log_warn("keeping the previous exempt, udp_drop_source_ports and max_datagram");
	s->retired_policy = guard_update(&s->guard, policy, &cfg->limits);
	limits_apply(s, &cfg->limits);
	if (workers_wanted(cfg) != s->nworkers)
		log_notice("workers = %zu takes effect at the next restart (running %zu)",
		    workers_wanted(cfg), s->nworkers);
	s->reloading = true;
	atomic_store(&s->reload_acks, (int)s->nworkers);
	for (size_t i = 0; i < s->nworkers; i++)
		if (worker_sync(s->workers[i], &s->reload_acks) == -1)
			atomic_fetch_sub(&s->reload_acks, 1);
}

static void
server_stop(struct server *s)
{
	notify_stopping();
	for (size_t i = 1; i < s->nworkers; i++)
		worker_stop(s->workers[i]);
	loop_stop(worker_loop(s->workers[0]));
}

static void
signal_cb(int fd, uint32_t events, void *arg)
{
	struct server *s = arg;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			log_struct(LOG_NOTICE, ECHOD_MSGID_STOP, NULL, "stopping on signal %s",
			    strsignal((int)si.ssi_signo));
			server_stop(s);
			return;
		case SIGHUP:
			server_reload(s);
			break;
		case SIGUSR1:
			log_stats(s);
			break;
		}
	}
}

void
server_signal_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR1);
}

/* The signals main() blocked are read here, in worker 0's loop, like any other fd. */
static int
watch_signals(struct server *s)
{
	sigset_t set;

	server_signal_set(&set);
	s->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->sigfd == -1)
		return -1;
	return loop_add(worker_loop(s->workers[0]), &s->sig_watcher, s->sigfd, EPOLLIN,
	    signal_cb, s);
}

int
server_run(struct server *s)
{
	int r;

	if (watch_signals(s) == -1) {
		log_warn("signalfd");
		return -1;
	}
	for (size_t i = 1; i < s->nworkers; i++) {
		if (worker_start(s->workers[i]) == -1) {
			log_warn("cannot start worker thread %zu", i);
			server_stop(s);
			return -1;
		}
	}
	s->watchdog_ms = notify_watchdog_interval_ms();
	worker_set_tick(s->workers[0], server_tick, s);
	log_struct(LOG_NOTICE, ECHOD_MSGID_START, NULL,
	    "echod " PACKAGE_VERSION " started: %zu listeners, %zu workers",
	    s->listeners.count, s->nworkers);
	notify_ready();
	r = worker_run(s->workers[0]);
	if (r == -1)
		server_stop(s);
	return r;
}
