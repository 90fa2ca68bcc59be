/* SPDX-License-Identifier: MIT */
/* echo-client's command line: the options, their defaults and their validation. */
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
#define OPTS_MAX_SECONDS	86400.0

enum { OPT_JSON = 256 };

static const struct option opts_long[] = {
	{ "udp",		no_argument,		NULL, 'u' },
	{ "tcp",		no_argument,		NULL, 't' },
	{ "port",		required_argument,	NULL, 'p' },
	{ "count",		required_argument,	NULL, 'c' },
	{ "interval",		required_argument,	NULL, 'i' },
	{ "size",		required_argument,	NULL, 's' },
	{ "message",		required_argument,	NULL, 'm' },
	{ "timeout",		required_argument,	NULL, 'W' },
	{ "interactive",	no_argument,		NULL, 'I' },
	{ "quiet",		no_argument,		NULL, 'q' },
	{ "json",		no_argument,		NULL, OPT_JSON },
	{ "version",		no_argument,		NULL, 'V' },
	{ "help",		no_argument,		NULL, 'h' },
	{ NULL,			0,			NULL, 0 },
};

static void
opts_usage(FILE *f)
{
	fprintf(f,
	    "usage: echo-client [-u|--udp] [-t|--tcp] [-4|-6] [-p|--port N] [-c|--count N]\n"
	    "                   [-i|--interval SEC] [-s|--size BYTES] [-m|--message TEXT]\n"
	    "                   [-W|--timeout SEC] [-I|--interactive] [-q|--quiet] [--json]\n"
	    "                   [-V] [-h] HOST\n"
	    "\n"
	    "Send data to an RFC 862 echo server and check that it comes back.\n"
	    "HOST is a name, an IPv4 or IPv6 literal, or unix:/path for a Unix stream socket.\n"
	    "\n"
	    "  -t, --tcp            use TCP (default)\n"
	    "  -u, --udp            use UDP\n"
	    "  -4, -6               use only IPv4 or only IPv6\n"
	    "  -p, --port N         port number or service name (default 7)\n"
	    "  -m, --message TEXT   send TEXT (default \"hello\") and print the echo\n"
	    "  -c, --count N        send N probes, like ping (default: until interrupted)\n"
	    "  -i, --interval SEC   seconds between probes (default 1)\n"
	    "  -s, --size BYTES     random probe payloads of BYTES bytes (default 64)\n"
	    "  -W, --timeout SEC    wait this long for a connection or an echo (default 5)\n"
	    "  -I, --interactive    send lines read from standard input, print the echoes\n"
	    "  -q, --quiet          print only the summary (with -I: only the echoes)\n"
	    "      --json           print the summary as one JSON object\n"
	    "  -V, --version        print the version\n"
	    "  -h, --help           print this help\n"
	    "\n"
	    "Exit status: 0 all echoes matched, 1 an echo was lost or differed or the server\n"
	    "could not be reached, 2 usage or name resolution error.\n");
}

/* Whole-string unsigned parse; strtoul() alone would accept "-1", "" and "12abc". */
static int
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
}

/* Which options may be combined, once all are known; returns -1 after saying why not. */
static int
opts_check(struct client_opts *o, bool probing, bool sized)
{
	if (o->mode == CLIENT_INTERACTIVE && (probing || o->message != NULL)) {
		warnx("--interactive reads its data from standard input: "
		    "it takes no --count, --interval, --size or --message");
		return -1;
	}
	if (o->mode == CLIENT_INTERACTIVE && o->json) {
		warnx("--json is not available with --interactive");
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

/* One option; returns 0, 1 for "printed help or version", -1 for a bad value. */
static int
opts_one(struct client_opts *o, int c, const char *arg, int *family, bool *probing, bool *sized)
{
	unsigned long v;

	switch (c) {
	case 'u':
		o->socktype = SOCK_DGRAM;
		return 0;
	case 't':
		o->socktype = SOCK_STREAM;
		return 0;
	case '4':
		*family = AF_INET;
		return 0;
	case '6':
		*family = AF_INET6;
		return 0;
	case 'p':
		if (*arg == '\0' || (*arg >= '0' && *arg <= '9' && opts_ulong(arg, 1, 65535, &v)))
			goto bad;
		o->port = arg;
		return 0;
	case 'c':
		if (opts_ulong(arg, 1, 0xffffffffUL, &o->count) == -1)
			goto bad;
		*probing = true;
		return 0;
	case 'i':
		if (opts_seconds(arg, 0.0, &o->interval) == -1)
			goto bad;
		*probing = true;
		return 0;
	case 's':
		if (opts_ulong(arg, 1, OPTS_MAX_STREAM, &v) == -1)
			goto bad;
		o->size = v;
		*probing = *sized = true;
		return 0;
	case 'm':
		o->message = arg;
		o->message_len = strlen(arg);
		return 0;
	case 'W':
		if (opts_seconds(arg, 0.001, &o->timeout) == -1)
			goto bad;
		return 0;
	case 'I':
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
		opts_usage(stdout);
		return 1;
	default:
		opts_usage(stderr);
		return -1;
	}
bad:
	warnx("invalid value for -%c: '%s'", c, arg);
	return -1;
}

int
opts_parse(int argc, char **argv, struct client_opts *o)
{
	int c, r, family = AF_UNSPEC;
	bool probing = false, sized = false;

	opts_defaults(o);
	while ((c = getopt_long(argc, argv, "ut46p:c:i:s:m:W:IqVh", opts_long, NULL)) != -1) {
		r = opts_one(o, c, optarg, &family, &probing, &sized);
		if (r != 0)
			return r;
	}
	if (optind != argc - 1) {
		warnx(optind == argc ? "missing HOST" : "one HOST only");
		opts_usage(stderr);
		return -1;
	}
	if (opts_host(o, argv[optind], family) == -1)
		return -1;
	return opts_check(o, probing, sized);
}
