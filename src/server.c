/* SPDX-License-Identifier: MIT */
/* server: the workers, the listener set, signals, reload and status: echod while it runs. */
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "activation.h"
#include "apply.h"
#include "control.h"
#include "guard.h"
#include "log.h"
#include "notify.h"
#include "preflight.h"
#include "report.h"
#include "server.h"
#include "worker.h"

/* Control clients waiting for a reload's result. */
struct waiters {
	struct control_client **items;
	size_t count;
};

#define STATUS_INTERVAL_MS 1000
/* How often worker 0 looks whether every worker has applied a reload. */
#define RELOAD_POLL_MS 5

struct server {
	struct echod_config *cfg;
	time_t loaded_at;
	struct tcp_shared shared;
	struct guard guard;
	bool guard_ready;
	struct worker **workers;
	size_t nworkers;
	struct listener_set listeners;
	bool activated;			/* systemd passed sockets at start */
	struct report unserved;		/* configured listeners not open, for status */
	struct control *control;
	int sigfd;
	struct watcher sig_watcher;
	uint64_t next_status_ms;
	uint64_t watchdog_ms, next_watchdog_ms;
	char status[256];
	/*
	 * One reload at a time: it is done once every worker has applied it
	 * (then READY=1 and the answers). Asked for meanwhile (SIGHUP or
	 * echodctl), another follows it and reads the files then.
	 */
	bool reloading, reload_queued;
	atomic_int reload_acks;
	struct waiters answer_now, answer_next;
	struct report reload_report;	/* of the reload in progress */
	struct report last_reload;	/* of the last one done */
	time_t last_reload_at;
	/* What workers may still read until they have all synced: freed by reload_finish(). */
	struct echod_config *retired_cfg;
	const struct guard_policy *retired_policy;
	struct retired_views retired_views;
};

static int reload_finish(struct server *s);
static void waiters_clear(struct waiters *w);

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

static void
retire_free(struct server *s)
{
	config_free(s->retired_cfg);
	s->retired_cfg = NULL;
	guard_policy_free((struct guard_policy *)(uintptr_t)s->retired_policy);
	s->retired_policy = NULL;
	retired_views_free(&s->retired_views);
}

struct server *
server_new(struct echod_config *cfg)
{
	struct server *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->cfg = cfg;
	s->loaded_at = time(NULL);
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
	control_free(s->control);
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
	waiters_clear(&s->answer_now);
	waiters_clear(&s->answer_next);
	report_clear(&s->reload_report);
	report_clear(&s->last_reload);
	report_clear(&s->unserved);
	config_free(s->cfg);
	free(s);
}

int
server_adopt_passed(struct server *s)
{
	int n = activation_collect(&s->listeners);

	if (n > 0)
		s->activated = true;
	for (size_t i = 0; i < s->listeners.count; i++)
		log_info("%s passed by systemd (%s)", s->listeners.items[i]->name,
		    s->listeners.items[i]->spec.where);
	return n < 0 ? -1 : 0;
}

void
server_own_sockets(struct server *s, const char *user)
{
	struct passwd *pw;

	if (geteuid() != 0 || (pw = getpwnam(user)) == NULL || pw->pw_uid == 0)
		return;
	for (size_t i = 0; i < s->listeners.count; i++)
		if (fchown(s->listeners.items[i]->fd, pw->pw_uid, (gid_t)-1) == -1)
			log_debug("%s: cannot hand over to %s: %s", s->listeners.items[i]->name,
			    user, strerror(errno));
}

static struct apply_ctx
apply_ctx_of(struct server *s)
{
	return (struct apply_ctx){ &s->listeners, s->workers, s->nworkers, s->activated };
}

/* Listeners that answer something (a passed socket no listener names answers nothing). */
static size_t
serving_count(const struct server *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->listeners.count; i++) {
		const struct listener_view *v = atomic_load(&s->listeners.items[i]->view);

		n += !view_is_narrowed(v) || v->n > 0;
	}
	return n;
}

