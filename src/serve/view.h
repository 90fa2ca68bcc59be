/* SPDX-License-Identifier: MIT */
/*
 * view: which of a listening socket's local addresses are served, and by
 * what handlers: what the data plane looks up for each connection and
 * datagram. Built from a configuration by view_build.h; part of a generation.
 */
#ifndef ECHOD_VIEW_H
#define ECHOD_VIEW_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "acl.h"
#include "dgram.h"
#include "proto.h"

/* config.h's: a view points into a configuration, the data plane never looks inside. */
struct listener_spec;

/* One part of the local addresses a socket receives: one address, or all of a family. */
struct local_part {
	int family;			/* AF_INET or AF_INET6 */
	bool any;			/* every address of the family */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;				/* !any */
};

/* Is every address of inner also one of outer? */
bool	local_part_within(const struct local_part *inner, const struct local_part *outer);
/* The address a connection or datagram arrived at; IPv4-mapped IPv6 is IPv4. -1: not IP. */
int	local_part_of(const struct sockaddr *sa, struct local_part *out);

/* What a served stream listener asks of a connection before echoing it. */
struct stream_handler {
	const struct acl *acl;		/* who may connect (NULL: everyone) */
};

struct view_entry {
	struct local_part part;			/* (unused in a view's whole) */
	const struct listener_spec *listener;	/* the configured one serving it: the
						   control plane's, never read here */
	struct stream_handler stream;		/* its connection rules (tcp) */
	struct dgram_handler dgram;		/* its datagram rules and reply (udp, stamp) */
};

/*
 * What a listening socket answers under a configuration. Immutable once
 * built; its pointers point into the configuration, so a view lives exactly
 * as long as it: both belong to one generation (generation.h).
 */
struct listener_view {
	bool all;			/* every address it receives, as whole says */
	struct view_entry whole;	/* all: the configured listener serving it
					   (listener NULL: Unix, everyone) */
	size_t n;			/* !all: the parts served, most specific first; */
	struct view_entry entry[];	/* 0: nothing (refused, dropped, counted) */
};

/*
 * Serves nothing and points into no configuration: for a socket a worker
 * may still watch after its configuration is gone. Static: never freed.
 */
extern const struct listener_view view_nothing;

/*
 * May a peer be served at local address sa? Sets *served to the configured
 * listener serving it there (its allow/deny, its UDP rules; NULL: a Unix
 * listener, everyone). The hot path: no allocation, a few comparisons.
 */
bool	view_allows(const struct listener_view *v, const struct sockaddr *sa,
	    const struct listener_spec **served);

/* Where something arrived on the view's socket: 0 with *local set, or -1 when unknown. */
typedef int view_local_fn(void *arg, struct sockaddr_storage *local);
/*
 * view_allows() for a connection or datagram received on the view's socket
 * (stream and udp alike). Only a narrowed view (a passed socket the file
 * narrowed or no longer names) needs its local address: local(arg) is asked
 * then only, since it costs a system call or a walk of the control messages.
 */
bool	view_allows_local(const struct listener_view *v, view_local_fn *local, void *arg,
	    const struct listener_spec **served);

/*
 * view_allows_local() for a connection: *h is the stream rules of the
 * configured listener serving it there (NULL: everyone).
 */
bool	view_stream_local(const struct listener_view *v, view_local_fn *local, void *arg,
	    const struct stream_handler **h);

/*
 * view_allows_local() for a datagram: *h is the handler of the configured
 * listener serving it there (NULL: none known, everyone, plain echo).
 */
bool	view_dgram_local(const struct listener_view *v, view_local_fn *local, void *arg,
	    const struct dgram_handler **h);

/* "127.0.0.1", "::1", "every IPv4 address", "every IPv6 address"; returns buf. */
const char *local_part_format(const struct local_part *part, char *buf, size_t size);

/* Is the view a narrowing (some or all of the socket's addresses not served)? */
static inline bool
view_is_narrowed(const struct listener_view *v)
{
	return v != NULL && !v->all;
}

#endif
