/* SPDX-License-Identifier: MIT */
/* probe_spec: a probe as the configuration writes it (echod.conf(5), "Probes"): plain data. */
#ifndef ECHOD_PROBE_SPEC_H
#define ECHOD_PROBE_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "proto.h"

/* Probes (echod.conf(5), "Probes"): defaults and bounds. */
#define CONFIG_DEFAULT_PROBE_INTERVAL	1.0
#define CONFIG_PROBE_INTERVAL_MIN	0.01	/* 100 a second to one target */
#define CONFIG_PROBE_INTERVAL_MAX	3600.0
#define CONFIG_DEFAULT_PROBE_SIZE	64	/* udp and tcp payload, as echo-client's */
#define CONFIG_PROBE_SIZE_MAX		65507	/* one UDP datagram over IPv4 */
#define CONFIG_PROBE_ECHO_PORT		7	/* RFC 862 */
#define CONFIG_PROBE_TARGETS_MAX	4096	/* per probe: a typo, not a fleet, past this */

/*
 * One target of a probe as written (echod.conf(5), "Probes"): plain data.
 * A name is resolved at run time (probe_resolve.h), never here.
 */
struct probe_target {
	char *text;			/* as written: "host.example", "[2001:db8::1]:862" */
	char *host;			/* the name or address, without brackets or port */
	int port;			/* its own, or else the probe's */
	bool literal;			/* host is an address: addr holds it with the port */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char *where;			/* "file:line" of the element */
};

/* probes = ( { ... } ); one group: what to send to its targets, and how often. */
struct probe_spec {
	char *name;			/* unique over every file read */
	char *where;			/* "file:line" of the group */
	enum proto proto;		/* PROTO_STAMP (default), PROTO_UDP or PROTO_TCP */
	int port;			/* targets that name none: 862 stamp, 7 echo */
	double interval;		/* seconds between two probes to one target */
	long size;			/* octets: a whole STAMP test packet, or the payload */
	int dscp;			/* 0..63 */
	long ssid;			/* STAMP Session-Sender Identifier */
	char *key_path;			/* auth_key_file, NULL: unauthenticated (stamp) */
	char *key_where;		/* its "file:line" */
	bool probe_own;			/* skip_own = false: this host's addresses too */
	struct probe_target *targets;
	size_t ntargets;
};

#endif
