/* SPDX-License-Identifier: MIT */
/* echo-client's command line: the options, their defaults and their validation. */
#include <arpa/inet.h>
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "client-opts.h"

#define OPTS_UNIX_PREFIX	"unix:"
#define OPTS_DEFAULT_MESSAGE	"hello"
#define OPTS_DEFAULT_SIZE	64
/* The probe engine's UDP probe header: magic, target, sequence (src/probe/probe_int.h). */
#define OPTS_MULTI_MIN_SIZE	12
#define OPTS_MAX_SECONDS	86400.0
#define OPTS_MAX_PRELOAD	65536
/* ping's flood: a probe at least this often, sooner when the reply is in. */
#define OPTS_FLOOD_INTERVAL	0.01
/* 100 Gbit/s: beyond any loopback, a guard against typing an exponent too many. */
/* --stream's unit of verification and of its JSON records. */
#define OPTS_STREAM_BLOCK	65536

/* Long-only options. --tcp and --interactive lost their short letters to ping's -t and -I. */
enum {
	OPT_JSON = 256, OPT_TCP, OPT_INTERACTIVE, OPT_PATTERN, OPT_STREAM, OPT_HISTOGRAM,
};

static const struct option opts_long[] = {
	{ "udp",		no_argument,		NULL, 'u' },
	{ "tcp",		no_argument,		NULL, OPT_TCP },
	{ "port",		required_argument,	NULL, 'p' },
	{ "count",		required_argument,	NULL, 'c' },
	{ "interval",		required_argument,	NULL, 'i' },
	{ "size",		required_argument,	NULL, 's' },
	{ "message",		required_argument,	NULL, 'm' },
	{ "timeout",		required_argument,	NULL, 'W' },
	{ "interactive",	no_argument,		NULL, OPT_INTERACTIVE },
	{ "quiet",		no_argument,		NULL, 'q' },
	{ "json",		no_argument,		NULL, OPT_JSON },
	{ "pattern",		required_argument,	NULL, OPT_PATTERN },
	{ "bandwidth",		required_argument,	NULL, 'b' },
	{ "stream",		no_argument,		NULL, OPT_STREAM },
	{ "histogram",		no_argument,		NULL, OPT_HISTOGRAM },
	{ "stamp",		no_argument,		NULL, OPT_STAMP },
	{ "ssid",		required_argument,	NULL, OPT_SSID },
	{ "stamp-auth-key",	required_argument,	NULL, OPT_STAMP_KEY },
	{ "cos",		no_argument,		NULL, OPT_COS },
	{ "stamp-timestamp",	required_argument,	NULL, OPT_STAMP_TS },
	{ "version",		no_argument,		NULL, 'V' },
	{ "help",		no_argument,		NULL, 'h' },
	{ NULL,			0,			NULL, 0 },
};

