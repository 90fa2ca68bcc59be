/* SPDX-License-Identifier: MIT */
/* Sockets towards the server under test: address, descriptor limit, the paced connect phase. */
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>

#include "bench.h"

/*
 * Connections still in the handshake at once. Many servers listen with a short backlog
 * (xinetd: 64); a burst of thousands of SYNs would only measure the kernel dropping them.
 */
#define NET_MAX_PENDING		128

/* Up to the hard limit: idle needs more descriptors than the usual soft 1024. */
int
net_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	rl.rlim_cur = rl.rlim_max;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

/* Numeric host only: a benchmark must not depend on a resolver. */
int
net_resolve(struct bench_opts *o)
{
	struct addrinfo hints, *res;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST;
	rc = getaddrinfo(o->host, NULL, &hints, &res);
	if (rc != 0) {
		errno = EINVAL;
		return -1;
	}
	memcpy(&o->addr, res->ai_addr, res->ai_addrlen);
	o->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	if (o->addr.ss_family == AF_INET)
		((struct sockaddr_in *)&o->addr)->sin_port = htons(o->port);
	else
		((struct sockaddr_in6 *)&o->addr)->sin6_port = htons(o->port);
	return 0;
}

static bool
net_is_loopback4(const struct bench_opts *o)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&o->addr;

	return o->addr.ss_family == AF_INET && (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
}

/*
 * A client socket to the server, not yet connected. With --sources N, TCP sockets to an IPv4
 * loopback server are bound to 127.0.0.(1 + n % N): tcp-connect opens tens of thousands of
 * connections a run, the client side of each sits in TIME_WAIT, and one source address has
 * only ~28000 ephemeral ports. The port is still chosen at connect() (IP_BIND_ADDRESS_NO_PORT).
 * Off by default: servers built with libwrap (xinetd) look up every peer's name, and
 * 127.0.0.2.. are not in /etc/hosts, so each connection would wait on a DNS query.
 */
int
net_socket(const struct bench_opts *o, int type, uint64_t n)
{
	struct sockaddr_in src;
	int fd, on = 1;

	fd = socket(o->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (type != SOCK_STREAM)
		return fd;
	/* Our own Nagle would delay the next request; what is measured is the server. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (o->sources > 1 && net_is_loopback4(o)) {
		memset(&src, 0, sizeof(src));
		src.sin_family = AF_INET;
		src.sin_addr.s_addr = htonl(0x7f000001 + (uint32_t)(n % (uint64_t)o->sources));
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof(on));
		/* Failure is harmless: connect() then picks 127.0.0.1 itself. */
		(void)bind(fd, (struct sockaddr *)&src, sizeof(src));
	}
	return fd;
}

static int
net_start(const struct bench_opts *o, int type, int ep, int i)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = (uint32_t)i };
	int fd, saved;

	fd = net_socket(o, type, (uint64_t)i);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&o->addr, o->addrlen) == -1 && errno != EINPROGRESS)
		goto fail;
	if (type == SOCK_STREAM && epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* A connect finished (EPOLLOUT): keep it, or count it failed. Returns 1 when up. */
static int
net_finish(int ep, int *fds, int i, struct bench_stats *st)
{
	int err = 0;
	socklen_t len = sizeof(err);

	epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], NULL);
	if (getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err != 0) {
		close(fds[i]);
		fds[i] = -1;
		st->connect_fail++;
		return 0;
	}
	return 1;
}

/* Close the sockets still registered (handshake unfinished) among the first n. */
static void
net_drop_pending(int ep, int *fds, int n)
{
	struct epoll_event ev;
	int i;

	for (i = 0; i < n; i++) {
		if (fds[i] != -1 && epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], &ev) == 0) {
			close(fds[i]);
			fds[i] = -1;
		}
	}
}

/*
 * Connect n sockets (TCP, or UDP for udp-pingpong) with at most NET_MAX_PENDING handshakes in
 * flight, within o->connect_ms. fds[i] is the socket or -1; failures are counted in st.
 * Returns how many are up, or -1 (errno) when no epoll could be made.
 */
int
net_connect_all(const struct bench_opts *o, int *fds, int n, struct bench_stats *st)
{
	int type = bench_mode_is_pingpong_dgram(o->mode) ? SOCK_DGRAM : SOCK_STREAM;
	int64_t left, deadline = bench_now() + (int64_t)o->connect_ms * 1000000;
	struct epoll_event evs[64];
	int ep, next = 0, pending = 0, up = 0, i, k;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep == -1)
		return -1;
	for (i = 0; i < n; i++)
		fds[i] = -1;
	while (next < n || pending > 0) {
		for (; next < n && pending < NET_MAX_PENDING; next++) {
			fds[next] = net_start(o, type, ep, next);
			if (fds[next] == -1)
				st->connect_fail++;
			else if (type == SOCK_STREAM)
				pending++;
			else
				up++;
		}
		/* UDP sockets are up at once: nothing to wait for. */
		if (pending == 0)
			continue;
		left = deadline - bench_now();
		if (left <= 0)
			break;
		k = epoll_wait(ep, evs, 64, (int)(left / 1000000) + 1);
		for (i = 0; i < k; i++) {
			up += net_finish(ep, fds, (int)evs[i].data.u32, st);
			pending--;
		}
	}
	/* Out of time: whatever is still in the handshake, or never started, failed. */
	st->connect_fail += (uint64_t)(pending + n - next);
	if (pending > 0)
		net_drop_pending(ep, fds, next);
	close(ep);
	return up;
}

void
net_close_all(int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (fds[i] != -1)
			close(fds[i]);
		fds[i] = -1;
	}
}
