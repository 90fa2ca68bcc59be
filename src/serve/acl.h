/* SPDX-License-Identifier: MIT */
/* acl: CIDR lists (IPv4 and IPv6) and the allow/deny decision made for every peer. */
#ifndef ECHOD_ACL_H
#define ECHOD_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Long enough for "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128". */
#define ACL_CIDR_STRLEN 64

/*
 * One network. Both halves of the address and of the mask are kept in network
 * byte order exactly as loaded from a sockaddr, so matching is two AND-compares
 * with no byte swapping. IPv4 uses net[0]/mask[0] low 32 bits, the rest is 0.
 * Networks inside ::ffff:0:0/96 are stored as IPv4 (see acl_parse()).
 */
struct cidr {
	uint64_t net[2];
	uint64_t mask[2];
	sa_family_t family;		/* AF_INET or AF_INET6 */
	uint8_t prefix;			/* 0..32 or 0..128 */
};

/* Both lists may be empty; they are owned by whoever filled them (acl_free()). */
struct acl {
	struct cidr *allow;
	size_t nallow;
	struct cidr *deny;
	size_t ndeny;
};

/*
 * Parse "10.0.0.0/8", "2001:db8::/32", or a bare address (full-length prefix).
 * Host bits set beyond the prefix ("10.0.0.1/8") are an error, not silently
 * masked: the message names the network that was probably meant. An IPv6
 * network inside ::ffff:0:0/96 is stored as the IPv4 network it maps.
 * Returns 0, or -1 with errno EINVAL and a one-line message quoting the text
 * in err (for "file:line: allow: <message>").
 */
int	acl_parse(const char *text, struct cidr *out, char *err, size_t errlen);

/* "10.0.0.0/8", "2001:db8::/32"; returns buf (at least ACL_CIDR_STRLEN bytes). */
const char *acl_format(const struct cidr *c, char *buf, size_t size);

/*
 * Parse text and append it to the growable array *list of *n entries.
 * Returns 0, or -1 with errno EINVAL (message in err) or ENOMEM.
 */
int	acl_list_append(struct cidr **list, size_t *n, const char *text, char *err, size_t errlen);

/*
 * Does any network of the list contain the address of sa (AF_INET or AF_INET6;
 * an IPv4-mapped IPv6 address matches as IPv4)? Other families match nothing.
 * Meant to run per datagram: a linear scan with no allocation and no locking.
 */
bool	acl_list_contains(const struct cidr *list, size_t n, const struct sockaddr *sa);

/*
 * May this peer talk to us? Deny wins; an empty allow list allows everyone
 * not denied. A NULL acl permits everything.
 */
bool	acl_permits(const struct acl *acl, const struct sockaddr *sa);

/* Free both lists and leave the acl empty. */
void	acl_free(struct acl *acl);

#endif
