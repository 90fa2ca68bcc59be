/* SPDX-License-Identifier: MIT */
/*
 * server: echod while it runs: start-up, the workers, and the control thread
 * (signals, control socket, status, watchdog; reloads: reload.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "activation.h"
#include "apply.h"
#include "clock.h"
#include "compile.h"
#include "control.h"
#include "guard_conf.h"
#include "handover.h"
#include "log.h"
#include "metrics_endpoint.h"
#include "notify.h"
#include "probe_report.h"
#include "probe_run.h"
#include "refusal_log.h"
#include "reload.h"
#include "report.h"
#include "server.h"
#include "server_state.h"
#include "snapshot.h"
#include "status_report.h"
#include "worker.h"

/* STATUS= and the refusal log's summaries (and a drain of its queue): once a second. */
#define STATUS_INTERVAL_MS 1000
/*
 * The refusal log: (source, reason) pairs remembered at once (a flood of
 * spoofed sources beyond them is counted, not logged), and lines a second.
 */
#define REFUSAL_LOG_PAIRS	4096
#define REFUSAL_LOG_LINES	20
/* Journal fields of the SIGUSR1 entry: every process value and total, and room. */
#define STATS_FIELDS_MAX	64
/* How far below the echo workers the control thread is scheduled (yield_to_workers()). */
#define CONTROL_NICE 5
/* How often the control thread looks whether every worker has applied a reload. */
#define RELOAD_POLL_MS 5

struct server *
server_new(struct echod_config *cfg)
{
	struct server *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->cfg = cfg;
	s->loaded_at = time(NULL);
	/* The start is the first successful load (Prometheus counts its own so). */
	atomic_init(&s->reload.last_ok, 1);
	atomic_init(&s->reload.ok_at, (uint64_t)s->loaded_at);
	s->sigfd = -1;
	s->started_ms = clock_monotonic_ms();
	pthread_mutex_init(&s->listeners_lock, NULL);
	s->generations.walkers_lock = &s->listeners_lock;
	/* This thread publishes generations: RCU must know it before the first. */
	generation_writer_init();
	s->loop = loop_new();
	if (s->loop == NULL || (s->probes = probe_run_new(s->loop)) == NULL)
		goto fail;
	/* Now, as root: a probe's key file may be root's alone (the reflector's are too). */
	if (probe_run_keys(s->probes, cfg) == -1)
		goto fail;
	server_set_limits(s, cfg);
	s->refusals = refusal_log_new(REFUSAL_LOG_PAIRS, REFUSAL_LOG_LINES);
	if (s->refusals == NULL)
		goto fail;
	s->shared.refusals = s->refusals;
	if (guard_conf_init(&s->guard, cfg) == -1)
		goto fail;
	s->guard_ready = true;
	s->nworkers = server_workers_wanted(cfg);
	/* Fixed for the process (a reload cannot change it): one counter slot each. */
	s->listeners.nslots = s->nworkers;
	s->workers = calloc(s->nworkers, sizeof(*s->workers));
	if (s->workers == NULL)
		goto fail;
	for (size_t i = 0; i < s->nworkers; i++)
		if ((s->workers[i] = worker_new((int)i, &s->shared, &s->guard,
		    &s->generations)) == NULL)
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
	/* First: its thread renders from the workers' counters and the listener set. */
	metrics_endpoint_close(s->metrics);
	control_free(s->control);
	/* Before the configuration its resolver's entries point into, and the loop. */
	probe_run_free(s->probes);
	for (size_t i = 0; s->workers != NULL && i < s->nworkers; i++)
		worker_free(s->workers[i]);
	free(s->workers);
	pthread_mutex_lock(&s->listeners_lock);
	listener_set_clear(&s->listeners);
	pthread_mutex_unlock(&s->listeners_lock);
	/* After the workers, who note refusals in it; its eventfd leaves the loop with it. */
	refusal_log_free(s->refusals);
	if (s->sigfd != -1)
		close(s->sigfd);
	/* After the control socket and the signalfd, which it watched. */
	loop_free(s->loop);
	/* After the workers: closing their connections updates the per-source table. */
	if (s->guard_ready)
		guard_fini(&s->guard);
	reload_fini(&s->reload);
	status_rows_clear(&s->unserved);
	/* No worker runs: wait for the retired generations, then free the one in force. */
	generation_writer_fini();
	if (s->generations.current != NULL)
		generation_free(s->generations.current);
	else
		config_free(s->cfg);
	pthread_mutex_destroy(&s->listeners_lock);
	free(s);
}

