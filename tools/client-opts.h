/* SPDX-License-Identifier: MIT */
/* echo-client's command line: the options, their defaults and their validation. */
#ifndef ECHOD_CLIENT_OPTS_H
#define ECHOD_CLIENT_OPTS_H

#include <stdbool.h>
#include <stddef.h>

/* The largest UDP payload IPv4 can carry (65535 - 20 - 8); IPv6 allows 20 more, but one
 * limit for both keeps the interface simple. */
#define OPTS_MAX_DGRAM	65507
/* TCP payloads are held twice in memory (sent and received copies). */
#define OPTS_MAX_STREAM	(256UL * 1024 * 1024)

enum client_mode {
	CLIENT_ONCE,		/* one message, print the echo */
	CLIENT_PROBE,		/* ping-like: --count, --interval, --size */
	CLIENT_INTERACTIVE,	/* lines from standard input */
};

struct client_opts {
	enum client_mode mode;
	int socktype;		/* SOCK_STREAM or SOCK_DGRAM */
	int family;		/* AF_UNSPEC, AF_INET, AF_INET6 or AF_UNIX */
	const char *host;	/* a name or literal, or for AF_UNIX the path */
	const char *port;	/* number or service name */
	unsigned long count;	/* probes to send; 0 sends until interrupted */
	double interval;	/* seconds between probes */
	size_t size;		/* payload bytes (probe mode with random payloads) */
	const char *message;	/* fixed payload, or NULL for random payloads */
	size_t message_len;
	double timeout;		/* seconds to wait for a connection or an echo */
	bool quiet;
	bool json;
};

/*
 * Parse argv into *o. Returns 0 to run, 1 when --help or --version was printed and the program
 * should exit with success, -1 on a usage error (already reported on stderr).
 */
int opts_parse(int argc, char **argv, struct client_opts *o);

#endif
