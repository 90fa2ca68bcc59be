/* SPDX-License-Identifier: MIT */
/* A receiving socket for echo-client's tests: what arrived on the wire, and from where. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client-servers.h"
#include "client-wire.h"

int
wire_socket(int family, int *port)
{
	int fd = server_bind(family, SOCK_DGRAM, 0), on = 1;

	if (fd == -1)
		return -1;
	if ((family == AF_INET6 &&
	    (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof(on)) == -1)) ||
	    (family == AF_INET &&
	    (setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &on, sizeof(on)) == -1))) {
		close(fd);
		return -1;
	}
	*port = server_port_of(fd);
	return fd;
}

static void
wire_cmsg(const struct cmsghdr *c, struct wire_dgram *d)
{
	int v;

	if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) {
		d->tos = *(const unsigned char *)CMSG_DATA(c);
		return;
	}
	memcpy(&v, CMSG_DATA(c), sizeof(v));
	if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL)
		d->ttl = v;
	else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS)
		d->tos = v;
	else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)
		d->ttl = v;
}

int
wire_recv(int fd, struct wire_dgram *d, int timeout_ms)
{
	char buf[65536], ctl[512];
	struct sockaddr_storage ss;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr msg = {
		.msg_name = &ss, .msg_namelen = sizeof(ss), .msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl, .msg_controllen = sizeof(ctl),
	};
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct cmsghdr *c;
	ssize_t n;

	memset(d, 0, sizeof(*d));
	d->tos = d->ttl = -1;
	if (poll(&pfd, 1, timeout_ms) != 1)
		return -1;
	n = recvmsg(fd, &msg, MSG_DONTWAIT);
	if (n < 0)
		return -1;
	d->len = (size_t)n;
	memcpy(d->data, buf, d->len < sizeof(d->data) ? d->len : sizeof(d->data));
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c))
		wire_cmsg(c, d);
	if (ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, d->from,
		    sizeof(d->from));
		d->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, d->from,
		    sizeof(d->from));
		d->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	return 0;
}

int
wire_free_port(const char *ip)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), port = -1;

	if (fd == -1 || inet_pton(AF_INET, ip, &a.sin_addr) != 1)
		goto done;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
done:
	if (fd != -1)
		close(fd);
	return port;
}
