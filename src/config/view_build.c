/* SPDX-License-Identifier: MIT */
/* view_build: a listening socket's view under a configuration (what serves each address). */
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "config.h"
#include "dgram_conf.h"
#include "view_build.h"

size_t
local_parts(const struct listener_spec *spec, struct local_part out[2])
{
	const struct sockaddr *sa = (const struct sockaddr *)&spec->addr;

	if (spec->proto == PROTO_UNIX)
		return 0;
	memset(out, 0, 2 * sizeof(*out));
	if (spec->any_address) {
		out[0] = (struct local_part){ .family = AF_INET, .any = true };
		out[1] = (struct local_part){ .family = AF_INET6, .any = true };
		return 2;
	}
	if (local_part_of(sa, &out[0]) == -1)
		return 0;
	out[0].any = addr_is_wildcard(sa);
	return 1;
}

/* The addresses both parts span, if any: the narrower of the two. */
static bool
part_intersect(const struct local_part *a, const struct local_part *b, struct local_part *out)
{
	if (local_part_within(a, b))
		*out = *a;
	else if (local_part_within(b, a))
		*out = *b;
	else
		return false;
	return true;
}

static bool
same_port(const struct listener_spec *a, const struct listener_spec *b)
{
	return proto_same_socket(a->proto, b->proto) && a->proto != PROTO_UNIX &&
	    a->port == b->port;
}

bool
listener_spec_spans(const struct listener_spec *outer, const struct listener_spec *inner)
{
	struct local_part op[2], ip[2];
	size_t no, ni;

	if (outer->proto == PROTO_UNIX && inner->proto == PROTO_UNIX)
		return strcmp(outer->path, inner->path) == 0;
	if (!same_port(outer, inner))
		return false;
	no = local_parts(outer, op);
	ni = local_parts(inner, ip);
	for (size_t i = 0; i < ni; i++) {
		bool inside = false;

		for (size_t j = 0; j < no && !inside; j++)
			inside = local_part_within(&ip[i], &op[j]);
		if (!inside)
			return false;
	}
	return ni > 0;
}

static struct listener_view *
view_new(size_t n)
{
	return calloc(1, sizeof(struct listener_view) + n * sizeof(struct view_entry));
}

/* e is served by the configured listener spec: its handlers. */
static void
entry_serve(struct view_entry *e, const struct listener_spec *spec)
{
	e->listener = spec;
	e->stream.acl = &spec->acl;
	dgram_conf_handler(&e->dgram, spec);
}

static struct listener_view *
view_unix(const struct listener_spec *sock, const struct echod_config *cfg)
{
	struct listener_view *v = view_new(0);

	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < cfg->nlisteners; i++)
		if (cfg->listeners[i].proto == PROTO_UNIX &&
		    strcmp(cfg->listeners[i].path, sock->path) == 0)
			v->all = true;
	return v;
}

/* Specific addresses first: view_allows() takes the first part that holds the address. */
static int
by_specificity(const void *a, const void *b)
{
	return (int)((const struct view_entry *)a)->part.any -
	    (int)((const struct view_entry *)b)->part.any;
}

bool
view_spanned(const struct listener_spec *sock, const struct echod_config *cfg)
{
	for (size_t i = 0; i < cfg->nlisteners; i++)
		if (sock->proto != PROTO_UNIX && listener_spec_same_port(&cfg->listeners[i], sock) &&
		    listener_spec_spans(&cfg->listeners[i], sock))
			return true;
	return false;
}

struct listener_view *
view_build(const struct listener_spec *sock, const struct echod_config *cfg)
{
	struct local_part sp[2], wp[2], common;
	struct listener_view *v;
	size_t ns;

	if (sock->proto == PROTO_UNIX)
		return view_unix(sock, cfg);
	ns = local_parts(sock, sp);
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		if (!listener_spec_same_port(&cfg->listeners[i], sock) ||
		    !listener_spec_spans(&cfg->listeners[i], sock))
			continue;
		if ((v = view_new(0)) != NULL) {
			v->all = true;
			entry_serve(&v->whole, &cfg->listeners[i]);
		}
		return v;
	}
	/* At most two parts each side per listener: 4 entries per configured listener. */
	if ((v = view_new(4 * cfg->nlisteners)) == NULL)
		return NULL;
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		size_t nw = same_port(&cfg->listeners[i], sock) ?
		    local_parts(&cfg->listeners[i], wp) : 0;

		for (size_t j = 0; j < nw; j++)
			for (size_t k = 0; k < ns; k++)
				if (part_intersect(&wp[j], &sp[k], &common)) {
					struct view_entry *e = &v->entry[v->n++];

					e->part = common;
					entry_serve(e, &cfg->listeners[i]);
				}
	}
	qsort(v->entry, v->n, sizeof(v->entry[0]), by_specificity);
	return v;
}

bool
view_serves(const struct listener_view *v, enum proto proto)
{
	if (v->all)
		return v->whole.listener != NULL && v->whole.listener->proto == proto;
	for (size_t i = 0; i < v->n; i++)
		if (v->entry[i].listener != NULL && v->entry[i].listener->proto == proto)
			return true;
	return false;
}

static bool
reflects_dscp(const struct listener_spec *l)
{
	return l != NULL && l->proto == PROTO_UDP && l->reflect_dscp;
}

bool
view_reflects_dscp(const struct listener_view *v)
{
	if (v->all)
		return reflects_dscp(v->whole.listener);
	for (size_t i = 0; i < v->n; i++)
		if (reflects_dscp(v->entry[i].listener))
			return true;
	return false;
}

