/* SPDX-License-Identifier: MIT */
/* addr: text <-> sockaddr for listener addresses, and peer formatting for logs. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "addr.h"

/*
 * The interface a scope names: a name ("lo", "eth0") or an index ("1"). 0 if none exists.
 * if_nametoindex() asks the kernel through a socket of its own; nothing is bound.
 */
static unsigned
addr_scope(const char *scope)
{
	char name[IF_NAMESIZE], *end;
	unsigned long n;

	if (*scope >= '0' && *scope <= '9') {
		errno = 0;
		n = strtoul(scope, &end, 10);
		if (errno != 0 || *end != '\0' || n == 0 || n > UINT_MAX ||
		    if_indextoname((unsigned)n, name) == NULL)
			return 0;
		return (unsigned)n;
	}
	return if_nametoindex(scope);
}

/* "fe80::1%lo": the address and its scope, which only link-local addresses take. */
static int
addr_parse_scoped(const char *text, const char *pct, int port, struct sockaddr_in6 *sin6)
{
	char host[INET6_ADDRSTRLEN];
	struct in_addr v4;
	size_t n = (size_t)(pct - text);

	if (n >= sizeof(host)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(host, text, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, &v4) == 1) {
		errno = EADDRNOTAVAIL;
		return -1;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
		errno = EINVAL;
		return -1;
	}
	/* Elsewhere the routing table, not a scope, picks the interface (RFC 4007 6). */
	if (!IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr) &&
	    !IN6_IS_ADDR_MC_LINKLOCAL(&sin6->sin6_addr)) {
		errno = EADDRNOTAVAIL;
		return -1;
	}
	if ((sin6->sin6_scope_id = addr_scope(pct + 1)) == 0) {
		errno = ENODEV;
		return -1;
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	return 0;
}

int
addr_parse(const char *text, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	const char *pct = strchr(text, '%');

	memset(ss, 0, sizeof(*ss));
	if (pct != NULL) {
		if (addr_parse_scoped(text, pct, port, sin6) == -1)
			return -1;
		*len = sizeof(*sin6);
		return 0;
	}
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
		return 0;
	}
	errno = EINVAL;
	return -1;
}

void
addr_wildcard(int family, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
	}
}

bool
addr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return false;
	switch (a->sa_family) {
	case AF_INET: {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		/* fe80::1%eth0 and fe80::1%eth1 are two addresses. */
		return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
		    memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	case AF_UNIX: {
		const struct sockaddr_un *x = (const void *)a, *y = (const void *)b;

		return strncmp(x->sun_path, y->sun_path, sizeof(x->sun_path)) == 0;
	}
	default:
		return false;
	}
}

bool
addr_is_wildcard(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr ==
		    htonl(INADDR_ANY);
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)(const void *)sa)
		    ->sin6_addr);
	return false;
}

bool
addr_is_v4mapped(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
}

int
addr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
	return 0;
}

/* Appends "%name" (or "%index" for an interface gone since) to host. */
static void
addr_format_scope(uint32_t scope, char *host, size_t size)
{
	char name[IF_NAMESIZE];
	size_t n = strlen(host);

	if (if_indextoname(scope, name) != NULL)
		snprintf(host + n, size - n, "%%%s", name);
	else
		snprintf(host + n, size - n, "%%%u", (unsigned)scope);
}

const char *
addr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN + 1 + IF_NAMESIZE];	/* with "%scope" */

	switch (sa->sa_family) {
	case AF_INET: {
		const struct sockaddr_in *sin = (const void *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%d", host, ntohs(sin->sin_port));
		break;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		if (sin6->sin6_scope_id != 0)
			addr_format_scope(sin6->sin6_scope_id, host, sizeof(host));
		snprintf(buf, size, "[%s]:%d", host, ntohs(sin6->sin6_port));
		break;
	}
	case AF_UNIX: {
		const struct sockaddr_un *sun = (const void *)sa;
		size_t pathlen = len > offsetof(struct sockaddr_un, sun_path) ?
		    len - offsetof(struct sockaddr_un, sun_path) : 0;

		if (pathlen == 0 || sun->sun_path[0] == '\0')
			snprintf(buf, size, "unix:(unnamed)");
		else
			snprintf(buf, size, "unix:%.*s", (int)strnlen(sun->sun_path, pathlen),
			    sun->sun_path);
		break;
	}
	default:
		snprintf(buf, size, "(family %d)", sa->sa_family);
	}
	return buf;
}

const char *
addr_format_peer(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	const struct sockaddr_in6 *sin6 = (const void *)sa;

	if (!addr_is_v4mapped(sa))
		return addr_format(sa, len, buf, size);
	sin.sin_port = sin6->sin6_port;
	memcpy(&sin.sin_addr, &sin6->sin6_addr.s6_addr[12], 4);
	return addr_format((const struct sockaddr *)&sin, sizeof(sin), buf, size);
}
