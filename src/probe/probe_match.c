/* SPDX-License-Identifier: MIT */
/* Which target a reply is for: by its source address and port, then by protocol and
 * session (STAMP's SSID, the UDP probe's target id). Targets share sockets, so the
 * socket a reply came on says nothing more than its family and protocol. */
#include <netinet/in.h>
#include <string.h>

#include "probe_int.h"
#include "siphash.h"

/* Address and port, the part of a sockaddr that a reply's source repeats. */
static size_t
probe_match_key(const struct sockaddr *sa, uint8_t *k)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET) {
		memcpy(k, &s4->sin_port, 2);
		memcpy(k + 2, &s4->sin_addr, 4);
		return 6;
	}
	memcpy(k, &s6->sin6_port, 2);
	memcpy(k + 2, &s6->sin6_addr, 16);
	memcpy(k + 18, &s6->sin6_scope_id, 4);
	return 22;
}

static unsigned
probe_match_hash(const struct sockaddr *sa)
{
	/* Targets come from the configuration, not from peers: a fixed key will do. */
	static const uint8_t key[16] = "echod-probe-hash";
	uint8_t k[22];

	return (unsigned)(siphash24(key, k, probe_match_key(sa, k)) % PROBE_HASH);
}

static bool
probe_match_same(const struct probe_target *t, const struct sockaddr *sa)
{
	uint8_t a[22], b[22];
	size_t n = probe_match_key(sa, a);

	return t->addr.ss_family == sa->sa_family &&
	    probe_match_key((const struct sockaddr *)&t->addr, b) == n && memcmp(a, b, n) == 0;
}

void
probe_match_insert(struct probe_engine *e, struct probe_target *t)
{
	unsigned h = probe_match_hash((const struct sockaddr *)&t->addr);

	t->hnext = e->hash[h];
	e->hash[h] = t;
}

void
probe_match_remove(struct probe_engine *e, struct probe_target *t)
{
	struct probe_target **p = &e->hash[probe_match_hash((const struct sockaddr *)&t->addr)];

	while (*p != NULL && *p != t)
		p = &(*p)->hnext;
	if (*p != NULL)
		*p = t->hnext;
}

static struct probe_target *
probe_match_find(const struct probe_engine *e, const struct sockaddr *sa, enum probe_proto proto,
    bool any, uint32_t v)
{
	struct probe_target *t;

	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		return NULL;
	for (t = e->hash[probe_match_hash(sa)]; t != NULL; t = t->hnext) {
		if (t->c.proto != proto || !probe_match_same(t, sa))
			continue;
		if (any || (proto == PROBE_STAMP ? t->c.ssid == v : t->id == v))
			return t;
	}
	return NULL;
}

struct probe_target *
probe_match(const struct probe_engine *e, const struct sockaddr *sa, enum probe_proto proto,
    uint32_t v)
{
	return probe_match_find(e, sa, proto, false, v);
}

struct probe_target *
probe_match_any(const struct probe_engine *e, const struct sockaddr *sa, enum probe_proto proto)
{
	return probe_match_find(e, sa, proto, true, 0);
}
