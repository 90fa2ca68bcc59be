/* SPDX-License-Identifier: MIT */
/* Packet options on echo-client's socket (-t -Q -I -B -M) and what the kernel reports back. */
#include <err.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <string.h>
#include <sys/socket.h>

#include "client-peer.h"
#include "client-sockopt.h"

static int
sockopt_int(int fd, int level, int name, int value, const char *what)
{
	if (setsockopt(fd, level, name, &value, sizeof(value)) == 0)
		return 0;
	warn("%s", what);
	return -1;
}

static int
sockopt_pmtu(int fd, int family, enum client_pmtu m)
{
	static const int v4[] = {
		[PMTU_DO] = IP_PMTUDISC_DO, [PMTU_WANT] = IP_PMTUDISC_WANT,
		[PMTU_DONT] = IP_PMTUDISC_DONT, [PMTU_PROBE] = IP_PMTUDISC_PROBE,
	};
	static const int v6[] = {
		[PMTU_DO] = IPV6_PMTUDISC_DO, [PMTU_WANT] = IPV6_PMTUDISC_WANT,
		[PMTU_DONT] = IPV6_PMTUDISC_DONT, [PMTU_PROBE] = IPV6_PMTUDISC_PROBE,
	};

	if (m == PMTU_UNSET)
		return 0;
	if (family == AF_INET6)
		return sockopt_int(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, v6[m], "-M");
	return sockopt_int(fd, IPPROTO_IP, IP_MTU_DISCOVER, v4[m], "-M");
}

/* -I ADDR or -B ADDR[:PORT]: bind before connect, so the kernel keeps our choice. */
static int
sockopt_bind(int fd, const struct peer *p, const struct client_opts *o)
{
	struct addrinfo hints, *ai = NULL;
	int r, on = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = p->family;
	hints.ai_socktype = p->socktype;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	r = getaddrinfo(o->src_addr, o->src_port != NULL ? o->src_port : "0", &hints, &ai);
	if (r != 0) {
		warnx("source address %s: not an %s address", o->src_addr,
		    p->family == AF_INET6 ? "IPv6" : "IPv4");
		return -1;
	}
	/* A fixed source port is often reused run after run; TCP's TIME_WAIT would refuse. */
	if (o->src_port != NULL)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	r = bind(fd, ai->ai_addr, ai->ai_addrlen);
	if (r == -1)
		warn("bind to source %s%s%s", o->src_addr, o->src_port ? " port " : "",
		    o->src_port ? o->src_port : "");
	freeaddrinfo(ai);
	return r;
}

/* What the replies report: TTL and TOS, and errors queued with their ICMP details. */
static int
sockopt_reports(int fd, const struct peer *p)
{
	int on = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) == -1)
		return -1;
	if (p->socktype != SOCK_DGRAM)
		return 0;
	if (p->family == AF_INET6)
		return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof(on)) |
		    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof(on)) |
		    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, &on, sizeof(on));
	return setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof(on)) |
	    setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &on, sizeof(on)) |
	    setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &on, sizeof(on));
}

int
sockopt_apply(int fd, const struct peer *p, const struct client_opts *o)
{
	bool v6 = p->family == AF_INET6;

	if (p->family == AF_UNIX)
		return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &(int){ 1 }, sizeof(int));
	if (sockopt_reports(fd, p) == -1) {
		warn("socket options");
		return -1;
	}
	if (o->ttl != 0 && sockopt_int(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
	    v6 ? IPV6_UNICAST_HOPS : IP_TTL, o->ttl, "-t") == -1)
		return -1;
	if (o->tos != -1 && sockopt_int(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
	    v6 ? IPV6_TCLASS : IP_TOS, o->tos, "-Q") == -1)
		return -1;
	if (sockopt_pmtu(fd, p->family, o->pmtu) == -1)
		return -1;
	if (o->iface != NULL && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o->iface,
	    (socklen_t)strlen(o->iface)) == -1) {
		warn("-I %s", o->iface);
		return -1;
	}
	if (o->src_addr != NULL && sockopt_bind(fd, p, o) == -1)
		return -1;
	return 0;
}

int
sockopt_path_mtu(int fd, int family)
{
	int mtu = 0;
	socklen_t len = sizeof(mtu);

	if (family == AF_INET6 ? getsockopt(fd, IPPROTO_IPV6, IPV6_MTU, &mtu, &len) :
	    getsockopt(fd, IPPROTO_IP, IP_MTU, &mtu, &len))
		return 0;
	return mtu;
}
