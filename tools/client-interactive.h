/* SPDX-License-Identifier: MIT */
/* Interactive mode: lines from standard input to the server, echoes to standard output. */
#ifndef ECHOD_CLIENT_INTERACTIVE_H
#define ECHOD_CLIENT_INTERACTIVE_H

#include "client-opts.h"
#include "client-peer.h"

/*
 * Over a stream (TCP, Unix): send standard input as it comes, print the echo line by line
 * however the server's replies are split or joined, and after end of input half-close the
 * connection and print the rest until the server closes or o->timeout passes quietly.
 * Returns 0 when the echo matched the input byte for byte, -1 otherwise (reported).
 */
int istream_run(int fd, const struct peer *peer, const struct client_opts *o);

/*
 * Over UDP: send each input line (without its newline) as one datagram, print each reply
 * on its own line as it arrives, and after end of input wait up to o->timeout for the
 * missing ones. Returns 0 when every line came back exactly, -1 otherwise (reported).
 */
int idgram_run(int fd, const struct peer *peer, const struct client_opts *o);

#endif
