/* SPDX-License-Identifier: MIT */
/* ownaddr: this host's own addresses (every interface's), so a mesh file can list them all. */
#ifndef ECHOD_OWNADDR_H
#define ECHOD_OWNADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct ownaddr {
	unsigned char (*addr)[16];	/* IPv4 as ::ffff:a.b.c.d (addr_to_v6()) */
	unsigned *ifindex;		/* the interface of each */
	size_t n;
};

/*
 * Every IPv4 and IPv6 address of every interface, up or down (getifaddrs()),
 * into own (free with ownaddr_free()). 0, or -1 with errno.
 */
int	ownaddr_load(struct ownaddr *own);
void	ownaddr_free(struct ownaddr *own);

/*
 * Is sa (IPv4, IPv6 or IPv4-mapped; the port is not looked at) this host's?
 * Loopback (127.0.0.0/8, ::1) always is: only this host answers it. A
 * link-local address with a scope is only if that interface has it.
 */
bool	ownaddr_contains(const struct ownaddr *own, const struct sockaddr *sa);

#endif
