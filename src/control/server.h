/* SPDX-License-Identifier: MIT */
/* server: echod while it runs: start-up, the workers, signals, status (reloads: reload.c). */
#ifndef ECHOD_SERVER_H
#define ECHOD_SERVER_H

#include <signal.h>

#include "config.h"
#include "listener.h"

struct server;

/* Takes ownership of cfg. */
struct server *server_new(struct echod_config *cfg);
void	server_free(struct server *s);

/* Take the sockets systemd passed (LISTEN_FDS): first, before server_open_listeners(). */
int	server_adopt_passed(struct server *s);
/*
 * Serve the configuration: the passed sockets (narrowed to what it lists),
 * and bind every listener they do not provide. Returns the number of
 * configured listeners that could not be opened (each logged).
 */
int	server_open_listeners(struct server *s);
/*
 * Started as root and about to become user: make the listening sockets that
 * user's. The kernel lets a socket share its port (SO_REUSEPORT, how a
 * reload replaces a listener without a gap) only with sockets of the same
 * owner. Not fatal: a reload then narrows instead of replacing. Also the
 * socket files echod made, and the control socket's directory if it made it,
 * so that echod can remove them when it stops (handover.h).
 */
void	server_own_sockets(struct server *s, const char *user, const char *group);
/* The control socket for echodctl; a failure is logged and not fatal (-1). */
int	server_open_control(struct server *s);

/* The signals the server reads from its signalfd; main() blocks them first. */
void	server_signal_set(sigset_t *set);

/* Serve until SIGTERM or SIGINT. 0, or -1 on a fatal error. */
int	server_run(struct server *s);

#endif
