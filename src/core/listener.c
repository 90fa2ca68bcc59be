/* SPDX-License-Identifier: MIT */
/* listener: one listening socket (bound here or passed by systemd), and the set of them. */
#include <errno.h>
#include <stdint.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"

static int
copy_spec(struct listener_spec *dst, const struct listener_spec *src)
{
	*dst = *src;
	/* The ACL and STAMP settings belong to the config; workers read them in a generation. */
	memset(&dst->acl, 0, sizeof(dst->acl));
	memset(&dst->stamp, 0, sizeof(dst->stamp));
	dst->path = src->path != NULL ? strdup(src->path) : NULL;
	dst->where = src->where != NULL ? strdup(src->where) : NULL;
	if ((src->path != NULL && dst->path == NULL) || (src->where != NULL && dst->where == NULL))
		return -1;
	return 0;
}

static void
listener_free(struct listener *l)
{
	/* Connections still open on it keep the counters alive (their own references). */
	listener_stats_release(l->stats);
	free(l->spec.path);
	free(l->spec.where);
	free(l);
}

static struct listener *
listener_alloc(const struct listener_spec *spec)
{
	struct listener *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	if (copy_spec(&l->spec, spec) == -1) {
		listener_free(l);
		errno = ENOMEM;
		return NULL;
	}
	l->fd = -1;
	atomic_init(&l->refs, 1);
	return l;
}

static void
listener_name(struct listener *l)
{
	char where[ADDR_STRLEN];

	if (l->spec.proto == PROTO_UNIX)
		snprintf(l->name, sizeof(l->name), "unix %s", l->spec.path);
	else
		snprintf(l->name, sizeof(l->name), "%s %s", proto_name(l->spec.proto),
		    addr_format((const struct sockaddr *)&l->spec.addr, l->spec.addrlen,
		    where, sizeof(where)));
}

int
listener_unlink_stale(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r, saved;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	strncpy(sun.sun_path, path, sizeof(sun.sun_path) - 1);
	/*
	 * Never block: a blocking connect() to a live socket whose backlog is full
	 * waits until its owner accepts, possibly forever, and signals are not read
	 * during start-up or a reload. EAGAIN (backlog full) means in use too.
	 */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	saved = errno;
	close(fd);
	if (r == 0 || saved == EAGAIN || saved == EINPROGRESS) {
		errno = EADDRINUSE;
		return -1;
	}
	return unlink(path);
}

static int
bind_unix(struct listener *l)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (listener_unlink_stale(l->spec.path) == -1)
		return -1;
	strncpy(sun.sun_path, l->spec.path, sizeof(sun.sun_path) - 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	l->unlink_path = true;
	/* An echo service is harmless: anyone on the host may use it (like the TCP port). */
	(void)chmod(l->spec.path, 0666);
	l->fd = fd;
	l->family = AF_UNIX;
	return 0;
}

void
listener_prepare_stamp(int fd)
{
	int on = 1;

	/* Best effort: without them T2 comes from the clock and TTL and TOS are unknown. */
	(void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	/* Also on an IPv6 socket: its IPv4 peers' packets carry the IPv4 values. */
	(void)setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &on, sizeof(on));
	(void)setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &on, sizeof(on));
	(void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof(on));
	(void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, &on, sizeof(on));
}

void
listener_prepare_tos(int fd, bool on)
{
	int v = on;

	/* IP_RECVTOS on an IPv6 socket too: its IPv4 peers' datagrams carry a TOS. */
	(void)setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &v, sizeof(v));
	(void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, &v, sizeof(v));
}

int
listener_prepare_datagram(int fd, const struct sockaddr *bound)
{
	int on = 1;

	if (!addr_is_wildcard(bound))
		return 0;
	if (bound->sa_family == AF_INET6)
		return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on));
	if (bound->sa_family == AF_INET)
		return setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
	return 0;
}

static int
bind_inet(struct listener *l, int family, const struct sockaddr *sa, socklen_t len,
    bool reuseport)
{
	int type = proto_is_datagram(l->spec.proto) ? SOCK_DGRAM : SOCK_STREAM;
	int fd, on = 1, v6only;

	fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	/* Omitted address: one socket for IPv4 and IPv6; "::" written out: IPv6 only. */
	v6only = !l->spec.any_address;
	if (type == SOCK_STREAM &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto fail;
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) == -1)
		goto fail;
	if (type == SOCK_DGRAM && listener_prepare_datagram(fd, sa) == -1)
		goto fail;
	if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1)
		goto fail;
	if (bind(fd, sa, len) == -1)
		goto fail;
	l->fd = fd;
	l->family = family;
	return 0;
fail:
	on = errno;
	close(fd);
	errno = on;
	return -1;
}

static int
bind_any(struct listener *l, bool reuseport)
{
	struct sockaddr_storage v4;
	socklen_t len;

	if (bind_inet(l, AF_INET6, (struct sockaddr *)&l->spec.addr, l->spec.addrlen,
	    reuseport) == 0)
		return 0;
	if (errno != EAFNOSUPPORT)
		return -1;
	log_notice("%s: no IPv6 on this host, listening on IPv4 only", l->name);
	addr_wildcard(AF_INET, l->spec.port, &v4, &len);
	return bind_inet(l, AF_INET, (struct sockaddr *)&v4, len, reuseport);
}