static void
opts_usage(void)
{
	printf(
	    "usage: echo-client [-u|--udp] [--tcp] [-4|-6] [-p|--port N] [-c|--count N]\n"
	    "                   [-i|--interval SEC] [-s|--size BYTES] [-m|--message TEXT]\n"
	    "                   [-W|--timeout SEC] [-w DEADLINE] [-l PRELOAD] [-f] [-D]\n"
	    "                   [-t TTL] [-Q TOS] [-I IFACE|ADDR] [-B ADDR[:PORT]]\n"
	    "                   [-M do|want|dont|probe] [--pattern HEX] [-b|--bandwidth RATE]\n"
	    "                   [--stream] [--histogram] [--interactive] [-q|--quiet] [--json]\n"
	    "                   [--stamp [--ssid N] [--stamp-auth-key FILE] [--cos]\n"
	    "                   [--stamp-timestamp ntp|ptp]] [-V] [-h] HOST\n"
	    "       echo-client [--tcp|-u|--stamp] [probe options] HOST HOST...\n"
	    "\n"
	    "Send data to an RFC 862 echo server and check that it comes back, or with --stamp\n"
	    "measure the path with an RFC 8762 STAMP session-reflector.\n"
	    "HOST is a name, an IPv4 or IPv6 literal, or unix:/path for a Unix stream socket.\n"
	    "Several HOSTs are probed at once, one summary line (or JSON object) each.\n"
	    "\n"
	    "      --tcp            use TCP (default)\n"
	    "  -u, --udp            use UDP\n"
	    "  -4, -6               use only IPv4 or only IPv6\n"
	    "  -p, --port N         port number or service name (default 7)\n"
	    "  -m, --message TEXT   send TEXT (default \"hello\") and print the echo\n"
	    "  -c, --count N        send N probes, like ping (default: until interrupted)\n"
	    "  -i, --interval SEC   seconds between probes, kept whatever is outstanding (default 1)\n"
	    "  -s, --size BYTES     probe payloads of BYTES bytes (default 64; 0: empty\n"
	    "                       datagrams, UDP only)\n"
	    "  -W, --timeout SEC    wait this long for a connection or an echo (default 5)\n"
	    "  -w DEADLINE          end the run after DEADLINE seconds, whatever the count\n"
	    "  -l PRELOAD           send PRELOAD probes at once before the schedule starts\n"
	    "  -f                   flood: next probe when the reply is in, or every 10 ms\n"
	    "  -D                   print the Unix time before each line\n"
	    "  -t TTL               IPv4 TTL or IPv6 hop limit (1-255)\n"
	    "  -Q TOS               TOS / traffic class: a number (0xb8) or a DSCP name (ef, af41)\n"
	    "  -I IFACE|ADDR        send through interface IFACE, or from source address ADDR\n"
	    "  -B ADDR[:PORT]       source address and port ([ADDR]:PORT for IPv6)\n"
	    "  -M do|want|dont|probe  path-MTU discovery and the DF bit; probe reports the MTU\n"
	    "      --pattern HEX    fill payloads with these bytes (up to 16) after the header\n"
	    "  -b, --bandwidth RATE UDP datagrams of --size bytes paced at RATE bit/s (K, M, G);\n"
	    "                       with --stream, cap the TCP stream's rate\n"
	    "      --stream         TCP: a verified echoed stream for -w seconds, its throughput\n"
	    "      --histogram      print a log-scale round-trip time histogram\n"
	    "      --interactive    send lines read from standard input, print the echoes\n"
	    "  -q, --quiet          print only the summary (with --interactive: only the echoes)\n"
	    "      --json           JSON Lines: one object per probe, then a summary object\n"
	    "      --stamp          STAMP session-sender over UDP (port 862; -s: packet length)\n"
	    "      --ssid N         STAMP Session ID, 0-65535 (default 0)\n"
	    "      --stamp-auth-key FILE  authenticated mode, HMAC-SHA-256 key from FILE (hex)\n"
	    "      --cos            ask the reflector for the DSCP/ECN it received (CoS TLV)\n"
	    "      --stamp-timestamp ntp|ptp  timestamp format of the test packets (default ntp)\n"
	    "  -V, --version        print the version\n"
	    "  -h, --help           print this help\n"
	    "\n"
	    "Exit status: 0 all echoes matched, 1 an echo was lost or differed or the server\n"
	    "could not be reached, 2 name resolution error, 64 bad usage.\n");
}

/* Whole-string unsigned parse; strtoul() alone would accept "-1", "" and "12abc". */
int
opts_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
opts_seconds(const char *s, double min, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < min ||
	    v > OPTS_MAX_SECONDS)
		return -1;
	*out = v;
	return 0;
}

static int
opts_pattern(struct client_opts *o, const char *s)
{
	size_t n = strlen(s);
	unsigned int byte;

	if (n == 0 || n % 2 != 0 || n / 2 > OPTS_MAX_PATTERN)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		if (!isxdigit((unsigned char)s[i]) || !isxdigit((unsigned char)s[i + 1]) ||
		    sscanf(s + i, "%2x", &byte) != 1)
			return -1;
		o->pattern[i / 2] = (unsigned char)byte;
	}
	o->pattern_len = n / 2;
	return 0;
}