int
server_open_listeners(struct server *s)
{
	struct apply_ctx ctx = apply_ctx_of(s);
	struct report rep = { 0 };
	int failed = apply_config(&ctx, s->cfg, &rep, &s->unserved, &s->retired_views);

	/* Nothing runs yet: views replaced at start-up were never read. */
	retired_views_free(&s->retired_views);
	for (size_t i = 0; i < rep.count; i++)
		if (strncmp(rep.lines[i], "note: ", 6) == 0)
			log_notice("%s", rep.lines[i] + 6);
	report_clear(&rep);
	/*
	 * Started by systemd for a connection, with sockets systemd bound: what
	 * it passed is served even when a listener the file adds cannot be
	 * opened yet (a privileged port before the socket unit is rebuilt).
	 * Exiting would take every port dark, the ones that work included.
	 */
	if (failed > 0 && s->activated && serving_count(s) > 0) {
		log_struct(LOG_WARNING, ECHOD_MSGID_LISTENER_FAILED, NULL, "%d configured "
		    "listener%s not open (echodctl status); serving the rest until: %s", failed,
		    failed == 1 ? " is" : "s are", APPLY_SYSTEMD_REBIND);
		return 0;
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
	    t.tcp_refused + t.tcp_denied + t.tcp_limited + t.tcp_unlisted, t.udp_dropped);
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
	    t.tcp_refused + t.tcp_denied + t.tcp_limited + t.tcp_unlisted);
	snprintf(dropped, sizeof(dropped), "ECHOD_DATAGRAMS_DROPPED=%" PRIu64, t.udp_dropped);
	log_struct(LOG_INFO, ECHOD_MSGID_STATS, fields,
	    "statistics: %" PRIu64 " connections open, %" PRIu64 " accepted, %" PRIu64
	    " bytes over streams; connections refused: %" PRIu64 " max_connections, %" PRIu64
	    " allow/deny, %" PRIu64 " per-source limits, %" PRIu64 " local address not "
	    "configured; %" PRIu64 " datagrams echoed, %" PRIu64
	    " bytes over UDP; datagrams dropped: %" PRIu64 " allow/deny, %" PRIu64
	    " source port, %" PRIu64 " max_datagram, %" PRIu64 " per-source limits, %" PRIu64
	    " local address not configured, %" PRIu64 " send failed; per-source refusals: %"
	    PRIu64 " max_connections_per_source, %" PRIu64
	    " connection_rate, %" PRIu64 " udp_rate, %" PRIu64 " udp_max_reply_bytes_per_second, %"
	    PRIu64 " table full; source table: %zu of %zu sources, %" PRIu64 " evicted, %" PRIu64
	    " unmatched closes; %ld bytes buffered, %" PRIu64 " reads paused by max_buffered_bytes",
	    t.tcp_open, t.tcp_accepted, t.tcp_bytes, t.tcp_refused, t.tcp_denied, t.tcp_limited,
	    t.tcp_unlisted, t.udp_datagrams, t.udp_bytes, t.udp_denied, t.udp_source_port,
	    t.udp_oversize, t.udp_limited, t.udp_unlisted, t.udp_send_failed,
	    sl.refused[SRCLIMIT_CONNECTIONS],
	    sl.refused[SRCLIMIT_CONNECTION_RATE], sl.refused[SRCLIMIT_UDP_RATE],
	    sl.refused[SRCLIMIT_UDP_BYTES], sl.refused[SRCLIMIT_TABLE_FULL], sl.entries,
	    sl.capacity, sl.evicted, sl.unbalanced, atomic_load(&s->shared.buffered),
	    t.tcp_starved);
}

static int
waiters_add(struct waiters *w, struct control_client *c)
{
	struct control_client **grown = realloc(w->items, (w->count + 1) * sizeof(*grown));

	if (grown == NULL)
		return -1;
	w->items = grown;
	w->items[w->count++] = c;
	return 0;
}

/* Answer every waiting client with rep and forget them (control_answer() frees them). */
static void
waiters_answer(struct waiters *w, const struct report *rep)
{
	for (size_t i = 0; i < w->count; i++)
		control_answer(w->items[i], rep);
	w->count = 0;
}

