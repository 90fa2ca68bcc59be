/* SPDX-License-Identifier: MIT */
/* config: reads echod.conf (libconfig) into a struct echod_config, or a list of errors. */
#ifndef ECHOD_CONFIG_H
#define ECHOD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "acl.h"
#include "probe_spec.h"
#include "proto.h"
#include "stamp.h"

struct stamp_runtime;
struct stamp_spec;

/*
 * Frees a stamp listener's run time (set with it by stamp_conf_prepare()):
 * config.c frees what stamp_conf.c made without calling into stamp_conf.c,
 * which depends on config, not the other way.
 */
typedef void stamp_release_cb(struct stamp_spec *spec);

/* A stamp listener's settings as written (echod.conf(5)); stamp_conf.c makes them work. */
struct stamp_spec {
	bool stateful;			/* stamp_mode = "stateful" */
	enum stamp_ts_format format;	/* stamp_timestamp */
	char *key_path;			/* stamp_auth_key, NULL: unauthenticated */
	char *key_where;		/* its "file:line" */
	long sessions;			/* stamp_sessions: stateful table size */
	long session_timeout;		/* stamp_session_timeout: seconds idle until a restart */
	bool short_drop;		/* stamp_short_packets = "drop" */
	/* The key and session table, from stamp_conf_prepare(); NULL until then. */
	struct stamp_runtime *run;
	stamp_release_cb *release;	/* frees run; NULL while run is */
};

struct listener_spec {
	enum proto proto;
	int port;			/* tcp/udp */
	bool any_address;		/* address omitted: dual-stack wildcard */
	struct sockaddr_storage addr;	/* tcp/udp: address and port ("::" when any_address) */
	socklen_t addrlen;
	char *path;			/* unix */
	char *where;			/* "file:line" of the listener, for messages */
	/*
	 * tcp/udp: the allow and deny lists in force for this listener, each its
	 * own or else the top level's. Owned by the config: copies of a spec made
	 * by listener.c never carry them (a listener outlives its config).
	 */
	struct acl acl;
	/*
	 * udp: datagrams from lower source ports are not answered; its own
	 * udp_min_source_port or else the top level's. Read per datagram through
	 * the listener's view (view.h), like acl.
	 */
	uint16_t udp_min_source_port;
	/*
	 * udp and stamp: the DSCPs a reply may carry (bit d: DSCP d), its own
	 * dscp_allow or else the top level's; udp: reflect_dscp, likewise.
	 */
	uint64_t dscp_allow;
	bool reflect_dscp;
	struct stamp_spec stamp;	/* stamp only */
};

struct echod_limits {
	long max_connections;
	long idle_timeout;		/* seconds; 0 = never */
	long buffer_size;		/* per stream connection: bytes its peer has not read */
	long max_buffered_bytes;	/* bytes held for all such connections; 0 = no cap */
	/* Per source (IPv4 address or IPv6 /64); 0 switches a limit off. */
	long max_connections_per_source;
	long connection_rate;		/* new TCP connections per second */
	long udp_rate;			/* datagrams answered per second */
	long udp_max_reply_bytes_per_second;
	/* The same for stamp listeners, in buckets of their own (srclimit.h). */
	long stamp_rate;
	long stamp_max_reply_bytes_per_second;
	long max_datagram;		/* larger datagrams are dropped; 0 = any size */
};

/*
 * The Prometheus endpoint (metrics = { ... };). Off when no file has the
 * block; a drop-in's block replaces an earlier one whole. Applied at start
 * only: a reload reports a change as waiting for the next restart.
 */
struct echod_metrics_conf {
	bool enabled;
	char *address;			/* as written (the default: loopback only) */
	int port;
	struct sockaddr_storage addr;	/* address and port, for bind() and the socket unit */
	socklen_t addrlen;
	char *where;			/* "file:line" of the block; NULL when off */
};

struct echod_config {
	char *path;
	struct listener_spec *listeners;
	size_t nlisteners;
	struct echod_limits limits;
	long workers;			/* 0 = one per online CPU */
	struct acl acl;			/* top-level allow/deny: every listener's default */
	struct cidr *exempt;		/* sources the per-source limits do not apply to */
	size_t nexempt;
	uint16_t *drop_ports;		/* udp_drop_source_ports */
	size_t ndrop_ports;
	long udp_min_source_port;	/* every udp listener's default */
	uint64_t dscp_allow;		/* every udp and stamp listener's default */
	bool reflect_dscp;		/* every udp listener's default */
	char *user, *group;		/* identity to take when started as root */
	char *user_where, *group_where;	/* "file:line" of the keys, NULL for the defaults */
	char *control_socket;		/* NULL: the default (see control.h); "": none */
	char *include_dir;		/* drop-in directory as resolved, or NULL */
	char **files;			/* every file read: the main one, then the drop-ins */
	size_t nfiles;
	struct echod_metrics_conf metrics;
	struct probe_spec *probes;	/* every file's, in the order read */
	size_t nprobes;
};