/* -B ADDR[:PORT]: "127.0.0.5:40000", "127.0.0.5", "[::1]:40000", "::1". */
static int
opts_bind(struct client_opts *o, const char *s)
{
	unsigned long v;
	char *colon, *addr = o->src_buf;
	unsigned char tmp[16];

	if (strlen(s) >= sizeof(o->src_buf))
		return -1;
	strcpy(o->src_buf, s);
	o->src_port = NULL;
	if (*addr == '[') {
		colon = strchr(addr, ']');
		if (colon == NULL || (colon[1] != '\0' && colon[1] != ':'))
			return -1;
		*colon = '\0';
		addr++;
		if (colon[1] == ':')
			o->src_port = colon + 2;
	} else if ((colon = strchr(addr, ':')) != NULL && strchr(colon + 1, ':') == NULL) {
		*colon = '\0';
		o->src_port = colon + 1;
	}
	if (o->src_port != NULL && opts_ulong(o->src_port, 0, 65535, &v) == -1)
		return -1;
	if (inet_pton(AF_INET, addr, tmp) != 1 && inet_pton(AF_INET6, addr, tmp) != 1)
		return -1;
	o->src_addr = addr;
	return 0;
}

static void
opts_defaults(struct client_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mode = CLIENT_ONCE;
	o->socktype = SOCK_STREAM;
	o->family = AF_UNSPEC;
	o->port = "7";
	o->interval = 1.0;
	o->size = OPTS_DEFAULT_SIZE;
	o->timeout = 5.0;
	o->tos = -1;
}

/* What --interactive cannot take; NULL when the combination is fine. */
static const char *
opts_interactive_clash(const struct client_opts *o, bool probing)
{
	if (probing || o->message != NULL)
		return "--interactive reads its data from standard input: it takes no --count, "
		    "--interval, --size, --message, -w, -l, -f, -b, --stream or --histogram";
	if (o->json)
		return "--json is not available with --interactive";
	return NULL;
}

/* The packet options against the transport and the family; NULL when fine. */
static const char *
opts_packet_clash(const struct client_opts *o)
{
	bool ip_opts = o->ttl != 0 || o->tos != -1 || o->iface != NULL || o->src_addr != NULL ||
	    o->pmtu != PMTU_UNSET;

	if (o->family == AF_UNIX && ip_opts)
		return "-t, -Q, -I, -B and -M apply to IP, not to unix: addresses";
	if (o->bandwidth > 0 && o->socktype != SOCK_DGRAM && o->mode != CLIENT_STREAM)
		return "--bandwidth paces UDP datagrams (-u), or a TCP --stream";
	if (o->mode == CLIENT_STREAM && o->socktype == SOCK_DGRAM)
		return "--stream is a TCP mode: --udp does not apply";
	if (o->mode == CLIENT_STREAM && o->message != NULL)
		return "--stream sends its own verifiable data: --message does not apply";
	if (o->pattern_len > 0 && o->message != NULL)
		return "--pattern and --message both set the payload: use one";
	return NULL;
}

/* Which options may be combined, once all are known; returns -1 after saying why not. */
static int
opts_check(struct client_opts *o, bool probing, bool sized)
{
	const char *why = NULL;

	if (o->mode == CLIENT_INTERACTIVE)
		why = opts_interactive_clash(o, probing);
	if (why == NULL)
		why = opts_packet_clash(o);
	if (why != NULL) {
		warnx("%s", why);
		return -1;
	}
	if (o->message != NULL && sized) {
		warnx("--message and --size both set the payload: use one");
		return -1;
	}
	if (o->message != NULL && *o->message == '\0' && o->socktype == SOCK_STREAM) {
		warnx("--message: an empty message over a stream has nothing to echo");
		return -1;
	}
	if (o->family == AF_UNIX && o->socktype == SOCK_DGRAM) {
		warnx("unix: addresses are stream sockets: --udp does not apply");
		return -1;
	}
	if (o->socktype == SOCK_DGRAM && o->message != NULL && o->message_len > OPTS_MAX_DGRAM) {
		warnx("--message is longer than one datagram (%d bytes)", OPTS_MAX_DGRAM);
		return -1;
	}
	/* An empty datagram is a datagram (RFC 862 echoes it); an empty write is no data. */
	if (sized && o->size == 0 && o->socktype != SOCK_DGRAM) {
		warnx("--size 0: empty probes are UDP datagrams (-u); a stream has nothing to "
		    "echo");
		return -1;
	}
	if (sized && o->size == 0 && o->bandwidth > 0) {
		warnx("--size 0 with --bandwidth: empty datagrams carry no bits to pace");
		return -1;
	}
	if (o->socktype == SOCK_DGRAM && o->size > OPTS_MAX_DGRAM) {
		warnx("--size: a datagram carries at most %d bytes", OPTS_MAX_DGRAM);
		return -1;
	}
	if (o->mode == CLIENT_ONCE && probing)
		o->mode = CLIENT_PROBE;
	if (o->mode == CLIENT_ONCE)
		o->count = 1;
	if (o->mode == CLIENT_ONCE && o->message == NULL)
		o->message = OPTS_DEFAULT_MESSAGE;
	if (o->message != NULL) {
		o->message_len = strlen(o->message);
		o->size = o->message_len;
	}
	return 0;
}

