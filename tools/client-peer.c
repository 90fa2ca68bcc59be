/* SPDX-License-Identifier: MIT */
/* echo-client's view of the server: HOST to addresses, connecting, naming the peer. */
#include <err.h>
#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client-io.h"
#include "client-peer.h"
#include "client-sockopt.h"

static void
peer_name(struct peer *p)
{
	/* Numeric only: an IPv6 literal with a scope (fe80::1%eth0) and a port number. */
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 1], serv[NI_MAXSERV];
	int r;

	r = getnameinfo((struct sockaddr *)&p->addr, p->addrlen, host, sizeof(host), serv,
	    sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV);
	if (r != 0)
		snprintf(p->name, sizeof(p->name), "(unprintable address)");
	else if (p->family == AF_INET6)
		snprintf(p->name, sizeof(p->name), "[%s]:%s", host, serv);
	else
		snprintf(p->name, sizeof(p->name), "%s:%s", host, serv);
}

static int
peer_resolve_unix(const struct client_opts *o, struct peer **list, size_t *n)
{
	struct sockaddr_un *sun;
	struct peer *p;

	if (strlen(o->host) >= sizeof(sun->sun_path)) {
		warnx("unix:%s: path too long (at most %zu bytes)", o->host,
		    sizeof(sun->sun_path) - 1);
		return -1;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		warn("resolve");
		return -1;
	}
	sun = (struct sockaddr_un *)&p->addr;
	sun->sun_family = AF_UNIX;
	strcpy(sun->sun_path, o->host);
	p->family = AF_UNIX;
	p->socktype = SOCK_STREAM;
	p->addrlen = sizeof(*sun);
	snprintf(p->name, sizeof(p->name), "unix:%s", o->host);
	*list = p;
	*n = 1;
	return 0;
}

/* Accept "[::1]" as well as "::1": people paste bracketed literals from URLs. */
static const char *
peer_unbracket(const char *host, char *buf, size_t len)
{
	size_t n = strlen(host);

	if (n < 2 || host[0] != '[' || host[n - 1] != ']' || n - 1 > len)
		return host;
	memcpy(buf, host + 1, n - 2);
	buf[n - 2] = '\0';
	return buf;
}

int
peer_resolve(const struct client_opts *o, struct peer **list, size_t *n)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct peer *p;
	char buf[NI_MAXHOST];
	size_t i = 0;
	int r;

	if (o->family == AF_UNIX)
		return peer_resolve_unix(o, list, n);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = o->family;
	hints.ai_socktype = o->socktype;
	/* No AI_ADDRCONFIG: glibc ignores loopback when deciding which families are
	 * configured, so a host with only lo could not reach its own echo server. */
	r = getaddrinfo(peer_unbracket(o->host, buf, sizeof(buf)), o->port, &hints, &res);
	if (r != 0) {
		warnx("%s port %s: %s", o->host, o->port,
		    r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next)
		i++;
	p = calloc(i, sizeof(*p));
	if (p == NULL) {
		warn("resolve");
		freeaddrinfo(res);
		return -1;
	}
	for (i = 0, ai = res; ai != NULL; ai = ai->ai_next, i++) {
		p[i].family = ai->ai_family;
		p[i].socktype = ai->ai_socktype;
		p[i].protocol = ai->ai_protocol;
		memcpy(&p[i].addr, ai->ai_addr, ai->ai_addrlen);
		p[i].addrlen = ai->ai_addrlen;
		peer_name(&p[i]);
	}
	freeaddrinfo(res);
	*list = p;
	*n = i;
	return 0;
}

/* Connect one socket; returns it, or -1 with errno (ETIMEDOUT when the peer kept silent;
 * EINVAL once an option could not be set, which sockopt_apply() has reported). */
static int
peer_connect_one(const struct peer *p, const struct client_opts *o)
{
	double timeout = o->timeout;
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	int fd, err = 0, r, saved;

	fd = socket(p->family, p->socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, p->protocol);
	if (fd == -1)
		return -1;
	if (sockopt_apply(fd, p, o) == -1) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	/* A connected UDP socket gets ICMP errors (port unreachable) reported by recv(). */
	if (connect(fd, (const struct sockaddr *)&p->addr, p->addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS)
		goto fail;
	pfd.fd = fd;
	pfd.events = POLLOUT;
	r = io_wait(&pfd, 1, io_now() + timeout);
	if (r == 0)
		errno = ETIMEDOUT;
	if (r <= 0)
		goto fail;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		goto fail;
	if (err == 0)
		return fd;
	errno = err;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int
peer_connect(const struct peer *list, size_t n, const struct client_opts *o,
    const struct peer **chosen)
{
	double timeout = o->timeout;
	int fd = -1, *errs;
	size_t i;

	errs = calloc(n, sizeof(*errs));
	if (errs == NULL) {
		warn("connect");
		return -1;
	}
	for (i = 0; i < n && fd == -1; i++) {
		fd = peer_connect_one(&list[i], o);
		errs[i] = errno;
		*chosen = &list[i];
		if (fd == -1 && errno == EINVAL) {
			free(errs);	/* the options, not the address: said already */
			return -1;
		}
		if (fd == -1 && errno == EINTR)
			break;
	}
	for (size_t j = 0; fd == -1 && j < i; j++) {
		if (errs[j] == ETIMEDOUT)
			warnx("connect to %s: timed out after %g s", list[j].name, timeout);
		else if (errs[j] == EINTR)
			warnx("connect to %s: interrupted", list[j].name);
		else
			warnx("connect to %s: %s", list[j].name, strerror(errs[j]));
	}
	free(errs);
	return fd;
}