static void
waiters_clear(struct waiters *w)
{
	/* The clients themselves belong to the control socket (control_free()). */
	free(w->items);
	w->items = NULL;
	w->count = 0;
}

static void
reload_log_lines(const struct report *rep)
{
	for (size_t i = 0; i < rep->count; i++)
		log_info("reload: %s", rep->lines[i]);
}

/* The reload is over (applied by every worker, or refused): tell everyone who asked. */
static void
reload_done(struct server *s)
{
	struct report *rep = &s->reload_report;

	if (rep->failed)
		log_struct(LOG_WARNING, ECHOD_MSGID_RELOAD_FAILED, NULL, "%s",
		    rep->lines[rep->count - 1]);
	else
		log_struct(LOG_NOTICE, ECHOD_MSGID_RELOAD, NULL, "%s", rep->lines[rep->count - 1]);
	waiters_answer(&s->answer_now, rep);
	report_clear(&s->last_reload);
	s->last_reload = *rep;
	*rep = (struct report){ 0 };
	s->last_reload_at = time(NULL);
	notify_ready();
	if (!s->reload_queued)
		return;
	/* Those who asked during this one get the next: it reads the files after them. */
	s->reload_queued = false;
	waiters_clear(&s->answer_now);
	s->answer_now = s->answer_next;
	s->answer_next = (struct waiters){ 0 };
	server_reload(s, NULL);
}

/* Once every worker has applied the reload: nothing reads the old configuration any more. */
static int
reload_finish(struct server *s)
{
	struct report *rep = &s->reload_report;

	if (atomic_load(&s->reload_acks) > 0)
		return -1;
	retire_free(s);
	s->reloading = false;
	if (rep->failed)
		report_fail(rep, "configuration reloaded from %s (%zu file%s), but not all of it "
		    "applied: %zu listeners open", s->cfg->path, s->cfg->nfiles,
		    s->cfg->nfiles == 1 ? "" : "s", s->listeners.count);
	else
		report_add(rep, "configuration reloaded from %s (%zu file%s): %zu listeners",
		    s->cfg->path, s->cfg->nfiles, s->cfg->nfiles == 1 ? "" : "s",
		    s->listeners.count);
	reload_done(s);
	return 0;
}

/* Parse (every file) and check; on failure the running configuration stays whole. */
static struct echod_config *
reload_read(struct server *s)
{
	struct config_errors errs = { 0 };
	struct echod_config *cfg = config_load(s->cfg->path, &errs);

	if (cfg != NULL && preflight_check(cfg, PREFLIGHT_IDENTITY | PREFLIGHT_UNIX_DIRS,
	    &errs) > 0) {
		config_free(cfg);
		cfg = NULL;
	}
	for (size_t i = 0; i < errs.count; i++) {
		log_struct(LOG_ERR, ECHOD_MSGID_RELOAD_FAILED, NULL, "%s", errs.lines[i]);
		report_fail(&s->reload_report, "%s", errs.lines[i]);
	}
	config_errors_free(&errs);
	return cfg;
}

/* Everything but the listeners: ACL-independent policy, limits, what waits for a restart. */
static void
reload_settings(struct server *s, const struct echod_config *cfg)
{
	struct guard_policy *policy = guard_policy_new(cfg);
	const char *was = s->retired_cfg->control_socket, *now = cfg->control_socket;

	if (policy == NULL)
		report_fail(&s->reload_report, "out of memory: keeping the previous exempt, "
		    "udp_drop_source_ports and max_datagram");
	s->retired_policy = guard_update(&s->guard, policy, &cfg->limits);
	limits_apply(s, &cfg->limits);
	if (workers_wanted(cfg) != s->nworkers)
		report_add(&s->reload_report, "note: workers = %zu takes effect at the next "
		    "restart (running %zu)", workers_wanted(cfg), s->nworkers);
	if ((was == NULL) != (now == NULL) || (was != NULL && strcmp(was, now) != 0))
		report_add(&s->reload_report, "note: control_socket takes effect at the next "
		    "restart");
}