static int
opts_host(struct client_opts *o, const char *arg, int family)
{
	size_t n = strlen(OPTS_UNIX_PREFIX);

	if (strncmp(arg, OPTS_UNIX_PREFIX, n) == 0) {
		if (family != AF_UNSPEC) {
			warnx("-4 and -6 do not apply to unix: addresses");
			return -1;
		}
		if (arg[n] == '\0') {
			warnx("unix: needs a socket path");
			return -1;
		}
		o->host = arg + n;
		o->family = AF_UNIX;
		return 0;
	}
	if (*arg == '\0') {
		warnx("empty HOST");
		return -1;
	}
	o->host = arg;
	o->family = family;
	return 0;
}

/* What parsing has seen so far, for the checks that need all options. */
struct opts_seen {
	int family;
	bool probing;	/* an option of the probe mode: not one message */
	bool sized;	/* --size given */
	bool interval;	/* --interval given */
	bool tcp;	/* --tcp given */
	bool port;	/* --port given */
	int single;	/* an option that takes one HOST only, or 0 */
};

/* The option c as written, for opts_hosts()'s refusal. */
static const char *
opts_single_name(int c)
{
	static char buf[32];
	const struct option *l;

	snprintf(buf, sizeof(buf), "-%c", c);
	for (l = opts_long; l->name != NULL; l++)
		if (l->val == c && c >= 256)
			snprintf(buf, sizeof(buf), "--%s", l->name);
	return buf;
}

/*
 * Several HOSTs: each an IP host, probed over TCP or UDP echo or STAMP, with the options
 * the probe engine takes. Returns 0, or -1 after saying why.
 */
static int
opts_hosts(struct client_opts *o, const struct opts_seen *seen)
{
	size_t i;

	if (o->nhosts == 1)
		return 0;
	for (i = 0; i < o->nhosts; i++)
		if (strncmp(o->hosts[i], OPTS_UNIX_PREFIX, strlen(OPTS_UNIX_PREFIX)) == 0 ||
		    *o->hosts[i] == '\0') {
			warnx("several HOSTs: each an IP host name or address, not '%s'",
			    o->hosts[i]);
			return -1;
		}
	if (seen->single != 0) {
		warnx("several HOSTs take -c -i -s -W -w -p -4 -6 -Q -q --json --ssid "
		    "--stamp-auth-key --cos, not %s", opts_single_name(seen->single));
		return -1;
	}
	return 0;
}

/* Several HOSTs always probe: without -c, once each (as fping), with the engine's probe (a
 * 12-byte header and zeros) instead of a message. Returns 0, or -1. */
static int
opts_hosts_probe(struct client_opts *o, bool sized)
{
	if (o->mode == CLIENT_ONCE) {
		o->mode = CLIENT_PROBE;
		o->message = NULL;
		o->count = 1;
		if (!sized)
			o->size = OPTS_DEFAULT_SIZE;
	}
	if (!o->stamp && o->size < OPTS_MULTI_MIN_SIZE) {
		warnx("several HOSTs over UDP or TCP: -s at least %d (the probe's header)",
		    OPTS_MULTI_MIN_SIZE);
		return -1;
	}
	return 0;
}

