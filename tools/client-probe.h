/* SPDX-License-Identifier: MIT */
/* The one-message and ping-like probe modes over a connected TCP, UDP or Unix socket. */
#ifndef ECHOD_CLIENT_PROBE_H
#define ECHOD_CLIENT_PROBE_H

#include "client-opts.h"
#include "client-peer.h"

/*
 * Send o->count probes (one message in CLIENT_ONCE mode) on the connected socket fd, print
 * one line per probe and the summary as o asks. Returns 0 when every probe was echoed byte
 * for byte, -1 otherwise (what went wrong has been printed).
 */
int probe_run(int fd, const struct peer *peer, const struct client_opts *o);

#endif
