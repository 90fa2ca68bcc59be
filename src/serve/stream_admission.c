/* SPDX-License-Identifier: MIT */
/*
 * stream_admission: what admitting a connection takes and gives back (the
 * connection count, the per-source count), refusals counted and noted, and
 * the listeners paused for want of a descriptor. stream_accept.c and
 * stream_conn.c both call down into it; it calls neither.
 */
#include <stdio.h>

#include "log.h"
#include "stream.h"

/* Out of descriptors: how long a paused listener waits before it tries again. */
#define STREAM_ACCEPT_RETRY_MS	100

/* loop_add(), unless a test scripts its failures (stream_resume_add_set()). */
static stream_loop_add_fn *resume_add = loop_add;

void
stream_resume_add_set(stream_loop_add_fn *fn)
{
	resume_add = fn == NULL ? loop_add : fn;
}

/* Said at most every 10 s: under a flood this would otherwise fill the journal. */
static bool
pause_log_due(struct stream_worker *sw)
{
	if (sw->pause_logged_at != 0 && loop_now(sw->loop) - sw->pause_logged_at < 10000)
		return false;
	sw->pause_logged_at = loop_now(sw->loop);
	return true;
}

/*
 * A watch leaves the paused list only once it is in the loop again: one
 * that loop_add() refuses (epoll out of memory) stays paused and is tried
 * again after STREAM_ACCEPT_RETRY_MS, like one out of descriptors.
 */
void
stream_watch_resume(struct stream_worker *sw)
{
	struct stream_watch **pp = &sw->paused, *watch;

	while ((watch = *pp) != NULL) {
		if (resume_add(sw->loop, &watch->w, watch->w.fd, EPOLLIN | EPOLLEXCLUSIVE,
		    watch->w.cb, watch) == -1) {
			if (pause_log_due(sw))
				log_warn("cannot watch listening fd %d again (trying again in %d ms)",
				    watch->w.fd, STREAM_ACCEPT_RETRY_MS);
			pp = &watch->next_paused;
			continue;
		}
		*pp = watch->next_paused;
		watch->next_paused = NULL;
		watch->paused = false;
	}
	if (sw->paused != NULL)
		sw->resume_at = loop_now(sw->loop) + STREAM_ACCEPT_RETRY_MS;
}

void
stream_refuse(struct stream_worker *sw, struct listener_stats *ls, struct echo_stats *slot,
    const struct sockaddr *peer, enum refusal_reason why)
{
	stream_count(sw, slot, (enum stat_id)(STAT_refused + why), 1);
	if (sw->shared->refusals != NULL)
		refusal_log_note(sw->shared->refusals, peer, why, ls->name, loop_now(sw->loop));
}

static int
over_connection_limit(struct stream_worker *sw)
{
	struct stream_shared *sh = sw->shared;
	long max = atomic_load_explicit(&sh->max_connections, memory_order_relaxed);

	if (atomic_fetch_add(&sh->open, 1) < max)
		return 0;
	atomic_fetch_sub(&sh->open, 1);
	return 1;
}

/*
 * Checks cheapest first; max_connections last, so that a peer refused for
 * its own sake is not counted against it. Every refusal is counted and noted.
 */
enum guard_verdict
stream_admission_take(struct stream_watch *watch, const struct sockaddr *peer,
    const struct guard_policy *p, const struct acl *acl)
{
	struct stream_worker *sw = watch->sw;
	enum guard_verdict v = guard_connection(sw->guard, p, acl, peer, loop_now(sw->loop));

	if (v != GUARD_PASS && v != GUARD_PASS_COUNTED) {
		stream_refuse(sw, watch->ls, watch->slot, peer, guard_verdict_reason(v));
		return v;
	}
	if (over_connection_limit(sw)) {
		if (v == GUARD_PASS_COUNTED)
			guard_connection_closed(sw->guard, peer);
		stream_refuse(sw, watch->ls, watch->slot, peer, REFUSAL_MAX_CONNECTIONS);
		return GUARD_SOURCE_CONNECTIONS;
	}
	return v;
}

void
stream_admit_release(struct stream_worker *sw, const struct sockaddr *counted)
{
	struct stream_shared *sh = sw->shared;

	if (counted != NULL)
		guard_connection_closed(sw->guard, counted);
	atomic_fetch_sub(&sh->open, 1);
	/* A descriptor was just freed: a listener paused for want of one may go on. */
	if (sw->paused != NULL)
		stream_watch_resume(sw);
}

/* Out of descriptors: stop watching the listener instead of spinning on it. */
void
stream_watch_pause(struct stream_watch *watch)
{
	struct stream_worker *sw = watch->sw;

	if (watch->paused)
		return;
	if (pause_log_due(sw))
		log_warn("accept on fd %d (pausing it for %d ms)", watch->w.fd,
		    STREAM_ACCEPT_RETRY_MS);
	if (loop_del(sw->loop, &watch->w) == -1)
		return;
	watch->paused = true;
	watch->next_paused = sw->paused;
	sw->paused = watch;
	sw->resume_at = loop_now(sw->loop) + STREAM_ACCEPT_RETRY_MS;
}

