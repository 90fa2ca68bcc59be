/* SPDX-License-Identifier: MIT */
/* acl: CIDR lists (IPv4 and IPv6) and the allow/deny decision made for every peer. */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"

/* An address ready for matching: same layout as struct cidr's net[]. */
struct acl_addr {
	uint64_t w[2];
	sa_family_t family;
};

static void
cidr_set_mask(struct cidr *c)
{
	if (c->family == AF_INET) {
		uint32_t m = c->prefix ? htonl(UINT32_C(0xffffffff) << (32 - c->prefix)) : 0;

		c->mask[0] = m;
		c->mask[1] = 0;
		return;
	}
	for (int h = 0; h < 2; h++) {
		int bits = c->prefix - 64 * h;

		if (bits <= 0)
			c->mask[h] = 0;
		else if (bits >= 64)
			c->mask[h] = UINT64_MAX;
		else
			c->mask[h] = htobe64(UINT64_MAX << (64 - bits));
	}
}

/* bytes: 4 (AF_INET) or 16 (AF_INET6) bytes in network order. */
static void
cidr_set_addr(struct cidr *c, const unsigned char *bytes)
{
	c->net[0] = c->net[1] = 0;
	if (c->family == AF_INET) {
		uint32_t v4;

		memcpy(&v4, bytes, sizeof(v4));
		c->net[0] = v4;
	} else {
		memcpy(&c->net[0], bytes, 8);
		memcpy(&c->net[1], bytes + 8, 8);
	}
}

/* Digits only, no sign or space: "/ 8" and "/+8" are typos, not prefixes. */
static int
prefix_parse(const char *s, int max, uint8_t *out)
{
	int v = 0;

	if (*s == '\0' || strlen(s) > 3)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (v > max)
		return -1;
	*out = (uint8_t)v;
	return 0;
}

static int
parse_fail(void)
{
	errno = EINVAL;
	return -1;
}

int
acl_parse(const char *text, struct cidr *out, char *err, size_t errlen)
{
	const char *slash = strchr(text, '/');
	size_t alen = slash != NULL ? (size_t)(slash - text) : strlen(text);
	char addr[INET6_ADDRSTRLEN];
	unsigned char bytes[16];
	struct cidr c = { 0 };
	char want[ACL_CIDR_STRLEN];
	int max, written;

	if (alen == 0 || alen >= sizeof(addr))
		goto not_address;
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, bytes) == 1)
		c.family = AF_INET;
	else if (inet_pton(AF_INET6, addr, bytes) == 1)
		c.family = AF_INET6;
	else
		goto not_address;
	max = c.family == AF_INET ? 32 : 128;
	c.prefix = (uint8_t)max;
	if (slash != NULL && prefix_parse(slash + 1, max, &c.prefix) == -1) {
		snprintf(err, errlen, "\"%s\": the prefix length after '/' must be 0 to %d for %s",
		    text, max, c.family == AF_INET ? "IPv4" : "IPv6");
		return parse_fail();
	}
	written = c.prefix;
	/*
	 * Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d and we match
	 * those as IPv4, so a network written in that form must be IPv4 too.
	 */
	if (c.family == AF_INET6 && c.prefix >= 96 &&
	    IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(const void *)bytes)) {
		c.family = AF_INET;
		c.prefix -= 96;
		memmove(bytes, bytes + 12, 4);
	}
	cidr_set_addr(&c, bytes);
	cidr_set_mask(&c);
	if ((c.net[0] & c.mask[0]) != c.net[0] || (c.net[1] & c.mask[1]) != c.net[1]) {
		/* A typo in an ACL is a security bug: say what it would mean instead. */
		c.net[0] &= c.mask[0];
		c.net[1] &= c.mask[1];
		snprintf(err, errlen, "\"%s\": host bits set beyond the /%d prefix "
		    "(the network would be %s)", text, written,
		    acl_format(&c, want, sizeof(want)));
		return parse_fail();
	}
	*out = c;
	return 0;
not_address:
	snprintf(err, errlen, "\"%s\" is not an IPv4 or IPv6 address, or address/prefix", text);
	return parse_fail();
}

const char *
acl_format(const struct cidr *c, char *buf, size_t size)
{
	unsigned char bytes[16];
	char addr[INET6_ADDRSTRLEN];

	if (c->family == AF_INET) {
		uint32_t v4 = (uint32_t)c->net[0];

		memcpy(bytes, &v4, sizeof(v4));
	} else {
		memcpy(bytes, &c->net[0], 8);
		memcpy(bytes + 8, &c->net[1], 8);
	}
	if (inet_ntop(c->family, bytes, addr, sizeof(addr)) == NULL)
		snprintf(addr, sizeof(addr), "?");
	snprintf(buf, size, "%s/%u", addr, c->prefix);
	return buf;
}

int
acl_list_append(struct cidr **list, size_t *n, const char *text, char *err, size_t errlen)
{
	struct cidr c, *grown;

	if (acl_parse(text, &c, err, errlen) == -1)
		return -1;
	grown = realloc(*list, (*n + 1) * sizeof(**list));
	if (grown == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	grown[*n] = c;
	*list = grown;
	(*n)++;
	return 0;
}

/* Load a peer address; IPv4-mapped IPv6 becomes IPv4. Returns false for other families. */
static bool
acl_addr_load(const struct sockaddr *sa, struct acl_addr *a)
{
	a->w[0] = a->w[1] = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		a->family = AF_INET;
		a->w[0] = sin->sin_addr.s_addr;
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;
		const unsigned char *b = sin6->sin6_addr.s6_addr;

		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			uint32_t v4;

			memcpy(&v4, b + 12, sizeof(v4));
			a->family = AF_INET;
			a->w[0] = v4;
		} else {
			a->family = AF_INET6;
			memcpy(&a->w[0], b, 8);
			memcpy(&a->w[1], b + 8, 8);
		}
		return true;
	}
	return false;
}

static bool
acl_match(const struct cidr *list, size_t n, const struct acl_addr *a)
{
	for (size_t i = 0; i < n; i++) {
		const struct cidr *c = &list[i];

		if (c->family == a->family && (a->w[0] & c->mask[0]) == c->net[0] &&
		    (a->w[1] & c->mask[1]) == c->net[1])
			return true;
	}
	return false;
}

bool
acl_list_contains(const struct cidr *list, size_t n, const struct sockaddr *sa)
{
	struct acl_addr a;

	return n > 0 && acl_addr_load(sa, &a) && acl_match(list, n, &a);
}

bool
acl_permits(const struct acl *acl, const struct sockaddr *sa)
{
	struct acl_addr a;
	bool inet;

	if (acl == NULL || (acl->nallow == 0 && acl->ndeny == 0))
		return true;
	inet = acl_addr_load(sa, &a);
	if (inet && acl_match(acl->deny, acl->ndeny, &a))
		return false;
	if (acl->nallow == 0)
		return true;
	return inet && acl_match(acl->allow, acl->nallow, &a);
}

void
acl_free(struct acl *acl)
{
	free(acl->allow);
	free(acl->deny);
	acl->allow = acl->deny = NULL;
	acl->nallow = acl->ndeny = 0;
}