int
server_adopt_passed(struct server *s)
{
	int n;

	pthread_mutex_lock(&s->listeners_lock);
	n = activation_collect(&s->listeners, s->cfg);
	pthread_mutex_unlock(&s->listeners_lock);

	if (n > 0)
		s->activated = true;
	for (size_t i = 0; i < s->listeners.count; i++)
		log_info("%s passed by systemd (%s)", s->listeners.items[i]->name,
		    s->listeners.items[i]->spec.where);
	return n < 0 ? -1 : 0;
}

void
server_own_sockets(struct server *s, const char *user, const char *group)
{
	struct passwd *pw;
	struct group *gr;
	gid_t gid;

	if (geteuid() != 0 || (pw = getpwnam(user)) == NULL || pw->pw_uid == 0)
		return;
	gid = group != NULL && (gr = getgrnam(group)) != NULL ? gr->gr_gid : pw->pw_gid;
	for (size_t i = 0; i < s->listeners.count; i++) {
		struct listener *l = s->listeners.items[i];

		if (fchown(l->fd, pw->pw_uid, (gid_t)-1) == -1)
			log_debug("%s: cannot hand over to %s: %s", l->name, user, strerror(errno));
		if (l->unlink_path)
			handover_socket(l->spec.path, pw->pw_uid, gid, user);
	}
	if (s->control == NULL)
		return;
	if (control_made_dir(s->control) != NULL)
		handover_dir(control_made_dir(s->control), pw->pw_uid, gid, user);
	handover_socket(control_path(s->control), pw->pw_uid, gid, user);
}

/* Listeners that answer something (a passed socket no listener names answers nothing). */
static size_t
serving_count(const struct server *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->listeners.count; i++) {
		const struct listener_view *v = generation_view(s->generations.current,
		    s->listeners.items[i]);

		n += v != NULL && (!view_is_narrowed(v) || v->n > 0);
	}
	return n;
}

