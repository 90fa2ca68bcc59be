/* SPDX-License-Identifier: MIT */
/* Reading replies with what the kernel says about them: receive time, TTL, TOS, ICMP errors. */
#ifndef ECHOD_CLIENT_RECV_H
#define ECHOD_CLIENT_RECV_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct recv_meta {
	double mono;		/* io_now() right after the read */
	uint64_t kernel_ns;	/* SO_TIMESTAMPNS receive time (CLOCK_REALTIME), 0 when none */
	int ttl;		/* received TTL or hop limit, -1 when not reported */
	int tos;		/* received TOS or traffic class, -1 when not reported */
};

/* recvmsg() one datagram or stream chunk with its metadata. Returns what recv() would. */
ssize_t recv_meta(int fd, void *buf, size_t len, int flags, struct recv_meta *m);

struct recv_error {
	int err;		/* the errno it stands for (ECONNREFUSED, EMSGSIZE, ...) */
	bool local;		/* raised by this host (EMSGSIZE on send), not by an ICMP */
	int type, code;		/* the ICMP or ICMPv6 type and code; -1 for a local error */
	int mtu;		/* the MTU reported with "frag needed" / "too big", else 0 */
	char from[INET6_ADDRSTRLEN];	/* who sent the ICMP error, "" when unknown */
	char text[80];		/* ping's words: "Destination Port Unreachable" */
};

/*
 * Take one error off fd's error queue (IP_RECVERR): its details into *e and the payload of
 * the datagram it answers (as much as the ICMP quoted) into buf. Returns the payload's
 * length, or -1 with errno (EAGAIN: the queue is empty).
 */
ssize_t recv_error(int fd, int family, void *buf, size_t len, struct recv_error *e);

/* A local error as recv_error() would describe it (send() failed with err, mtu if known). */
void recv_local_error(struct recv_error *e, int err, int mtu);

/* CLOCK_REALTIME in nanoseconds. */
uint64_t recv_realtime_ns(void);

#endif
