/* SPDX-License-Identifier: MIT */
/* Replies off the engine's sockets: read until the socket is empty, with the source address
 * and the TOS or traffic class each came with. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "probe_int.h"

/* The TOS byte of a reply from its ancillary data; -1 when absent. */
static int
probe_recv_tos(struct msghdr *m)
{
	struct cmsghdr *c;
	int v;

	for (c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS &&
		    c->cmsg_len >= CMSG_LEN(1))
			return *(uint8_t *)CMSG_DATA(c);
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(int))) {
			memcpy(&v, CMSG_DATA(c), sizeof(v));
			return v & 0xff;
		}
	}
	return -1;
}

void
probe_recv_dgram(struct probe_engine *e, int fd, double now)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int)) * 4];
	} ctl;
	struct sockaddr_storage from;
	struct iovec iov = { e->buf, sizeof(e->buf) };
	struct msghdr m;
	enum probe_proto proto = fd == e->fd[0][1] || fd == e->fd[1][1] ? PROBE_UDP : PROBE_STAMP;
	ssize_t n;

	for (;;) {
		memset(&m, 0, sizeof(m));
		m.msg_name = &from;
		m.msg_namelen = sizeof(from);
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = ctl.b;
		m.msg_controllen = sizeof(ctl.b);
		n = recvmsg(fd, &m, MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		/* EAGAIN: all read. An ICMP error queued on the socket (ECONNREFUSED) is
		 * consumed by this read and is one probe's failure: its timeout counts it. */
		if (n == -1 && errno != ECONNREFUSED && errno != EHOSTUNREACH &&
		    errno != ENETUNREACH)
			return;
		if (n >= 0)
			probe_reply(e, proto, (size_t)n, (struct sockaddr *)&from,
			    probe_recv_tos(&m), now);
	}
}
