/* SPDX-License-Identifier: MIT */
/* addr: text <-> sockaddr for listener addresses, and peer formatting for logs. */
#ifndef ECHOD_ADDR_H
#define ECHOD_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

/* Long enough for "[ffff:...:255.255.255.255%ifname]:65535" and "unix:" + a sun_path. */
#define ADDR_STRLEN 120

/*
 * Parse an IPv4 or IPv6 literal (no names: a listener must not depend on DNS
 * at start-up) and store it with the port. A link-local IPv6 address may carry
 * its scope, an interface name or index: "fe80::1%eth0", "fe80::1%2". Returns 0,
 * or -1 with errno EINVAL (not a literal), EADDRNOTAVAIL (a scope on an address
 * that is not link-local) or ENODEV (no such interface).
 */
int	addr_parse(const char *text, int port, struct sockaddr_storage *ss, socklen_t *len);

/* The wildcard address of a family ("::" or "0.0.0.0") with the port. */
void	addr_wildcard(int family, int port, struct sockaddr_storage *ss, socklen_t *len);

/* Same family, address, scope and port (Unix: same path). */
bool	addr_equal(const struct sockaddr *a, const struct sockaddr *b);
bool	addr_is_wildcard(const struct sockaddr *sa);
/* ::ffff:a.b.c.d */
bool	addr_is_v4mapped(const struct sockaddr *sa);
int	addr_port(const struct sockaddr *sa);

/*
 * A peer's address in 16 bytes, IPv4 as ::ffff:a.b.c.d: the form a dual-stack
 * socket reports it in, so that one peer is one key whichever socket it came
 * through. 0, or -1 for another family (out all zero). Inline: the STAMP
 * library, which links none of the daemon, keys its sessions with it too.
 */
static inline int
addr_to_v6(const struct sockaddr *sa, unsigned char out[16])
{
	memset(out, 0, 16);
	if (sa->sa_family == AF_INET) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		return 0;
	}
	return -1;
}

/* "192.0.2.1:7", "[2001:db8::1]:7", "[fe80::1%eth0]:7", "unix:/run/echod/echo.sock";
 * returns buf. */
const char *addr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t size);
/*
 * A peer for a log line: as addr_format(), but an IPv4-mapped address (an
 * IPv4 client of a dual-stack socket) as IPv4, "192.0.2.1:7", the form the
 * refusal log uses. Configured addresses keep addr_format(): the
 * configuration refuses mapped ones, and an error must show what was written.
 */
const char *addr_format_peer(const struct sockaddr *sa, socklen_t len, char *buf,
	    size_t size);

#endif
