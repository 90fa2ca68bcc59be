/* SPDX-License-Identifier: MIT */
/* portguard: the UDP source ports we never answer (echo loops, reflection), for any source. */
#include <netinet/in.h>
#include <string.h>

#include "portguard.h"

void
portguard_add(struct portguard *pg, uint16_t port)
{
	pg->bits[port / 64] |= UINT64_C(1) << (port % 64);
}

void
portguard_init(struct portguard *pg, const uint16_t *ports, size_t n)
{
	memset(pg, 0, sizeof(*pg));
	/* Nothing legitimate sends from port 0, and a reply to it cannot be delivered. */
	portguard_add(pg, 0);
	for (size_t i = 0; i < n; i++)
		portguard_add(pg, ports[i]);
}

bool
portguard_drops(const struct portguard *pg, uint16_t port)
{
	return (pg->bits[port / 64] >> (port % 64)) & 1;
}

/* The source port of an IP peer in host byte order, or -1 for another family. */
static int
peer_port(const struct sockaddr *sa)
{
	const struct sockaddr_in *sin = (const void *)sa;
	const struct sockaddr_in6 *sin6 = (const void *)sa;

	if (sa->sa_family == AF_INET)
		return ntohs(sin->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(sin6->sin6_port);
	return -1;
}

bool
portguard_drops_peer(const struct portguard *pg, const struct sockaddr *sa)
{
	int port = peer_port(sa);

	return port != -1 && portguard_drops(pg, (uint16_t)port);
}

bool
portguard_refuses(const struct portguard *pg, const struct sockaddr *peer, uint16_t local,
    uint16_t min)
{
	int port = peer_port(peer);

	if (port == -1)
		return false;
	return port < min || port == local || portguard_drops(pg, (uint16_t)port);
}
