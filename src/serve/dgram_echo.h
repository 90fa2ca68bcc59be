/* SPDX-License-Identifier: MIT */
/* dgram_echo: the plain echo's datagram handler, reflecting the request's DSCP when allowed. */
#ifndef ECHOD_DGRAM_ECHO_H
#define ECHOD_DGRAM_ECHO_H

#include "dgram.h"

/*
 * dgram_reply_fn for an echo that reflects DSCP: the datagram goes back as
 * it came, with the request's DSCP if ctx (a const uint64_t *: bit d,
 * DSCP d) allows it, else the socket's default. An echo without
 * reflect_dscp has no reply function at all (struct dgram_handler).
 */
dgram_reply_fn dgram_echo_reflect_dscp;

#endif
