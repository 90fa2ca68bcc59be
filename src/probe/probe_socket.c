/* SPDX-License-Identifier: MIT */
/* The engine's sockets: one unconnected UDP socket per address family and protocol, shared
 * by every target of that kind, opened when the first such target is added. */
#include <errno.h>
#include <netinet/in.h>
#include <unistd.h>

#include "probe_int.h"

/*
 * TTL 255 (RFC 5357 4.1.2 asks it of TWAMP senders): the reflector's Sender TTL then says
 * the hops exactly. The TOS or traffic class of each reply is read back (the DSCP it came
 * with); each probe's own DSCP goes in its sendmsg().
 */
static int
probe_socket_opts(int fd, int family)
{
	int on = 1, ttl = 255;

	if (family == AF_INET)
		return setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) == -1 ||
		    setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &on, sizeof(on)) == -1 ? -1 : 0;
	return setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof(ttl)) == -1 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, &on, sizeof(on)) == -1 ? -1 : 0;
}

int
probe_socket(struct probe_engine *e, int family, enum probe_proto proto)
{
	int *slot = &e->fd[family == AF_INET6][proto == PROBE_UDP], fd, saved;

	if (*slot != -1)
		return *slot;
	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (probe_socket_opts(fd, family) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	*slot = fd;
	return fd;
}
