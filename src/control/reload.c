/* SPDX-License-Identifier: MIT */
/* reload: re-read the configuration and apply it, one reload at a time, answering who asked. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compile.h"
#include "log.h"
#include "notify.h"
#include "preflight.h"
#include "probe_run.h"
#include "reload.h"
#include "stamp_conf.h"
#include "server_state.h"

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
		if (!apply_line_logged(rep->lines[i]))
			log_info("reload: %s", rep->lines[i]);
}

/* The reload is over (applied by every worker, or refused): tell everyone who asked. */
static void
reload_done(struct server *s)
{
	struct reload *r = &s->reload;
	struct report *rep = &r->report;

	if (rep->failed)
		log_struct(LOG_WARNING, ECHOD_MSGID_RELOAD_FAILED, NULL, "%s",
		    rep->lines[rep->count - 1]);
	else
		log_struct(LOG_NOTICE, ECHOD_MSGID_RELOAD, NULL, "%s", rep->lines[rep->count - 1]);
	atomic_fetch_add(rep->failed ? &r->count_failed : &r->count_ok, 1);
	atomic_store(&r->last_ok, !rep->failed);
	if (!rep->failed)
		atomic_store(&r->ok_at, (uint64_t)time(NULL));
	waiters_answer(&r->answer_now, rep);
	report_clear(&r->last);
	r->last = *rep;
	*rep = (struct report){ 0 };
	r->last_at = time(NULL);
	notify_ready();
	if (!r->queued)
		return;
	/* Those who asked during this one get the next: it reads the files after them. */
	r->queued = false;
	waiters_clear(&r->answer_now);
	r->answer_now = r->answer_next;
	r->answer_next = (struct waiters){ 0 };
	reload_start(s, NULL);
}

/* Every worker applies the messages posted so far, then counts down r->acks. */
static void
reload_sync(struct server *s)
{
	struct reload *r = &s->reload;

	atomic_store(&r->acks, (int)s->nworkers);
	for (size_t i = 0; i < s->nworkers; i++)
		if (worker_sync(s->workers[i], &r->acks) == -1)
			atomic_fetch_sub(&r->acks, 1);
}

/*
 * cfg, applied to the sockets, becomes the generation in force; the workers
 * watch the sockets it opened. cfg is the generation's from here on (freed
 * with it, or here when it cannot be compiled: the running one stays).
 */
static void
reload_publish(struct server *s, struct echod_config *cfg)
{
	struct apply_ctx ctx = server_apply_ctx(s);
	struct generation *gen;

	pthread_mutex_lock(&s->listeners_lock);
	gen = compile_generation(&s->listeners, cfg, &s->reload.report);
	if (gen != NULL) {
		apply_publish(&ctx, gen, &s->reload.report);
		s->cfg = cfg;
		s->loaded_at = time(NULL);
	}
	pthread_mutex_unlock(&s->listeners_lock);
	if (gen != NULL) {
		server_set_limits(s, cfg);
		/* At once: the resolver's entries point into the configuration going away. */
		(void)probe_run_load(s->probes, cfg);
	}
	reload_log_lines(&s->reload.report);
	reload_sync(s);
}

/*
 * Done once every worker has applied the reload's messages (let the closed
 * sockets go, first serving what their backlogs held under the generation
 * they were opened for; then watch the new ones). The old generation is
 * RCU's business.
 */
int
reload_poll(struct server *s)
{
	struct reload *r = &s->reload;
	struct report *rep = &r->report;
	struct echod_config *next = r->next_cfg;

	if (!r->running)
		return 0;
	if (atomic_load(&r->acks) > 0)
		return -1;
	if (next != NULL) {
		r->next_cfg = NULL;
		reload_publish(s, next);
		return -1;
	}
	r->running = false;
	if (rep->failed)
		report_fail(rep, "configuration reloaded from %s (%zu file%s), but not all of it "
		    "applied: %zu listener%s open", s->cfg->path, s->cfg->nfiles,
		    s->cfg->nfiles == 1 ? "" : "s", s->listeners.count,
		    s->listeners.count == 1 ? "" : "s");
	else
		report_add(rep, "configuration reloaded from %s (%zu file%s): %zu listener%s",
		    s->cfg->path, s->cfg->nfiles, s->cfg->nfiles == 1 ? "" : "s",
		    s->listeners.count, s->listeners.count == 1 ? "" : "s");
	reload_done(s);
	return 0;
}

