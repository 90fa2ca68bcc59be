/* SPDX-License-Identifier: MIT */
/* portguard: the set of UDP source ports we never answer (echo/chargen loops, reflection). */
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

/* Is a datagram from this source port (host byte order) to be dropped? */
bool	portguard_drops(const struct portguard *pg, uint16_t port);

/* The same test on the port of an AF_INET/AF_INET6 peer; other families: not dropped. */
bool	portguard_drops_peer(const struct portguard *pg, const struct sockaddr *sa);

#endif