int
server_open_listeners(struct server *s)
{
	struct apply_ctx ctx = server_apply_ctx(s);
	struct report rep = { 0 };
	struct generation *gen;
	int failed;

	pthread_mutex_lock(&s->listeners_lock);
	failed = apply_config(&ctx, s->cfg, &rep, &s->unserved);
	/* The configuration is the first generation's from here on. */
	gen = compile_generation(&s->listeners, s->cfg, &rep);
	if (gen != NULL)
		apply_publish(&ctx, gen, &rep);
	pthread_mutex_unlock(&s->listeners_lock);
	if (gen == NULL) {
		s->cfg = NULL;
		log_warn("%s", rep.lines[rep.count - 1]);
		report_clear(&rep);
		return -1;
	}
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

/* STATUS=: the totals now, and their rates since the last one. */
static void
format_status(struct server *s, uint64_t now, char *buf, size_t size)
{
	struct stats_snapshot snap;

	(void)snapshot_take(s, false, &snap);
	stats_format_status(&snap, &s->status_prev, s->status_prev_ms == 0 ? 0 :
	    now - s->status_prev_ms, buf, size);
	s->status_prev = snap.total;
	s->status_prev_ms = now;
	stats_snapshot_free(&snap);
}

/* STATUS= once a second: the totals, or while a reload waits for the workers, that. */
static void
status_tick(struct server *s, uint64_t now, bool reloading)
{
	char status[sizeof(s->status)];

	refusal_log_tick(s->refusals, now);
	if (reloading)
		snprintf(status, sizeof(status), "reloading: %d of %zu worker%s yet to apply it",
		    atomic_load(&s->reload.acks), s->nworkers, s->nworkers == 1 ? "" : "s");
	else
		format_status(s, now, status, sizeof(status));
	if (strcmp(status, s->status) != 0) {
		notify_status(status);
		memcpy(s->status, status, sizeof(status));
	}
	s->next_status_ms = now + STATUS_INTERVAL_MS;
}

static uint64_t
earliest(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/*
 * The control thread's periodic work: STATUS= and the refusal log's
 * summaries once a second, watchdog pings, the control socket's deadlines,
 * and a reload's end. A reload waiting for the workers stops none of it: a
 * worker slow to apply must not read as a hung echod to the watchdog.
 */
static uint64_t
server_tick(struct server *s, uint64_t now)
{
	bool reloading = reload_poll(s) == -1;
	uint64_t next;

	if (now >= s->next_status_ms)
		status_tick(s, now, reloading);
	/* The refusal queue's wake-up, due to be re-armed (refusal_log.h). */
	if (now >= refusal_log_next_ms(s->refusals))
		refusal_log_drain(s->refusals, now);
	next = earliest(s->next_status_ms, control_tick(s->control, now));
	next = earliest(next, refusal_log_next_ms(s->refusals));
	next = earliest(next, probe_run_tick(s->probes, now));
	if (reloading)
		next = earliest(next, now + RELOAD_POLL_MS);
	if (s->watchdog_ms == 0)
		return next;
	if (now >= s->next_watchdog_ms) {
		notify_watchdog();
		s->next_watchdog_ms = now + s->watchdog_ms;
	}
	return earliest(next, s->next_watchdog_ms);
}

/* Workers queued refusals: their first lines are written here, in the control thread. */
static void
refusal_wake_cb(int fd, uint32_t events, void *arg)
{
	struct server *s = arg;

	refusal_log_drain(s->refusals, loop_now(s->loop));
}

/* The control loop's hook: after every batch of events and at the deadline it asks for. */
static void
server_hook(struct loop *loop, void *arg)
{
	loop_wake_at(loop, server_tick(arg, loop_now(loop)));
}

/* SIGUSR1: every total and process value as a journal field; the message is a summary. */
static void
log_stats(struct server *s)
{
	struct stats_snapshot snap;
	char *fields[STATS_FIELDS_MAX];
	char summary[sizeof(s->status)];
	static const struct echo_totals none;

	(void)snapshot_take(s, false, &snap);
	stats_format_fields(&snap, fields, STATS_FIELDS_MAX);
	stats_format_status(&snap, &none, 0, summary, sizeof(summary));
	log_struct(LOG_INFO, ECHOD_MSGID_STATS, (const char **)fields,
	    "statistics: %s (every counter: echodctl stats)", summary);
	stats_fields_free(fields);
	stats_snapshot_free(&snap);
}

static void
control_cb(struct control_client *c, const char *command, void *arg)
{
	struct server *s = arg;
	struct report rep = { 0 };

	if (strcmp(command, "reload") == 0) {
		reload_start(s, c);
		return;
	}
	if (strcmp(command, "status") == 0 || strcmp(command, "status json") == 0)
		status_report(s, strcmp(command, "status json") == 0, &rep);
	else if (strcmp(command, "probes") == 0 || strcmp(command, "probes json") == 0)
		probe_report(probe_run_pub(s->probes), strcmp(command, "probes json") == 0, &rep);
	else if (!snapshot_report(s, command, &rep))
		report_fail(&rep, "error: unknown command '%.64s' (reload, status, status json, "
		    "stats, stats json, metrics, probes, probes json)", command);
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
	s->control = control_open(path, s->loop, control_cb, s);
	if (s->control == NULL) {
		log_warn("control socket %s: echodctl cannot reach this echod (SIGHUP still "
		    "reloads; set control_socket)", path);
		return -1;
	}
	log_info("control socket %s", path);
	return 0;
}

/* Every worker ends its loop; server_free() joins them. */
static void
server_stop(struct server *s)
{
	notify_stopping();
	for (size_t i = 0; i < s->nworkers; i++)
		if (worker_stop(s->workers[i]) == -1)
			log_warn("cannot stop worker %zu", i);
	loop_stop(s->loop);
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
			reload_start(s, NULL);
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

/* The signals main() blocked are read here, in the control loop, like any other fd. */
static int
watch_signals(struct server *s)
{
	sigset_t set;

	server_signal_set(&set);
	s->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->sigfd == -1)
		return -1;
	return loop_add(s->loop, &s->sig_watcher, s->sigfd, EPOLLIN, signal_cb, s);
}

/*
 * The control thread (this one, once the workers run) and the threads it
 * starts from here on (the metrics endpoint's, RCU's call_rcu) run at a nice
 * value CONTROL_NICE above the workers' (19 at most): on a machine short of CPUs a reload's
 * parsing and binding, or a scrape, takes its CPU time from what the echoes
 * leave. Linux keeps a nice value per thread; raising it needs no privilege.
 */
static void
yield_to_workers(void)
{
	id_t self = (id_t)gettid();
	int now;

	errno = 0;
	now = getpriority(PRIO_PROCESS, self);
	if (now == -1 && errno != 0)
		return;
	/* Relative to what echod was started with (a unit's Nice=): 19 at most. */
	if (setpriority(PRIO_PROCESS, self, now + CONTROL_NICE > 19 ? 19 :
	    now + CONTROL_NICE) == -1)
		log_debug("control thread: nice +%d: %s", CONTROL_NICE, strerror(errno));
}

int
server_run(struct server *s)
{
	int r;

	if (watch_signals(s) == -1) {
		log_warn("signalfd");
		return -1;
	}
	/* Without it, queued refusals still come out with the once-a-second tick. */
	if (loop_add(s->loop, &s->refusal_watcher, refusal_log_wake_fd(s->refusals), EPOLLIN,
	    refusal_wake_cb, s) == -1)
		log_warn("refusal log: cannot watch its eventfd; first lines wait for the tick");
	/* Every worker is a thread of its own; this one, the main one, is the control thread. */
	for (size_t i = 0; i < s->nworkers; i++) {
		if (worker_start(s->workers[i]) == -1) {
			log_warn("cannot start worker thread %zu", i);
			server_stop(s);
			return -1;
		}
	}
	yield_to_workers();
	s->watchdog_ms = notify_watchdog_interval_ms();
	/*
	 * The probes, on this thread's loop: their helper threads after the
	 * privilege drop, their keys read before it (server_new()).
	 */
	(void)probe_run_load(s->probes, s->cfg);
	loop_set_hook(s->loop, server_hook, s);
	/* The first tick at once: STATUS= and the first watchdog ping. */
	loop_wake_at(s->loop, 0);
	/*
	 * The metrics endpoint: once the listeners are open, before READY=1, and
	 * after the privilege drop (its thread must not exist before the switch).
	 * NULL when off or when it cannot open: it says why, echo goes on.
	 */
	s->metrics = metrics_endpoint_open(&s->cfg->metrics, activation_take_metrics_fd(),
	    snapshot_metrics_render, s);
	log_struct(LOG_NOTICE, ECHOD_MSGID_START, NULL,
	    "echod " PACKAGE_VERSION " started: %zu listener%s, %zu worker%s",
	    s->listeners.count, s->listeners.count == 1 ? "" : "s", s->nworkers,
	    s->nworkers == 1 ? "" : "s");
	notify_ready();
	r = loop_run(s->loop);
	if (r == -1) {
		log_warn("control thread: epoll_wait");
		server_stop(s);
	}
	return r;
}