/*
 * Two phases: read every file; only if all is valid, apply the difference.
 * Done (answers, READY=1) once every worker has synced: see reload_finish().
 */
void
server_reload(struct server *s, struct control_client *asker)
{
	struct apply_ctx ctx = apply_ctx_of(s);
	struct echod_config *cfg;

	if (asker != NULL && waiters_add(s->reloading ? &s->answer_next : &s->answer_now,
	    asker) == -1) {
		struct report oom = { .failed = true };

		report_add(&oom, "error: out of memory");
		control_answer(asker, &oom);
		report_clear(&oom);
	}
	if (s->reloading) {
		log_info("reload asked for while one is applied: it follows");
		s->reload_queued = true;
		return;
	}
	notify_reloading();
	cfg = reload_read(s);
	if (cfg == NULL) {
		report_fail(&s->reload_report, "reload failed: keeping the running configuration "
		    "(%s)", s->cfg->path);
		reload_done(s);
		return;
	}
	report_clear(&s->unserved);
	apply_config(&ctx, cfg, &s->reload_report, &s->unserved, &s->retired_views);
	reload_log_lines(&s->reload_report);
	s->retired_cfg = s->cfg;
	s->cfg = cfg;
	s->loaded_at = time(NULL);
	reload_settings(s, cfg);
	s->reloading = true;
	atomic_store(&s->reload_acks, (int)s->nworkers);
	for (size_t i = 0; i < s->nworkers; i++)
		if (worker_sync(s->workers[i], &s->reload_acks) == -1)
			atomic_fetch_sub(&s->reload_acks, 1);
}

static void
format_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ",
	    &tm) == 0)
		snprintf(buf, size, "-");
}

/* echodctl status: the files, the last reload, and every listener with its state. */
static void
status_report(struct server *s, struct report *out)
{
	char when[32];
	char files[2048];
	size_t used = 0;

	report_add(out, "configuration: %s", s->cfg->path);
	for (size_t i = 0; i < s->cfg->nfiles && used < sizeof(files); i++)
		used += (size_t)snprintf(files + used, sizeof(files) - used, "%s%s",
		    i == 0 ? "" : " ", s->cfg->files[i]);
	report_add(out, "files: %s", s->cfg->nfiles > 0 ? files : "-");
	format_time(s->loaded_at, when, sizeof(when));
	report_add(out, "loaded: %s", when);
	format_time(s->last_reload_at, when, sizeof(when));
	if (s->last_reload.count == 0)
		report_add(out, "last reload: none");
	else
		report_add(out, "last reload: %s (%s)", s->last_reload.failed ? "failed" : "ok",
		    when);
	report_append(out, &s->last_reload, "  ");
	out->failed = false;
	report_add(out, "listeners:");
	apply_describe(&s->listeners, s->cfg, out);
	report_append(out, &s->unserved, "  ");
	out->failed = false;
}

static void
control_cb(struct control_client *c, const char *command, void *arg)
{
	struct server *s = arg;
	struct report rep = { 0 };

	if (strcmp(command, "reload") == 0) {
		server_reload(s, c);
		return;
	}
	if (strcmp(command, "status") == 0)
		status_report(s, &rep);
	else
		report_fail(&rep, "error: unknown command '%.64s' (reload, status)", command);
	control_answer(c, &rep);
	report_clear(&rep);
}

int
server_open_control(struct server *s)
{
	const char *path = s->cfg->control_socket;

	if (path == NULL)
		path = control_default_path();
	if (path[0] == '\0')
		return 0;
	s->control = control_open(path, worker_loop(s->workers[0]), control_cb, s);
	if (s->control == NULL) {
		log_warn("control socket %s: echodctl cannot reach this echod (SIGHUP still "
		    "reloads; set control_socket)", path);
		return -1;
	}
	log_info("control socket %s", path);
	return 0;
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
			server_reload(s, NULL);
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
