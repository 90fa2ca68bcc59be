/* SPDX-License-Identifier: MIT */
/* ownaddr: this host's own addresses (every interface's), so a mesh file can list them all. */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "ownaddr.h"

static int
own_add(struct ownaddr *own, const struct sockaddr *sa, unsigned ifindex)
{
	unsigned char (*addr)[16];
	unsigned *idx;

	addr = realloc(own->addr, (own->n + 1) * sizeof(*addr));
	if (addr == NULL)
		return -1;
	own->addr = addr;
	idx = realloc(own->ifindex, (own->n + 1) * sizeof(*idx));
	if (idx == NULL)
		return -1;
	own->ifindex = idx;
	(void)addr_to_v6(sa, own->addr[own->n]);
	own->ifindex[own->n++] = ifindex;
	return 0;
}

int
ownaddr_load(struct ownaddr *own)
{
	struct ifaddrs *list, *ifa;
	int saved;

	memset(own, 0, sizeof(*own));
	if (getifaddrs(&list) == -1)
		return -1;
	for (ifa = list; ifa != NULL; ifa = ifa->ifa_next) {
		if (ifa->ifa_addr == NULL || (ifa->ifa_addr->sa_family != AF_INET &&
		    ifa->ifa_addr->sa_family != AF_INET6))
			continue;
		if (own_add(own, ifa->ifa_addr, if_nametoindex(ifa->ifa_name)) == -1) {
			saved = errno;
			freeifaddrs(list);
			ownaddr_free(own);
			errno = saved;
			return -1;
		}
	}
	freeifaddrs(list);
	return 0;
}

void
ownaddr_free(struct ownaddr *own)
{
	free(own->addr);
	free(own->ifindex);
	memset(own, 0, sizeof(*own));
}

/* 127.0.0.0/8 (as ::ffff:127.x.y.z) or ::1: the kernel answers every one of them itself. */
static bool
is_loopback(const unsigned char v6[16])
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (memcmp(v6, mapped, 12) == 0)
		return v6[12] == 127;
	return IN6_IS_ADDR_LOOPBACK((const struct in6_addr *)(const void *)v6);
}

bool
ownaddr_contains(const struct ownaddr *own, const struct sockaddr *sa)
{
	unsigned char v6[16];
	unsigned scope = 0;

	if (addr_to_v6(sa, v6) == -1)
		return false;
	if (is_loopback(v6))
		return true;
	/* fe80::1 on one link is not fe80::1 on another. */
	if (sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_LINKLOCAL((const struct in6_addr *)(const void *)v6))
		scope = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_scope_id;
	for (size_t i = 0; i < own->n; i++)
		if (memcmp(own->addr[i], v6, 16) == 0 && (scope == 0 || own->ifindex[i] == scope))
			return true;
	return false;
}