#define CONFIG_DEFAULT_MAX_CONNECTIONS	10000
#define CONFIG_DEFAULT_IDLE_TIMEOUT	300
#define CONFIG_DEFAULT_BUFFER_SIZE	65536
#define CONFIG_DEFAULT_MAX_BUFFERED	(64L << 20)
#define CONFIG_DEFAULT_MAX_CONNS_PER_SOURCE 32
#define CONFIG_DEFAULT_CONNECTION_RATE	10
#define CONFIG_DEFAULT_UDP_RATE		100
#define CONFIG_DEFAULT_UDP_REPLY_BYTES	65536
/*
 * A STAMP sender measures at its own pace: 1 000 packets a second for as long
 * as it likes is a test, not a flood, and a refusal would read as network
 * loss (issue 22 item 15). Twice that, so a sender's clock running fast or a
 * burst after a stall is not refused; 256 KiB/s covers 1 000 a second of up
 * to 262 octets (an authenticated base is 112) and bounds what a short packet
 * (RFC 8762 4.6: 14 octets in, 44 out) can be made to reflect.
 */
#define CONFIG_DEFAULT_STAMP_RATE	2000
#define CONFIG_DEFAULT_STAMP_REPLY_BYTES 262144
/* No cap: a reply is never larger than its datagram, so answering any size amplifies nothing. */
#define CONFIG_DEFAULT_MAX_DATAGRAM	0
#define CONFIG_DEFAULT_EXEMPT		{ "127.0.0.0/8", "::1/128" }
/* echo, daytime, qotd, chargen, time, DNS, NTP, SNMP, SSDP, memcached. */
#define CONFIG_DEFAULT_DROP_PORTS	{ 7, 13, 17, 19, 37, 53, 123, 161, 1900, 11211 }
/* OpenBSD inetd's rule for its UDP services: no client sends from a privileged port. */
#define CONFIG_DEFAULT_UDP_MIN_SOURCE_PORT 1024
/* Stateful STAMP: sessions held at once, and seconds without a packet before one restarts. */
#define CONFIG_DEFAULT_STAMP_SESSIONS	65536
#define CONFIG_DEFAULT_STAMP_SESSION_TIMEOUT 60
#define CONFIG_STAMP_SESSIONS_MAX	(1L << 24)
#define CONFIG_STAMP_SESSION_TIMEOUT_MAX 86400
#define CONFIG_DEFAULT_USER		"nobody"
#define CONFIG_DEFAULT_GROUP		"nogroup"
/* Scrapes come from the local Prometheus (or an agent) unless the admin says otherwise. */
#define CONFIG_DEFAULT_METRICS_ADDRESS	"127.0.0.1"
/*
 * Prometheus' default port allocations list 9110 a second time for the
 * blackbox exporter, which listens on 9115: no exporter takes 9110 by
 * default, and the prober that watches echo services runs beside echod on
 * its own port (echod.conf(5)).
 */
#define CONFIG_DEFAULT_METRICS_PORT	9110

struct config_errors {
	char **lines;			/* "file:line: message" */
	size_t count;
};

/*
 * Parse and validate a configuration file, then the *.conf files of the
 * directory its include_dir names, in strcmp() order: their listeners are
 * appended, any other key they set replaces the earlier value (limits member
 * by member). Returns a new config, or NULL with every problem found appended
 * to errs (which the caller frees). Opens no socket and never exits.
 */
struct echod_config *config_load(const char *path, struct config_errors *errs);
void	config_free(struct echod_config *cfg);
/* What a configuration owns in one listener (config_free() calls it for each). */
void	listener_spec_free(struct listener_spec *spec);
void	config_errors_free(struct config_errors *errs);
/* Append "where: msg" to errs. Out of memory loses the line, never the list. */
void	config_errors_add(struct config_errors *errs, const char *where, const char *msg);

const char *proto_name(enum proto proto);

/* Same endpoint (both off, or both on at one address and port): what a reload compares. */
bool	config_metrics_same(const struct echod_metrics_conf *a,
	    const struct echod_metrics_conf *b);

/*
 * The cheap first test of the pair functions below, for loops over every
 * pair of a reload (1 000 listeners: a million pairs): false when a and b
 * cannot be one socket or overlap (another port, or Unix beside IP).
 */
static inline bool
listener_spec_same_port(const struct listener_spec *a, const struct listener_spec *b)
{
	return (a->proto == PROTO_UNIX) == (b->proto == PROTO_UNIX) && a->port == b->port;
}

/* Same listener (protocol and address, or path): what reload keeps open. */
bool	listener_spec_same(const struct listener_spec *a, const struct listener_spec *b);
/* Would the two fight over one port (same, or one's wildcard covers the other)? */
bool	listener_spec_overlap(const struct listener_spec *a, const struct listener_spec *b);

#endif
