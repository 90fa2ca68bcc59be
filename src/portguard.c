/* SPDX-License-Identifier: MIT */
/* portguard: the set of UDP source ports we never answer (echo/chargen loops, reflection). */
#include <netinet/in.h>
#include <string.h>

#include "portguard.h"

static void
portguard_set(struct portguard *pg, uint16_t port)
{
	pg->bits[port / 64] |= UINT64_C(1) << (port % 64);
}

void
portguard_init(struct portguard *pg, const uint16_t *ports, size_t n)
{
	memset(pg, 0, sizeof(*pg));
	/* Nothing legitimate sends from port 0, and a reply to it cannot be delivered. */
	portguard_set(pg, 0);
	for (size_t i = 0; i < n; i++)
		portguard_set(pg, ports[i]);
}

bool
portguard_drops(const struct portguard *pg, uint16_t port)
{
	return (pg->bits[port / 64] >> (port % 64)) & 1;
}

bool
portguard_drops_peer(const struct portguard *pg, const struct sockaddr *sa)
{
	const struct sockaddr_in *sin = (const void *)sa;
	const struct sockaddr_in6 *sin6 = (const void *)sa;

	if (sa->sa_family == AF_INET)
		return portguard_drops(pg, ntohs(sin->sin_port));
	if (sa->sa_family == AF_INET6)
		return portguard_drops(pg, ntohs(sin6->sin6_port));
	return false;
}
