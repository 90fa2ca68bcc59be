/* SPDX-License-Identifier: MIT */
/* server: echod while it runs: start-up, the workers, signals, status (reloads: reload.c). */
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
#include "guard_conf.h"
#include "log.h"
#include "notify.h"
#include "report.h"
#include "server.h"
#include "server_state.h"
#include "worker.h"

#define STATUS_INTERVAL_MS 1000
/* How often worker 0 looks whether every worker has applied a reload. */
#define RELOAD_POLL_MS 5

size_t
server_workers_wanted(const struct echod_config *cfg)
{
	cpu_set_t set;

	if (cfg->workers > 0)
		return (size_t)cfg->workers;
	/* One per CPU this process may run on (taskset and CPUAffinity= are respected). */
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (size_t)CPU_COUNT(&set);
	return 1;
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
	stream_shared_set_limits(&s->shared, &cfg->limits);
	if (guard_conf_init(&s->guard, cfg) == -1)
		goto fail;
	s->guard_ready = true;
	s->nworkers = server_workers_wanted(cfg);
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
	reload_fini(&s->reload);
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

struct apply_ctx
server_apply_ctx(struct server *s)
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
	struct apply_ctx ctx = server_apply_ctx(s);
	struct report rep = { 0 };
	int failed = apply_config(&ctx, s->cfg, &rep, &s->unserved, &s->reload.retired_views);

	/* Nothing runs yet: views replaced at start-up were never read. */
	retired_views_free(&s->reload.retired_views);
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

	if (reload_poll(s) == -1)
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

	guard_get_stats(&s->guard, &sl);
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
	    sl.capacity, sl.evicted, sl.unbalanced, stream_shared_buffered(&s->shared),
	    t.tcp_starved);
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
	format_time(s->reload.last_at, when, sizeof(when));
	if (s->reload.last.count == 0)
		report_add(out, "last reload: none");
	else
		report_add(out, "last reload: %s (%s)", s->reload.last.failed ? "failed" : "ok",
		    when);
	report_append(out, &s->reload.last, "  ");
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
		reload_start(s, c);
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
