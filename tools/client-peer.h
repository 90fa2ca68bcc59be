/* SPDX-License-Identifier: MIT */
/* echo-client's view of the server: HOST to addresses, connecting, naming the peer. */
#ifndef ECHOD_CLIENT_PEER_H
#define ECHOD_CLIENT_PEER_H

#include <stddef.h>
#include <sys/socket.h>

#include "client-opts.h"

/* "[" + 45 characters of IPv6 text + "]:65535", or "unix:" + a sun_path of 108. */
#define PEER_NAMELEN	128

struct peer {
	int family;
	int socktype;
	int protocol;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char name[PEER_NAMELEN];	/* "127.0.0.1:7", "[::1]:7", "unix:/run/echo" */
};

/*
 * Resolve the HOST and port of o into *list (*n entries, in getaddrinfo() order; free() the
 * list). Returns 0, or -1 after reporting why on stderr (the caller exits with status 2).
 */
int peer_resolve(const struct client_opts *o, struct peer **list, size_t *n);

/*
 * Connect a non-blocking socket, with o's packet options set, to the first of the n peers
 * that accepts within o->timeout seconds each, and point *chosen at it. Returns the socket,
 * or -1 after reporting every address's failure on stderr (or the option that failed).
 */
int peer_connect(const struct peer *list, size_t n, const struct client_opts *o,
    const struct peer **chosen);

#endif