/* The packet options; same returns as opts_one(). */
static int
opts_packet(struct client_opts *o, int c, const char *arg)
{
	unsigned long v;
	unsigned char tmp[16];

	switch (c) {
	case 't':
		if (opts_ulong(arg, 1, 255, &v) == -1)
			return -1;
		o->ttl = (int)v;
		return 0;
	case 'Q':
		o->tos = opts_tos(arg);
		return o->tos == -1 ? -1 : 0;
	case 'I':
		if (*arg == '\0')
			return -1;
		/* An address is a source address, as ping's -I; anything else names a link. */
		if (inet_pton(AF_INET, arg, tmp) == 1 || inet_pton(AF_INET6, arg, tmp) == 1)
			o->src_addr = arg;
		else
			o->iface = arg;
		return 0;
	case 'B':
		return opts_bind(o, arg);
	case 'M':
		if (strcmp(arg, "do") == 0)
			o->pmtu = PMTU_DO;
		else if (strcmp(arg, "want") == 0)
			o->pmtu = PMTU_WANT;
		else if (strcmp(arg, "dont") == 0)
			o->pmtu = PMTU_DONT;
		else if (strcmp(arg, "probe") == 0)
			o->pmtu = PMTU_PROBE;
		else
			return -1;
		return 0;
	case OPT_PATTERN:
		return opts_pattern(o, arg);
	}
	return -1;
}

/* The schedule's options; same returns as opts_one(). */
static int
opts_schedule(struct client_opts *o, int c, const char *arg, struct opts_seen *seen)
{
	unsigned long v;

	seen->probing = true;
	switch (c) {
	case 'c':
		return opts_ulong(arg, 1, 0xffffffffUL, &o->count);
	case 'i':
		seen->interval = true;
		return opts_seconds(arg, 0.0, &o->interval);
	case 's':
		/* 0: empty datagrams, as ping -s 0; opts_check() refuses it where it means nothing. */
		if (opts_ulong(arg, 0, OPTS_MAX_STREAM, &v) == -1)
			return -1;
		o->size = v;
		seen->sized = true;
		return 0;
	case 'w':
		return opts_seconds(arg, 0.001, &o->deadline);
	case 'l':
		return opts_ulong(arg, 1, OPTS_MAX_PRELOAD, &o->preload);
	case 'f':
		o->flood = true;
		return 0;
	case 'b':
		o->bandwidth = opts_rate(arg);
		return o->bandwidth < 0 ? -1 : 0;
	case OPT_STREAM:
		o->mode = CLIENT_STREAM;
		return 0;
	case OPT_HISTOGRAM:
		o->histogram = true;
		return 0;
	}
	return -1;
}

