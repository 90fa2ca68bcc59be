/* SPDX-License-Identifier: MIT */
/* server: the workers, the listener set, signals, reload and status: echod while it runs. */
#ifndef ECHOD_SERVER_H
#define ECHOD_SERVER_H

#include <signal.h>

#include "config.h"
#include "listener.h"

struct server;

/* Takes ownership of cfg. */
struct server *server_new(struct echod_config *cfg);
void	server_free(struct server *s);

/* Serve a listener that is already open (socket activation). Takes ownership. */
int	server_adopt(struct server *s, struct listener *l);
/* Bind every configured listener not adopted. Returns the number that failed. */
int	server_open_listeners(struct server *s);

/* The signals the server reads from its signalfd; main() blocks them first. */
void	server_signal_set(sigset_t *set);

/* Serve until SIGTERM or SIGINT. 0, or -1 on a fatal error. */
int	server_run(struct server *s);

#endif
