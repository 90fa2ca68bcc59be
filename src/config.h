/* SPDX-License-Identifier: MIT */
/* config: reads echod.conf (libconfig) into a struct echod_config, or a list of errors. */
#ifndef ECHOD_CONFIG_H
#define ECHOD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

enum proto { PROTO_TCP, PROTO_UDP, PROTO_UNIX };

struct listener_spec {
	enum proto proto;
	int port;			/* tcp/udp */
	bool any_address;		/* address omitted: dual-stack wildcard */
	struct sockaddr_storage addr;	/* tcp/udp: address and port ("::" when any_address) */
	socklen_t addrlen;
	char *path;			/* unix */
	char *where;			/* "file:line" of the listener, for messages */
};

struct echod_limits {
	long max_connections;
	long idle_timeout;		/* seconds; 0 = never */
	long buffer_size;		/* bytes held per TCP connection whose peer is not reading */
};

struct echod_config {
	char *path;
	struct listener_spec *listeners;
	size_t nlisteners;
	struct echod_limits limits;
	long workers;			/* 0 = one per online CPU */
};

#define CONFIG_DEFAULT_MAX_CONNECTIONS	10000
#define CONFIG_DEFAULT_IDLE_TIMEOUT	300
#define CONFIG_DEFAULT_BUFFER_SIZE	65536

struct config_errors {
	char **lines;			/* "file:line: message" */
	size_t count;
};

/*
 * Parse and validate a configuration file. Returns a new config, or NULL with
 * every problem found appended to errs (which the caller frees). Opens no
 * socket and never exits.
 */
struct echod_config *config_load(const char *path, struct config_errors *errs);
void	config_free(struct echod_config *cfg);
void	config_errors_free(struct config_errors *errs);

const char *proto_name(enum proto proto);

/* Same listener (protocol and address, or path): what reload keeps open. */
bool	listener_spec_same(const struct listener_spec *a, const struct listener_spec *b);
/* Would the two fight over one port (same, or one's wildcard covers the other)? */
bool	listener_spec_overlap(const struct listener_spec *a, const struct listener_spec *b);

#endif
