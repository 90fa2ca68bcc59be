/* SPDX-License-Identifier: MIT */
/* echo-client's command line: the options, their defaults and their validation. */
#ifndef ECHOD_CLIENT_OPTS_H
#define ECHOD_CLIENT_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stamp.h"

/* The largest UDP payload IPv4 can carry (65535 - 20 - 8); IPv6 allows 20 more, but one
 * limit for both keeps the interface simple. */
#define OPTS_MAX_DGRAM	65507
/* TCP payloads are held twice in memory (sent and received copies). */
#define OPTS_MAX_STREAM	(256UL * 1024 * 1024)
/* ping's -p takes up to 16 pattern bytes; so does --pattern. */
#define OPTS_MAX_PATTERN	16

enum client_mode {
	CLIENT_ONCE,		/* one message, print the echo */
	CLIENT_PROBE,		/* ping-like: --count, --interval, --size */
	CLIENT_STREAM,		/* --stream: verified TCP throughput */
	CLIENT_INTERACTIVE,	/* lines from standard input */
};

/* -M: what to do about path-MTU discovery and the DF bit. */
enum client_pmtu { PMTU_UNSET, PMTU_DO, PMTU_WANT, PMTU_DONT, PMTU_PROBE };

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
	/* Packet options (-t -Q -I -B -M); 0 / -1 / NULL / PMTU_UNSET leave the default. */
	int ttl;		/* IPv4 TTL or IPv6 hop limit, 1..255; 0: unset */
	int tos;		/* TOS byte or traffic class; -1: unset */
	const char *iface;	/* -I naming an interface: SO_BINDTODEVICE */
	const char *src_addr;	/* -I ADDR or -B ADDR: the source address, or NULL */
	const char *src_port;	/* -B ADDR:PORT: the source port, or NULL */
	char src_buf[64];	/* -B's text split into address and port */
	enum client_pmtu pmtu;
	unsigned char pattern[OPTS_MAX_PATTERN];	/* --pattern: payload fill */
	size_t pattern_len;	/* 0: pseudo-random payloads */
	/* Schedule and output (-w -D -l -f -b --histogram). */
	double deadline;	/* -w: seconds after which no probe is sent; 0: none */
	bool unix_time;		/* -D: prefix lines with the Unix time */
	unsigned long preload;	/* -l: probes sent at once before the schedule starts */
	bool flood;		/* -f */
	bool histogram;
	double bandwidth;	/* -b: bits per second; 0: not a throughput run */
	/* --stamp: an RFC 8762 session-sender; size is then the whole test packet. */
	bool stamp;
	uint16_t ssid;		/* --ssid */
	const char *stamp_key_path;	/* --stamp-auth-key, or NULL: unauthenticated */
	struct stamp_key stamp_key;	/* loaded from it by opts_parse() */
	bool cos;		/* --cos: ask for the Class of Service TLV */
	enum stamp_ts_format stamp_ts;	/* --stamp-timestamp */
	/* Several HOSTs (argv's): probed at once by the probe engine (client-multi.c). */
	char *const *hosts;
	size_t nhosts;		/* 1: the one HOST, o->host */
};

/* The long-only options of --stamp (client-stamp-opts.c); the others are client-opts.c's. */
enum {
	OPT_STAMP = 300, OPT_SSID, OPT_STAMP_KEY, OPT_COS, OPT_STAMP_TS,
};

/*
 * Parse argv into *o. Returns 0 to run, 1 when --help or --version was printed and the program
 * should exit with success, -1 on a usage error (already reported on stderr).
 */
int opts_parse(int argc, char **argv, struct client_opts *o);

/* Whole-string unsigned parse of s into *out, min..max. Returns 0, or -1. */
int opts_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out);

/* One of the --stamp options (OPT_STAMP ...). Returns 0, or -1 for a bad value. */
int opts_stamp(struct client_opts *o, int c, const char *arg);

/*
 * Once all options are parsed: what --stamp implies (UDP, port 862, the size of a test
 * packet), what it cannot be combined with, and the key file read. tcp, port and sized:
 * --tcp, -p and -s were given. Returns 0, or -1 after saying why on stderr.
 */
int opts_stamp_check(struct client_opts *o, bool tcp, bool port, bool sized);

/*
 * A -Q value: a number (0xb8, 184: the whole TOS / traffic class byte) or a DSCP name (ef,
 * af11..af43, cs0..cs7, be, va, le), which sets the six DSCP bits and leaves ECN zero.
 * Returns the byte, or -1 when s is neither.
 */
int opts_tos(const char *s);

/* A -b rate: a number with an optional K, M or G suffix (powers of 1000), in bits per
 * second. Returns it, or -1 when invalid or zero. */
double opts_rate(const char *s);

#endif
