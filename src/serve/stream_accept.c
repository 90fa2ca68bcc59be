/* SPDX-License-Identifier: MIT */
/* stream_accept: a listening stream socket in one worker: accept, admission, pause and resume. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "stream.h"

/* Connections accepted per readiness event before yielding. */
#define STREAM_ACCEPT_BUDGET	64
/* At most this many connections taken from a listener's backlog as it is removed. */
#define STREAM_DRAIN_MAX	4096
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

static void
conn_log_accepted(int fd, const struct sockaddr *peer, socklen_t len)
{
	char text[ADDR_STRLEN], field[ADDR_STRLEN + 12];
	const char *fields[] = { field, NULL };

	snprintf(field, sizeof(field), "ECHOD_PEER=%s", addr_format_peer(peer, len, text,
	    sizeof(text)));
	log_struct(LOG_DEBUG, NULL, fields, "connection fd %d from %s", fd, text);
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
static enum guard_verdict
conn_admit(struct stream_watch *watch, const struct sockaddr *peer,
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
stream_admit(struct stream_watch *watch, int fd, const struct sockaddr *peer,
    const struct guard_policy *p, const struct acl *acl)
{
	enum guard_verdict v = conn_admit(watch, peer, p, acl);

	if (v != GUARD_PASS && v != GUARD_PASS_COUNTED) {
		close(fd);
		return;
	}
	if (stream_conn_start(watch, fd, peer, v == GUARD_PASS_COUNTED) == -1) {
		if (v == GUARD_PASS_COUNTED)
			guard_connection_closed(watch->sw->guard, peer);
		close(fd);
		atomic_fetch_sub(&watch->sw->shared->open, 1);
	}
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

/* The address the peer dialled (view_local_fn; arg: the accepted socket). */
static int
conn_local(void *arg, struct sockaddr_storage *local)
{
	socklen_t len = sizeof(*local);

	return getsockname(*(const int *)arg, (struct sockaddr *)local, &len);
}

/*
 * Is the address the peer dialled one the configuration lists? Sets *acl
 * to the ACL of the stream handler there.
 */
static bool
conn_local_listed(int cfd, const struct listener_view *view, const struct acl **acl)
{
	const struct stream_handler *h;

	if (!view_stream_local(view, conn_local, &cfd, &h))
		return false;
	*acl = h != NULL ? h->acl : NULL;
	return true;
}

/* A reset, not a FIN: the client learns at once that nothing is served there. */
static void
conn_reset(int fd)
{
	struct linger lg = { 1, 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* accept4() with the peer's address; the generation in force is read once per connection. */
static int
watch_accept(struct stream_watch *watch)
{
	const struct listener_view *view;
	const struct generation *g = generation_cursor_read(&watch->served, &view);
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	const struct acl *acl;
	int cfd = accept4(watch->w.fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (cfd == -1)
		return -1;
	if (len < sizeof(sa_family_t) || len > sizeof(ss))
		ss.ss_family = AF_UNSPEC;
	if (g == NULL || !conn_local_listed(cfd, view, &acl)) {
		stream_refuse(watch->sw, watch->ls, watch->slot, (struct sockaddr *)&ss,
		    REFUSAL_UNLISTED);
		conn_reset(cfd);
		return 0;
	}
	if (log_enabled(LOG_DEBUG))
		conn_log_accepted(cfd, (struct sockaddr *)&ss, len);
	stream_admit(watch, cfd, (struct sockaddr *)&ss, generation_policy(g), acl);
	return 0;
}

/* Out of descriptors: stop watching the listener instead of spinning on it. */
static void
watch_pause(struct stream_watch *watch)
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

static void
accept_cb(int fd, uint32_t events, void *arg)
{
	struct stream_watch *watch = arg;

	for (int budget = STREAM_ACCEPT_BUDGET; budget > 0; budget--) {
		if (watch_accept(watch) == 0)
			continue;
		switch (errno) {
		case EAGAIN:
			return;
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
		case EPERM:		/* refused by a firewall rule */
			continue;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			watch_pause(watch);
			return;
		default:
			log_warn("accept on fd %d", fd);
			return;
		}
	}
}

int
stream_watch_start(struct stream_watch *watch, struct stream_worker *sw, int fd, bool nodelay,
    const void *key, struct listener_stats *ls)
{
	watch->sw = sw;
	watch->served = (struct generation_cursor){ .slot = sw->generations, .key = key };
	watch->ls = ls;
	watch->slot = listener_stats_slot(ls, sw->id);
	watch->nodelay = nodelay;
	watch->paused = false;
	watch->next_paused = NULL;
	/* EXCLUSIVE: one worker wakes per new connection, not all of them. */
	return loop_add(sw->loop, &watch->w, fd, EPOLLIN | EPOLLEXCLUSIVE, accept_cb, watch);
}

/*
 * Closing a listening socket resets the connections still in its backlog:
 * clients that completed the handshake before a reload. Take them first.
 */
static void
watch_drain_backlog(struct stream_watch *watch)
{
	for (int i = 0; i < STREAM_DRAIN_MAX && !watch->paused; i++) {
		if (watch_accept(watch) == -1 && errno != EINTR && errno != ECONNABORTED)
			return;
	}
}

void
stream_watch_stop(struct stream_watch *watch, bool drain)
{
	struct stream_worker *sw = watch->sw;

	if (drain)
		watch_drain_backlog(watch);
	if (!watch->paused) {
		loop_del(sw->loop, &watch->w);
		return;
	}
	for (struct stream_watch **pp = &sw->paused; *pp != NULL; pp = &(*pp)->next_paused) {
		if (*pp == watch) {
			*pp = watch->next_paused;
			break;
		}
	}
	watch->paused = false;
}

