/* SPDX-License-Identifier: MIT */
/* reload: re-read the configuration and apply it, one reload at a time, answering who asked. */
#ifndef ECHOD_RELOAD_H
#define ECHOD_RELOAD_H

#include "reload_state.h"

struct server;
struct control_client;

/*
 * Re-read the configuration and apply it; asker (or NULL: SIGHUP) is
 * answered once every worker has applied it. Asked for during a reload,
 * another follows it. Runs in the control thread, like reload_poll().
 */
void	reload_start(struct server *s, struct control_client *asker);
/*
 * Finish the reload running once every worker has applied it. -1 while it
 * waits for them (ask again soon), 0 otherwise.
 */
int	reload_poll(struct server *s);
/* Free what the reload state holds; no worker may run any more. */
void	reload_fini(struct reload *r);

#endif