/* Parse (every file) and check; on failure the running configuration stays whole. */
static struct echod_config *
reload_read(struct server *s)
{
	struct config_errors errs = { 0 };
	struct echod_config *cfg = config_load(s->cfg->path, &errs);

	if (cfg != NULL && (preflight_check(cfg, PREFLIGHT_IDENTITY | PREFLIGHT_UNIX_DIRS,
	    &errs) > 0 || stamp_conf_prepare(cfg, s->cfg, &errs) == -1)) {
		config_free(cfg);
		cfg = NULL;
	}
	for (size_t i = 0; i < errs.count; i++) {
		log_struct(LOG_ERR, ECHOD_MSGID_RELOAD_FAILED, NULL, "%s", errs.lines[i]);
		report_fail(&s->reload.report, "%s", errs.lines[i]);
	}
	config_errors_free(&errs);
	return cfg;
}

/* What a reload from old to cfg leaves for the next restart: say so. */
static void
reload_notes(struct server *s, const struct echod_config *old, const struct echod_config *cfg)
{
	const char *was = old->control_socket, *now = cfg->control_socket;

	if (server_workers_wanted(cfg) != s->nworkers)
		report_add(&s->reload.report, "note: workers = %zu takes effect at the next "
		    "restart (running %zu)", server_workers_wanted(cfg), s->nworkers);
	if ((was == NULL) != (now == NULL) || (was != NULL && strcmp(was, now) != 0))
		report_add(&s->reload.report, "note: control_socket takes effect at the next "
		    "restart");
	if (!config_metrics_same(&old->metrics, &cfg->metrics))
		report_add(&s->reload.report, "note: metrics takes effect at the next restart "
		    "(systemctl restart echod; with a new address or port first: systemctl "
		    "daemon-reload && systemctl restart echod.socket)");
}

/*
 * Two phases: read every file; only if all is valid, apply the difference:
 * open and close sockets, compile the next generation and publish it (once
 * the closed sockets are drained, when there are any: reload_poll()).
 * Done (answers, READY=1) once every worker has synced: see reload_poll().
 */
void
reload_start(struct server *s, struct control_client *asker)
{
	struct apply_ctx ctx = server_apply_ctx(s);
	struct reload *r = &s->reload;
	struct echod_config *cfg;

	if (asker != NULL && waiters_add(r->running ? &r->answer_next : &r->answer_now,
	    asker) == -1) {
		struct report oom = { .failed = true };

		report_add(&oom, "error: out of memory");
		control_answer(asker, &oom);
		report_clear(&oom);
	}
	if (r->running) {
		log_info("reload asked for while one is applied: it follows");
		r->queued = true;
		return;
	}
	notify_reloading();
	cfg = reload_read(s);
	if (cfg == NULL) {
		report_fail(&r->report, "reload failed: keeping the running configuration "
		    "(%s)", s->cfg->path);
		reload_done(s);
		return;
	}
	reload_notes(s, s->cfg, cfg);
	status_rows_clear(&s->unserved);
	pthread_mutex_lock(&s->listeners_lock);
	apply_config(&ctx, cfg, &r->report, &s->unserved);
	pthread_mutex_unlock(&s->listeners_lock);
	r->running = true;
	if (ctx.unwatched == 0) {
		reload_publish(s, cfg);
		return;
	}
	/*
	 * Sockets it closes drain their backlogs first, under the generation in
	 * force (they are not in the next): publish once the workers let them go.
	 */
	r->next_cfg = cfg;
	reload_sync(s);
}

void
reload_fini(struct reload *r)
{
	config_free(r->next_cfg);
	r->next_cfg = NULL;
	waiters_clear(&r->answer_now);
	waiters_clear(&r->answer_next);
	report_clear(&r->report);
	report_clear(&r->last);
}
