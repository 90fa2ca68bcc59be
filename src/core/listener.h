/* SPDX-License-Identifier: MIT */
/* listener: one listening socket (bound here or passed by systemd), and the set of them. */
#ifndef ECHOD_LISTENER_H
#define ECHOD_LISTENER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "stats.h"

/*
 * Naming: a listener is a listening socket (stream or datagram), one for
 * all workers. Each worker that serves it holds a watch on it: its
 * registration in that worker's event loop (struct worker_watch, holding a
 * struct stream_watch or a struct udp_watch), started and stopped with
 * *_watch_start() and *_watch_stop().
 */
struct listener {
	/*
	 * echod's: the configured listener it was opened for; passed: what the
	 * socket is bound to. Own copies of the strings; spec.where is the
	 * configured "file:line", or for a passed socket its FileDescriptorName.
	 */
	struct listener_spec spec;
	int fd;
	int family;			/* of the socket actually open */
	bool passed;			/* from systemd: never closed by a reload */
	bool systemd_reuseport;		/* passed with SO_REUSEPORT set (ReusePort=yes) */
	bool reuseport;			/* SO_REUSEPORT as set now (listener_share_port()) */
	bool unlink_path;		/* a Unix socket file echod created */
	bool watched;			/* handed to the workers (only once published) */
	/*
	 * Out of memory, a reload could not tell every worker to stop watching
	 * it: it stays open and serves nothing (no generation has a view for
	 * it) until a later reload closes it.
	 */
	bool parked;
	/* What compile.c last asked of the socket (enum in compile.c; 0: nothing yet). */
	int prepared_for;
	atomic_int refs;		/* the set's, plus one per worker watching it */
	/* What it serves is not here: generations map each listener to its view. */
	char name[ADDR_STRLEN + 8];	/* "tcp [::]:7", for messages */
	/* Its counters, from listener_set_add() on (NULL before); see struct listener_stats. */
	struct listener_stats *stats;
};

/*
 * Open and bind a listener for spec. reuseport: share the port with the
 * sockets it replaces (they have SO_REUSEPORT set too) until they close.
 * NULL with errno set on failure.
 */
struct listener *listener_open(const struct listener_spec *spec, bool reuseport);
/* Wrap a socket that is already open (socket activation). Takes ownership of fd. */
struct listener *listener_adopt(int fd, const struct listener_spec *spec);
/*
 * Let a replacement bind beside it (on), or no other socket any more (off).
 * A passed socket's off is what systemd set at adoption: echod shares its
 * port only while a reload swaps sockets, and never takes away a unit's
 * ReusePort=yes.
 */
int	listener_share_port(struct listener *l, bool on);
/*
 * For a datagram socket bound (or passed) at bound: when that is a wildcard
 * address, ask the kernel for each datagram's destination, so that udp.c
 * replies from it and can tell which configured address it was sent to. A
 * socket bound to one address replies from it anyway: nothing to do (no
 * per-datagram cmsg). 0, or -1 with errno.
 */
int	listener_prepare_datagram(int fd, const struct sockaddr *bound);
/*
 * A STAMP reflector's socket: the kernel's receive time (SO_TIMESTAMPNS),
 * TTL or hop limit and TOS or traffic class with every datagram. Best effort.
 */
void	listener_prepare_stamp(int fd);
/*
 * A udp echo socket: TOS or traffic class with every datagram when on
 * (reflect_dscp), not when off (a kernel cmsg per datagram for nothing).
 * Best effort: without it replies carry DSCP 0.
 */
void	listener_prepare_tos(int fd, bool on);


/*
 * A Unix socket file left by a process that is gone refuses connections:
 * remove it. 0 (nothing there, or removed); -1 with EADDRINUSE when a live
 * process answers on it or its backlog is full, EEXIST when it is not a socket.
 */
int	listener_unlink_stale(const char *path);

bool	listener_is_stream(const struct listener *l);
/* A TCP one (not Unix): its connections get TCP_NODELAY. */
bool	listener_is_tcp(const struct listener *l);
/* The port a tcp/udp/stamp socket is bound to (0: Unix). */
uint16_t listener_local_port(const struct listener *l);
void	listener_hold(struct listener *l);
/* Drop a reference; the last one closes the socket and frees the listener. */
void	listener_release(struct listener *l);

struct listener_set {
	struct listener **items;
	size_t count;
	size_t nslots;			/* counter slots per listener: the worker count */
};

/* Also gives l its counters (nslots slots) if it has none. 0, or -1 with errno. */
int	listener_set_add(struct listener_set *set, struct listener *l);
void	listener_set_remove_at(struct listener_set *set, size_t index);
/* Release every listener and empty the set. */
void	listener_set_clear(struct listener_set *set);

#endif
