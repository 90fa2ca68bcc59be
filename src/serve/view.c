/* SPDX-License-Identifier: MIT */
/* view: which of a listening socket's local addresses are served, and by what: the lookup. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "view.h"

const struct listener_view view_nothing = { .all = false, .n = 0 };

int
local_part_of(const struct sockaddr *sa, struct local_part *out)
{
	const struct in6_addr *a6;

	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		out->family = AF_INET;
		out->addr.v4 = ((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		return 0;
	}
	if (sa->sa_family != AF_INET6)
		return -1;
	a6 = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	/* An IPv4 peer of a dual-stack socket: the address it dialled is IPv4. */
	if (IN6_IS_ADDR_V4MAPPED(a6)) {
		out->family = AF_INET;
		memcpy(&out->addr.v4, &a6->s6_addr[12], 4);
		return 0;
	}
	out->family = AF_INET6;
	out->addr.v6 = *a6;
	return 0;
}

static bool
part_equal(const struct local_part *a, const struct local_part *b)
{
	if (a->family != b->family || a->any != b->any)
		return false;
	if (a->any)
		return true;
	if (a->family == AF_INET)
		return a->addr.v4.s_addr == b->addr.v4.s_addr;
	return memcmp(&a->addr.v6, &b->addr.v6, sizeof(a->addr.v6)) == 0;
}

bool
local_part_within(const struct local_part *inner, const struct local_part *outer)
{
	if (inner->family != outer->family)
		return false;
	return outer->any || part_equal(inner, outer);
}

const char *
local_part_format(const struct local_part *part, char *buf, size_t size)
{
	if (part->any)
		snprintf(buf, size, "every %s address", part->family == AF_INET ? "IPv4" : "IPv6");
	else if (inet_ntop(part->family, &part->addr, buf, (socklen_t)size) == NULL)
		snprintf(buf, size, "?");
	return buf;
}

bool
view_allows_local(const struct listener_view *v, view_local_fn *local, void *arg,
    const struct listener_spec **served)
{
	struct sockaddr_storage ss;

	if (!view_is_narrowed(v))
		return view_allows(v, NULL, served);
	if (v->n == 0 || local(arg, &ss) == -1)
		return false;
	return view_allows(v, (struct sockaddr *)&ss, served);
}

/*
 * What serves sa: *e is the entry (or the whole view as one) serving it,
 * NULL for everyone and plain echo (no view, or a Unix socket's).
 */
static bool
view_match(const struct listener_view *v, const struct sockaddr *sa,
    const struct view_entry **e)
{
	struct local_part here;

	*e = NULL;
	if (v == NULL)
		return true;
	if (v->all) {
		if (v->whole.listener != NULL)
			*e = &v->whole;
		return true;
	}
	if (sa == NULL || local_part_of(sa, &here) == -1)
		return false;
	for (size_t i = 0; i < v->n; i++) {
		if (local_part_within(&here, &v->entry[i].part)) {
			*e = &v->entry[i];
			return true;
		}
	}
	return false;
}

bool
view_allows(const struct listener_view *v, const struct sockaddr *sa,
    const struct listener_spec **served)
{
	const struct view_entry *e;
	bool ok = view_match(v, sa, &e);

	*served = e != NULL ? e->listener : NULL;
	return ok;
}

static bool
view_dgram(const struct listener_view *v, const struct sockaddr *sa,
    const struct dgram_handler **h)
{
	const struct view_entry *e;
	bool ok = view_match(v, sa, &e);

	*h = e != NULL ? &e->dgram : NULL;
	return ok;
}

static bool
view_stream(const struct listener_view *v, const struct sockaddr *sa,
    const struct stream_handler **h)
{
	const struct view_entry *e;
	bool ok = view_match(v, sa, &e);

	*h = e != NULL ? &e->stream : NULL;
	return ok;
}

bool
view_stream_local(const struct listener_view *v, view_local_fn *local, void *arg,
    const struct stream_handler **h)
{
	struct sockaddr_storage ss;

	if (!view_is_narrowed(v))
		return view_stream(v, NULL, h);
	if (v->n == 0 || local(arg, &ss) == -1)
		return false;
	return view_stream(v, (struct sockaddr *)&ss, h);
}

bool
view_dgram_local(const struct listener_view *v, view_local_fn *local, void *arg,
    const struct dgram_handler **h)
{
	struct sockaddr_storage ss;

	if (!view_is_narrowed(v))
		return view_dgram(v, NULL, h);
	if (v->n == 0 || local(arg, &ss) == -1)
		return false;
	return view_dgram(v, (struct sockaddr *)&ss, h);
}