struct listener *
listener_open(const struct listener_spec *spec, bool reuseport)
{
	struct listener *l = listener_alloc(spec);
	int r, saved;

	if (l == NULL)
		return NULL;
	listener_name(l);
	if (spec->proto == PROTO_UNIX)
		r = bind_unix(l);
	else if (spec->any_address)
		r = bind_any(l, reuseport);
	else
		r = bind_inet(l, spec->addr.ss_family, (const struct sockaddr *)&spec->addr,
		    spec->addrlen, reuseport);
	if (r == 0 && !proto_is_datagram(spec->proto) && listen(l->fd, SOMAXCONN) == -1)
		r = -1;
	l->reuseport = reuseport;
	if (r == -1) {
		saved = errno;
		l->refs = 1;
		listener_release(l);
		errno = saved;
		return NULL;
	}
	return l;
}

struct listener *
listener_adopt(int fd, const struct listener_spec *spec)
{
	struct listener *l = listener_alloc(spec);

	if (l == NULL)
		return NULL;
	l->fd = fd;
	l->family = spec->proto == PROTO_UNIX ? AF_UNIX : spec->addr.ss_family;
	l->passed = true;
	/* Read before echod ever changes it (listener_share_port() puts it back). */
	if (spec->proto != PROTO_UNIX) {
		int v = 0;
		socklen_t len = sizeof(v);

		if (getsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &v, &len) == 0)
			l->systemd_reuseport = v != 0;
		l->reuseport = l->systemd_reuseport;
	}
	listener_name(l);
	return l;
}

/*
 * SO_REUSEPORT lets the replacement of a listener bind the same port while
 * the old socket still serves (the kernel hands each connection to the most
 * specific socket). Only while a reload swaps them: otherwise a second echod
 * started by mistake must get "Address already in use". A passed socket's
 * SO_REUSEPORT is systemd's (ReusePort= in the unit): off means back to what
 * systemd set, so a unit that shares its port keeps sharing it.
 */
int
listener_share_port(struct listener *l, bool on)
{
	int v = on || l->systemd_reuseport;

	/* A reload asks every socket: only a change costs a system call. */
	if (l->spec.proto == PROTO_UNIX || (v != 0) == l->reuseport)
		return 0;
	if (setsockopt(l->fd, SOL_SOCKET, SO_REUSEPORT, &v, sizeof(v)) == -1)
		return -1;
	l->reuseport = v != 0;
	return 0;
}

bool
listener_is_stream(const struct listener *l)
{
	return !proto_is_datagram(l->spec.proto);
}

bool
listener_is_tcp(const struct listener *l)
{
	return l->spec.proto == PROTO_TCP;
}

uint16_t
listener_local_port(const struct listener *l)
{
	return l->spec.proto == PROTO_UNIX ? 0 : (uint16_t)l->spec.port;
}

void
listener_hold(struct listener *l)
{
	atomic_fetch_add(&l->refs, 1);
}

void
listener_release(struct listener *l)
{
	if (atomic_fetch_sub(&l->refs, 1) != 1)
		return;
	if (l->fd != -1)
		close(l->fd);
	/* After a switch away from root, only where control/handover.c could make it so. */
	if (l->unlink_path && unlink(l->spec.path) == -1 && errno != ENOENT)
		log_warn("cannot remove %s: %s (the next start replaces it)", l->spec.path,
		    strerror(errno));
	listener_free(l);
}

/*
 * Which counters it shows: a stamp listener has STAMP's beside the datagram
 * ones; a Unix one lacks those by peer address.
 */
static unsigned
listener_applies(const struct listener *l)
{
	if (l->spec.proto == PROTO_UNIX)
		return STATS_STREAM | STATS_LOCAL;
	if (listener_is_stream(l))
		return STATS_STREAM;
	return l->spec.proto == PROTO_STAMP ? STATS_DGRAM | STATS_STAMP : STATS_DGRAM;
}

int
listener_set_add(struct listener_set *set, struct listener *l)
{
	struct listener **grown;

	if (l->stats == NULL) {
		l->stats = listener_stats_new(l->name, proto_name(l->spec.proto),
		    listener_applies(l), set->nslots);
		if (l->stats == NULL)
			return -1;
	}
	grown = realloc(set->items, (set->count + 1) * sizeof(*grown));
	if (grown == NULL)
		return -1;
	set->items = grown;
	set->items[set->count++] = l;
	return 0;
}

void
listener_set_remove_at(struct listener_set *set, size_t index)
{
	memmove(&set->items[index], &set->items[index + 1],
	    (set->count - index - 1) * sizeof(set->items[0]));
	set->count--;
}

void
listener_set_clear(struct listener_set *set)
{
	for (size_t i = 0; i < set->count; i++)
		listener_release(set->items[i]);
	free(set->items);
	set->items = NULL;
	set->count = 0;
}
