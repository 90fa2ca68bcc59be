/* SPDX-License-Identifier: MIT */
/* control: the local socket echodctl talks to (one command per connection, lines back). */
#ifndef ECHOD_CONTROL_H
#define ECHOD_CONTROL_H

#include "loop.h"
#include "report.h"

struct control;
struct control_client;

/* A client sent one command line (without its newline); answer it with control_answer(). */
typedef void control_request_cb(struct control_client *c, const char *command, void *arg);

/*
 * Where the control socket goes when the configuration does not say:
 * $RUNTIME_DIRECTORY/control under systemd (echod.service: /run/echod), else
 * /run/echod/control. The result lives until the next call.
 */
const char *control_default_path(void);

/*
 * Bind the control socket at path (a stale file left by a dead echod is
 * replaced; a live one is not), mode 0600: root and echod's own user only.
 * NULL with errno on failure.
 */
struct control *control_open(const char *path, struct loop *loop, control_request_cb *cb,
	    void *arg);
/*
 * Run after each batch of the loop's events: close clients past their
 * deadline (no full command within 5 s of connecting; a reply that made no
 * progress for 10 s) and free those evicted for a newer client. Returns the
 * next deadline (UINT64_MAX: none). ctl may be NULL.
 */
uint64_t control_tick(struct control *ctl, uint64_t now);
/* Close the socket, remove its file, and drop every client still connected. */
void	control_free(struct control *ctl);
/* Where its socket is; the directory control_open() made for it (NULL: it was there). */
const char *control_path(const struct control *ctl);
const char *control_made_dir(const struct control *ctl);

/*
 * Send rep's lines and a last "result: ok" (or "result: failed" when
 * rep->failed), then close the connection; c is gone after the call.
 */
void	control_answer(struct control_client *c, const struct report *rep);

#endif
