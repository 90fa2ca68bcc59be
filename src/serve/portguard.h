/* SPDX-License-Identifier: MIT */
/* portguard: the UDP source ports we never answer (echo loops, reflection), for any source. */
#ifndef ECHOD_PORTGUARD_H
#define ECHOD_PORTGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * One bit per port (8 KiB), built once per configuration and read-only after
 * that, so any number of threads may test it without locking.
 */
struct portguard {
	uint64_t bits[65536 / 64];
};

/* Ports in host byte order. Port 0 is always dropped, whatever the list says. */
void	portguard_init(struct portguard *pg, const uint16_t *ports, size_t n);
/* Drop one more port (host byte order); only while the set is being built. */
void	portguard_add(struct portguard *pg, uint16_t port);

/* Is a datagram from this source port (host byte order) to be dropped? */
bool	portguard_drops(const struct portguard *pg, uint16_t port);

/* The same test on the port of an AF_INET/AF_INET6 peer; other families: not dropped. */
bool	portguard_drops_peer(const struct portguard *pg, const struct sockaddr *sa);

/*
 * Every source-port rule for a datagram from peer to a socket bound to port
 * local, under a listener whose udp_min_source_port is min: a port below min
 * (privileged: no client sends from one), the socket's own port (another
 * service like this one, answering us: the same-service loop), or one of the
 * set. Other families than AF_INET/AF_INET6 are not refused.
 */
bool	portguard_refuses(const struct portguard *pg, const struct sockaddr *peer,
	    uint16_t local, uint16_t min);

#endif
