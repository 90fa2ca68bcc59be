/* SPDX-License-Identifier: MIT */
/* listener: one listening socket (bound here or passed by systemd), and the set of them. */
#ifndef ECHOD_LISTENER_H
#define ECHOD_LISTENER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "config.h"

struct listener {
	struct listener_spec spec;	/* what it serves; own copies of the strings */
	int fd;
	int family;			/* of the socket actually open */
	bool passed;			/* from systemd: kept open across reloads */
	bool unlink_path;		/* a Unix socket file echod created */
	atomic_int refs;		/* the set's, plus one per worker watching it */
	/*
	 * The allow/deny lists in force (NULL: everyone). Points into the
	 * configuration in force; the server swaps it on reload and frees the old
	 * configuration only after every worker has synced.
	 */
	_Atomic(const struct acl *) acl;
	char name[ADDR_STRLEN + 8];	/* "tcp [::]:7", for messages */
};

/* Open and bind a listener for spec. NULL with errno set on failure. */
struct listener *listener_open(const struct listener_spec *spec);
/* Wrap a socket that is already open (socket activation). Takes ownership of fd. */
struct listener *listener_adopt(int fd, const struct listener_spec *spec);

bool	listener_is_stream(const struct listener *l);
void	listener_hold(struct listener *l);
/* Drop a reference; the last one closes the socket and frees the listener. */
void	listener_release(struct listener *l);

struct listener_set {
	struct listener **items;
	size_t count;
};

int	listener_set_add(struct listener_set *set, struct listener *l);
void	listener_set_remove_at(struct listener_set *set, size_t index);
/* Index of the listener serving spec, or -1. */
long	listener_set_find(const struct listener_set *set, const struct listener_spec *spec);
/* Release every listener and empty the set. */
void	listener_set_clear(struct listener_set *set);

#endif
