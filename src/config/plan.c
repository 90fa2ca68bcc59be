/* SPDX-License-Identifier: MIT */
/* plan: what a reload must do to the open sockets to serve a configuration (pure). */
#include <stdlib.h>

#include "plan.h"
#include "view_build.h"

/*
 * Is part spanned by a passed socket on w's port (or missing on this host
 * anyway)? udp and stamp are one kind of socket (view.h): a passed udp
 * socket serves a stamp listener as it is, only its handler changes. A
 * rebind there would need CAP_NET_BIND_SERVICE for a port below 1024, which
 * the unit does not grant.
 */
static bool
part_passed(const struct local_part *part, const struct listener_spec *w,
    const struct plan_socket *cur, size_t ncur, bool have_ipv6)
{
	struct local_part sp[2];

	if (!have_ipv6 && part->family == AF_INET6 && part->any && w->any_address)
		return true;
	for (size_t i = 0; i < ncur; i++) {
		size_t ns;

		if (!cur[i].passed || !proto_same_socket(cur[i].spec->proto, w->proto) ||
		    cur[i].spec->port != w->port)
			continue;
		ns = local_parts(cur[i].spec, sp);
		for (size_t k = 0; k < ns; k++)
			if (local_part_within(part, &sp[k]))
				return true;
	}
	return false;
}

/* The same socket, or passed sockets that together span every address of w. */
static bool
already_served(const struct listener_spec *w, const struct plan_socket *cur, size_t ncur,
    bool have_ipv6)
{
	struct local_part wp[2];
	size_t nw;

	for (size_t i = 0; i < ncur; i++)
		if (listener_spec_same_port(cur[i].spec, w) && listener_spec_same(cur[i].spec, w))
			return true;
	nw = local_parts(w, wp);
	for (size_t j = 0; j < nw; j++)
		if (!part_passed(&wp[j], w, cur, ncur, have_ipv6))
			return false;
	return nw > 0;
}

static enum plan_fate
fate_of(const struct plan *p, const struct plan_socket *cur, size_t i,
    const struct echod_config *cfg)
{
	bool replaced = false;

	/*
	 * Passed ones are systemd's. One of echod's whose addresses a wider
	 * listener now spans stays too: it is the kernel's first choice for them
	 * (the most specific socket), and closing it would reset connections that
	 * reach its backlog between the last accept() and the close().
	 */
	if (cur[i].passed || view_spanned(cur[i].spec, cfg))
		return PLAN_KEEP;
	for (size_t j = 0; j < p->nwanted; j++) {
		if (!listener_spec_same_port(cur[i].spec, &cfg->listeners[j]))
			continue;
		if (listener_spec_same(cur[i].spec, &cfg->listeners[j]))
			return PLAN_KEEP;
		if (p->how[j] == PLAN_REBIND && plan_overlaps(p, j, i))
			replaced = true;
	}
	return replaced ? PLAN_REPLACE : PLAN_CLOSE;
}

int
plan_make(const struct plan_socket *cur, size_t ncur, const struct echod_config *cfg,
    bool have_ipv6, struct plan *out)
{
	size_t nw = cfg->nlisteners;

	out->ncurrent = ncur;
	out->nwanted = nw;
	out->fate = calloc(ncur + 1, sizeof(*out->fate));
	out->how = calloc(nw + 1, sizeof(*out->how));
	out->overlaps = calloc(nw * ncur + 1, sizeof(*out->overlaps));
	if (out->fate == NULL || out->how == NULL || out->overlaps == NULL) {
		plan_free(out);
		return -1;
	}
	for (size_t j = 0; j < nw; j++) {
		const struct listener_spec *w = &cfg->listeners[j];
		bool shared = false;

		for (size_t i = 0; i < ncur; i++) {
			out->overlaps[j * ncur + i] = listener_spec_same_port(w, cur[i].spec) &&
			    listener_spec_overlap(w, cur[i].spec);
			shared = shared || out->overlaps[j * ncur + i];
		}
		if (already_served(w, cur, ncur, have_ipv6))
			out->how[j] = PLAN_SERVED;
		else
			out->how[j] = shared ? PLAN_REBIND : PLAN_OPEN;
	}
	for (size_t i = 0; i < ncur; i++)
		out->fate[i] = fate_of(out, cur, i, cfg);
	return 0;
}

void
plan_free(struct plan *p)
{
	free(p->fate);
	free(p->how);
	free(p->overlaps);
	p->fate = NULL;
	p->how = NULL;
	p->overlaps = NULL;
}
