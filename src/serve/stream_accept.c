/* SPDX-License-Identifier: MIT */
/* stream_accept: a listening stream socket in one worker: accept, check the address dialled, admit. */
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
stream_admit(struct stream_watch *watch, int fd, const struct sockaddr *peer,
    const struct guard_policy *p, const struct acl *acl)
{
	enum guard_verdict v = stream_admission_take(watch, peer, p, acl);

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
			stream_watch_pause(watch);
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

