/* SPDX-License-Identifier: MIT */
/* A receiving socket for echo-client's tests: what arrived on the wire, and from where. */
#ifndef ECHOD_TESTS_CLIENT_WIRE_H
#define ECHOD_TESTS_CLIENT_WIRE_H

#include <stddef.h>

/* One datagram as the receiving socket saw it. */
struct wire_dgram {
	size_t len;
	int tos;		/* IP_TOS / IPV6_TCLASS, -1 when not reported */
	int ttl;		/* IP_TTL / IPV6_HOPLIMIT, -1 when not reported */
	char from[64];		/* source address, numeric */
	int port;		/* source port */
	unsigned char data[64];	/* the first bytes of the payload */
};

/* A UDP socket on loopback of family (free port into *port) that reports TOS and TTL
 * (IP_RECVTOS/IP_RECVTTL or IPV6_RECVTCLASS/IPV6_RECVHOPLIMIT). Returns it, or -1. */
int wire_socket(int family, int *port);

/* The next datagram on fd, waiting at most timeout_ms. Returns 0, or -1 when none came. */
int wire_recv(int fd, struct wire_dgram *d, int timeout_ms);

/* A UDP port free on the IPv4 address ip right now, or -1. */
int wire_free_port(const char *ip);

#endif
