/* SPDX-License-Identifier: MIT */
/* view_build: a listening socket's view under a configuration, and the address sums it needs. */
#ifndef ECHOD_VIEW_BUILD_H
#define ECHOD_VIEW_BUILD_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "view.h"

/*
 * The parts a tcp/udp listener (or socket) spans: a dual-stack wildcard is
 * both families, "0.0.0.0" or an IPv6-only "::" one family, else one address.
 * Unix: none. Returns how many were written to out.
 */
size_t	local_parts(const struct listener_spec *spec, struct local_part out[2]);
/* Same protocol and port (or path), and every address of inner is one of outer's? */
bool	listener_spec_spans(const struct listener_spec *outer, const struct listener_spec *inner);
/* Does a configured listener of cfg span every address of the socket? */
bool	view_spanned(const struct listener_spec *sock, const struct echod_config *cfg);

/*
 * The view of a socket bound as sock (its protocol, address, port or path)
 * under cfg: all, when one configured listener spans the whole socket; else
 * the parts configured listeners on its port share with it, each with its
 * stream and datagram handlers. Its pointers point into cfg: a view lives
 * exactly as long as it (both belong to one generation). NULL: ENOMEM.
 */
struct listener_view *view_build(const struct listener_spec *sock, const struct echod_config *cfg);

/* Does any configured listener of the view (some address of the socket) serve proto? */
bool	view_serves(const struct listener_view *v, enum proto proto);
/* Does a udp listener of the view reflect the DSCP of what it echoes (reflect_dscp)? */
bool	view_reflects_dscp(const struct listener_view *v);

#endif
