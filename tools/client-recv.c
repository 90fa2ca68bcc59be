/* SPDX-License-Identifier: MIT */
/* Reading replies with what the kernel says about them: receive time, TTL, TOS, ICMP errors. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/icmp6.h>
#include <netinet/ip_icmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "client-io.h"
#include "client-recv.h"

#define RECV_CMSG_SPACE	512

/* One datagram and its control messages, from the socket or its error queue. */
struct recv_msg {
	union {
		char space[RECV_CMSG_SPACE];
		struct cmsghdr align;
	} ctl;
	struct iovec iov;
	struct msghdr msg;
};

static ssize_t
recv_msg(int fd, void *buf, size_t len, int flags, struct recv_msg *r)
{
	r->iov = (struct iovec){ .iov_base = buf, .iov_len = len };
	r->msg = (struct msghdr){
		.msg_iov = &r->iov, .msg_iovlen = 1,
		.msg_control = r->ctl.space, .msg_controllen = sizeof(r->ctl.space),
	};
	return recvmsg(fd, &r->msg, flags);
}

uint64_t
recv_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void
recv_cmsg_one(const struct cmsghdr *c, struct recv_meta *m)
{
	struct timespec ts;
	int v;

	if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
		memcpy(&ts, CMSG_DATA(c), sizeof(ts));
		m->kernel_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
		return;
	}
	if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) {
		/* IP_TOS arrives as one byte, IP_TTL as an int. */
		m->tos = *(const unsigned char *)CMSG_DATA(c);
		return;
	}
	if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
	    (c->cmsg_level == IPPROTO_IPV6 && (c->cmsg_type == IPV6_HOPLIMIT ||
	    c->cmsg_type == IPV6_TCLASS))) {
		memcpy(&v, CMSG_DATA(c), sizeof(v));
		if (c->cmsg_type == IPV6_TCLASS && c->cmsg_level == IPPROTO_IPV6)
			m->tos = v;
		else
			m->ttl = v;
	}
}

ssize_t
recv_meta(int fd, void *buf, size_t len, int flags, struct recv_meta *m)
{
	struct recv_msg r;
	struct cmsghdr *c;
	ssize_t n;

	m->kernel_ns = 0;
	m->ttl = m->tos = -1;
	n = recv_msg(fd, buf, len, flags, &r);
	m->mono = io_now();
	if (n < 0)
		return n;
	for (c = CMSG_FIRSTHDR(&r.msg); c != NULL; c = CMSG_NXTHDR(&r.msg, c))
		recv_cmsg_one(c, m);
	return n;
}

/* ping's wording (iputils ping_common.c / ping6_common.c), so logs read the same. */
static void
recv_icmp4_text(struct recv_error *e)
{
	static const char *const unreach[] = {
		"Destination Net Unreachable", "Destination Host Unreachable",
		"Destination Protocol Unreachable", "Destination Port Unreachable",
		NULL, "Source Route Failed", "Destination Net Unknown",
		"Destination Host Unknown", "Source Host Isolated",
		"Destination Net Prohibited", "Destination Host Prohibited",
		"Destination Net Unreachable for Type of Service",
		"Destination Host Unreachable for Type of Service",
		"Packet filtered", "Precedence Violation", "Precedence Cutoff",
	};

	if (e->type == ICMP_DEST_UNREACH && e->code == ICMP_FRAG_NEEDED)
		snprintf(e->text, sizeof(e->text), "Frag needed and DF set (mtu = %d)", e->mtu);
	else if (e->type == ICMP_DEST_UNREACH && e->code >= 0 && e->code < 16)
		snprintf(e->text, sizeof(e->text), "%s", unreach[e->code]);
	else if (e->type == ICMP_TIME_EXCEEDED)
		snprintf(e->text, sizeof(e->text), "Time to live exceeded");
	else
		snprintf(e->text, sizeof(e->text), "ICMP type %d code %d", e->type, e->code);
}

static void
recv_icmp6_text(struct recv_error *e)
{
	static const char *const unreach[] = {
		"No route", "Administratively prohibited", "Beyond scope of source address",
		"Address unreachable", "Port unreachable", "Source address failed ingress/egress "
		"policy", "Reject route to destination",
	};

	if (e->type == ICMP6_DST_UNREACH && e->code >= 0 && e->code < 7)
		snprintf(e->text, sizeof(e->text), "Destination unreachable: %s",
		    unreach[e->code]);
	else if (e->type == ICMP6_PACKET_TOO_BIG)
		snprintf(e->text, sizeof(e->text), "Packet too big: mtu=%d", e->mtu);
	else if (e->type == ICMP6_TIME_EXCEEDED)
		snprintf(e->text, sizeof(e->text), "Time exceeded: Hop limit");
	else
		snprintf(e->text, sizeof(e->text), "ICMPv6 type %d code %d", e->type, e->code);
}

void
recv_local_error(struct recv_error *e, int err, int mtu)
{
	memset(e, 0, sizeof(*e));
	e->err = err;
	e->local = true;
	e->type = e->code = -1;
	e->mtu = err == EMSGSIZE ? mtu : 0;
	if (e->mtu > 0)
		snprintf(e->text, sizeof(e->text), "local error: %s, mtu = %d", strerror(err),
		    mtu);
	else
		snprintf(e->text, sizeof(e->text), "local error: %s", strerror(err));
}

static void
recv_error_fill(struct recv_error *e, const struct sock_extended_err *ee, int family)
{
	const struct sockaddr *off = SO_EE_OFFENDER(ee);

	if (ee->ee_origin == SO_EE_ORIGIN_LOCAL) {
		recv_local_error(e, (int)ee->ee_errno, (int)ee->ee_info);
		return;
	}
	memset(e, 0, sizeof(*e));
	e->err = (int)ee->ee_errno;
	e->type = ee->ee_type;
	e->code = ee->ee_code;
	if (off->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)off)->sin_addr, e->from,
		    sizeof(e->from));
	else if (off->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)off)->sin6_addr, e->from,
		    sizeof(e->from));
	if (ee->ee_origin == SO_EE_ORIGIN_ICMP6 || family == AF_INET6) {
		e->mtu = e->type == ICMP6_PACKET_TOO_BIG ? (int)ee->ee_info : 0;
		recv_icmp6_text(e);
	} else {
		e->mtu = e->type == ICMP_DEST_UNREACH && e->code == ICMP_FRAG_NEEDED ?
		    (int)ee->ee_info : 0;
		recv_icmp4_text(e);
	}
}

ssize_t
recv_error(int fd, int family, void *buf, size_t len, struct recv_error *e)
{
	struct recv_msg r;
	struct cmsghdr *c;
	ssize_t n;

	n = recv_msg(fd, buf, len, MSG_ERRQUEUE | MSG_DONTWAIT, &r);
	if (n < 0)
		return n;
	for (c = CMSG_FIRSTHDR(&r.msg); c != NULL; c = CMSG_NXTHDR(&r.msg, c))
		if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
		    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
			recv_error_fill(e, (const struct sock_extended_err *)CMSG_DATA(c),
			    family);
			return n;
		}
	errno = EAGAIN;	/* a queued entry that is not an IP error (a timestamp): skip it */
	return -1;
}
