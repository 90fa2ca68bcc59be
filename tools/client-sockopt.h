/* SPDX-License-Identifier: MIT */
/* Packet options on echo-client's socket (-t -Q -I -B -M) and what the kernel reports back. */
#ifndef ECHOD_CLIENT_SOCKOPT_H
#define ECHOD_CLIENT_SOCKOPT_H

#include "client-opts.h"

struct peer;

/*
 * Before connect(): set what o asks (TTL, TOS, interface, source address, DF) on fd, a
 * socket for p, and ask for what the probes report (kernel receive timestamps; for UDP the
 * received TTL and TOS and ICMP errors with IP_RECVERR). Returns 0, or -1 after reporting
 * on stderr which option failed and why.
 */
int sockopt_apply(int fd, const struct peer *p, const struct client_opts *o);

/* The kernel's path MTU towards the connected fd's peer, or 0 when unknown. */
int sockopt_path_mtu(int fd, int family);

#endif