/* One option; returns 0, 1 for "printed help or version", -1 for a bad value. */
static int
opts_one(struct client_opts *o, int c, const char *arg, struct opts_seen *seen)
{
	unsigned long v;

	/* What several HOSTs cannot take: options of one connected socket, one message, or
	 * the per-probe display (the probe engine sends from shared sockets, TTL 255). */
	if ((c < 256 && strchr("mflbtIBMD", c) != NULL) || c == OPT_STREAM || c == OPT_HISTOGRAM ||
	    c == OPT_PATTERN || c == OPT_INTERACTIVE || c == OPT_STAMP_TS)
		seen->single = c;
	switch (c) {
	case 'u':
		o->socktype = SOCK_DGRAM;
		return 0;
	case OPT_TCP:
		o->socktype = SOCK_STREAM;
		seen->tcp = true;
		return 0;
	case '4':
		seen->family = AF_INET;
		return 0;
	case '6':
		seen->family = AF_INET6;
		return 0;
	case 'p':
		if (*arg == '\0' || (*arg >= '0' && *arg <= '9' && opts_ulong(arg, 1, 65535, &v)))
			goto bad;
		o->port = arg;
		seen->port = true;
		return 0;
	case 'c': case 'i': case 's': case 'w': case 'l': case 'f': case 'b':
	case OPT_STREAM: case OPT_HISTOGRAM:
		if (opts_schedule(o, c, arg, seen) == -1)
			goto bad;
		return 0;
	case 't': case 'Q': case 'I': case 'B': case 'M': case OPT_PATTERN:
		if (opts_packet(o, c, arg) == -1)
			goto bad;
		return 0;
	case 'm':
		o->message = arg;
		o->message_len = strlen(arg);
		return 0;
	case OPT_STAMP: case OPT_SSID: case OPT_STAMP_KEY: case OPT_COS: case OPT_STAMP_TS:
		/* A STAMP session is a run of probes, as ping's: until -c or interrupted. */
		seen->probing = seen->probing || c == OPT_STAMP;
		if (opts_stamp(o, c, arg) == -1)
			goto bad;
		return 0;
	case 'W':
		if (opts_seconds(arg, 0.001, &o->timeout) == -1)
			goto bad;
		return 0;
	case 'D':
		o->unix_time = true;
		return 0;
	case OPT_INTERACTIVE:
		o->mode = CLIENT_INTERACTIVE;
		return 0;
	case 'q':
		o->quiet = true;
		return 0;
	case OPT_JSON:
		o->json = true;
		return 0;
	case 'V':
		printf("echo-client (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
		return 1;
	case 'h':
		opts_usage();
		return 1;
	default:	/* getopt said what is wrong */
		return -1;
	}
bad:
	if (c == OPT_PATTERN)
		warnx("invalid value for --pattern: '%s' (up to %d bytes in hex)", arg,
		    OPTS_MAX_PATTERN);
	else if (c == OPT_SSID)
		warnx("invalid value for --ssid: '%s' (0 to 65535)", arg);
	else if (c == OPT_STAMP_TS)
		warnx("invalid value for --stamp-timestamp: '%s' (ntp or ptp)", arg);
	else if (c == OPT_STAMP_KEY)
		warnx("--stamp-auth-key: needs a file name");
	else
		warnx("invalid value for -%c: '%s'", c, arg);
	return -1;
}

int
opts_parse(int argc, char **argv, struct client_opts *o)
{
	struct opts_seen seen = { .family = AF_UNSPEC };
	int c, r;

	opts_defaults(o);
	/* getopt's messages start with argv[0]: the name, not the path it was run by. */
	argv[0] = program_invocation_short_name;
	while ((c = getopt_long(argc, argv, "u46p:c:i:s:m:W:w:l:fDt:Q:I:B:M:b:qVh", opts_long,
	    NULL)) != -1) {
		r = opts_one(o, c, optarg, &seen);
		if (r != 0)
			return r;
	}
	if (optind == argc) {
		warnx("missing HOST");
		return -1;
	}
	o->hosts = argv + optind;
	o->nhosts = (size_t)(argc - optind);
	if (opts_host(o, argv[optind], seen.family) == -1 || opts_hosts(o, &seen) == -1)
		return -1;
	if (opts_stamp_check(o, seen.tcp, seen.port, seen.sized) == -1)
		return -1;
	if (o->mode == CLIENT_STREAM && (seen.interval || o->flood || o->preload)) {
		warnx("--stream sends back to back (or at the -b rate): no -i, -f or -l");
		return -1;
	}
	if (o->bandwidth > 0 && (seen.interval || o->flood)) {
		warnx("--bandwidth sets the interval from the rate: no -i or -f with it");
		return -1;
	}
	if (opts_check(o, seen.probing, seen.sized) == -1)
		return -1;
	if (o->nhosts > 1 && opts_hosts_probe(o, seen.sized) == -1)
		return -1;
	if (o->flood && !seen.interval)
		o->interval = OPTS_FLOOD_INTERVAL;
	if (o->mode == CLIENT_STREAM) {
		/* The stream goes out in blocks of -s bytes, back to back or paced by -b. */
		if (!seen.sized)
			o->size = OPTS_STREAM_BLOCK;
		o->interval = 0;
	}
	if (o->bandwidth > 0)
		o->interval = (double)o->size * 8.0 / o->bandwidth;
	return 0;
}
