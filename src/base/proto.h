/* SPDX-License-Identifier: MIT */
/* proto: the kinds of listener, a word both the configuration and the data plane use. */
#ifndef ECHOD_PROTO_H
#define ECHOD_PROTO_H

#include <stdbool.h>

/* stamp: a STAMP session-reflector (RFC 8762) on a UDP socket. */
enum proto { PROTO_TCP, PROTO_UDP, PROTO_UNIX, PROTO_STAMP };

/* udp and stamp listeners are both datagram sockets: what binding and socket units see. */
static inline bool
proto_is_datagram(enum proto proto)
{
	return proto == PROTO_UDP || proto == PROTO_STAMP;
}

/* Would they be the same kind of socket (a stamp listener is a udp socket)? */
static inline bool
proto_same_socket(enum proto a, enum proto b)
{
	return a == b || (proto_is_datagram(a) && proto_is_datagram(b));
}

#endif
