/* SPDX-License-Identifier: MIT */
/* echodctl: asks a running echod (control socket) to reload, or for its status or counters. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

/*
 * Not $RUNTIME_DIRECTORY/control as in echod: a client runs outside the service and
 * never has that variable, so it names the socket echod.service gets.
 */
#define ECHOD_CONTROL_SOCKET	"/run/echod/control"
#define ECHODCTL_TIMEOUT_S	60
/* Reply lines longer than this are passed through in pieces (result lines are short). */
#define ECHODCTL_LINE_MAX	4096

/* Exit codes (echodctl(8)). */
#define EXIT_APPLIED	0
#define EXIT_FAILED	1
#define EXIT_NO_ECHOD	EX_UNAVAILABLE	/* 69: nothing answered, or not to the end */

struct ctl {
	const char *socket;
	const char *command;
	bool json;			/* status, stats, probes --json */
	long timeout_ms;
	struct timespec deadline;	/* CLOCK_MONOTONIC: connect + request + whole reply */
	int fd;
};

/* What the reply said: its last line decides. */
enum ctl_result { RESULT_NONE, RESULT_OK, RESULT_FAILED };

struct reply {
	char line[ECHODCTL_LINE_MAX];
	size_t len;
	bool continued;		/* line[] holds the rest of a line already partly printed */
	char held[ECHODCTL_LINE_MAX];	/* a result line, printed if more follows */
	bool holding;
	enum ctl_result result;
};

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: echodctl [-s|--socket SOCKET] [-T|--timeout SECONDS] reload|metrics\n"
	    "       echodctl [-s|--socket SOCKET] [-T|--timeout SECONDS] status|stats|probes\n"
	    "                [--json]\n"
	    "       echodctl -h|--help | -V|--version\n"
	    "\n"
	    "Ask the running echod to reload its configuration, or for its status or counters.\n"
	    "\n"
	    "  reload                re-read the configuration, wait until every worker has\n"
	    "                        applied it, print what applied\n"
	    "  status                print the version, pid, uptime, workers, connections, the\n"
	    "                        configuration, the reloads and every listener\n"
	    "  stats                 print every counter, one name=value a line (never reset)\n"
	    "  probes                print one line per probe target: sent, loss %% (forward,\n"
	    "                        backward), rtt p50/p99 of the last minute, last reply, up\n"
	    "  -j, --json            status, stats, probes: one JSON object instead\n"
	    "  metrics               print the counters in the Prometheus text format\n"
	    "  -s, --socket SOCKET   echod's control socket (default " ECHOD_CONTROL_SOCKET ")\n"
	    "  -T, --timeout SECONDS give up after this long (default %d)\n"
	    "  -V, --version         print the version and exit\n"
	    "  -h, --help            print this help and exit\n"
	    "\n"
	    "Exit status: 0 applied / printed, 1 the reload did not fully apply, 64 bad usage,\n"
	    "69 no echod answered. See echodctl(8).\n", ECHODCTL_TIMEOUT_S);
}

static int
parse_timeout(const char *text, long *ms)
{
	char *end;
	long s;

	errno = 0;
	s = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || s < 1 || s > INT_MAX / 1000)
		return -1;
	*ms = s * 1000;
	return 0;
}

static bool
command_known(const char *command)
{
	static const char *const known[] = { "reload", "status", "stats", "metrics", "probes" };

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(command, known[i]) == 0)
			return true;
	return false;
}

/*
 * After the one line that says what is wrong (getopt's, or ours): where to look, as
 * coreutils do. The whole help only on --help.
 */
static int
try_help(void)
{
	fprintf(stderr, "Try '%s --help' for more information.\n", program_invocation_short_name);
	return EX_USAGE;
}

/* Returns -1 to exit 0 at once (--help, --version), EX_USAGE on error, else 0. */
static int
parse_options(int argc, char **argv, struct ctl *ctl)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'j' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	/* getopt's messages start with argv[0]: the name, not the path it was run by. */
	argv[0] = program_invocation_short_name;
	while ((c = getopt_long(argc, argv, "s:T:jVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			ctl->json = true;
			break;
		case 's':
			ctl->socket = optarg;
			break;
		case 'T':
			if (parse_timeout(optarg, &ctl->timeout_ms) == 0)
				break;
			fprintf(stderr, "echodctl: --timeout: '%s' is not a number of seconds "
			    "from 1 to %d\n", optarg, INT_MAX / 1000);
			return try_help();
		case 'V':
			printf("echodctl %s\n", PACKAGE_VERSION);
			return -1;
		case 'h':
			usage(stdout);
			return -1;
		default:
			return try_help();
		}
	}
	if (optind == argc) {
		fprintf(stderr, "echodctl: missing command: reload, status, stats, metrics or "
		    "probes\n");
		return try_help();
	}
	ctl->command = argv[optind++];
	if (!command_known(ctl->command)) {
		fprintf(stderr, "echodctl: unknown command '%s': reload, status, stats, "
		    "metrics or probes\n", ctl->command);
		return try_help();
	}
	if (ctl->json && strcmp(ctl->command, "stats") != 0 &&
	    strcmp(ctl->command, "status") != 0 && strcmp(ctl->command, "probes") != 0) {
		fprintf(stderr, "echodctl: --json is for status, stats and probes only\n");
		return try_help();
	}
	if (optind < argc) {
		fprintf(stderr, "echodctl: unexpected argument '%s'\n", argv[optind]);
		return try_help();
	}
	if (ctl->socket[0] == '\0' ||
	    strlen(ctl->socket) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		fprintf(stderr, "echodctl: --socket: '%s' is not a socket path (1 to %zu bytes)\n",
		    ctl->socket, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return try_help();
	}
	return 0;
}

/* Milliseconds left before the deadline, 0 once it has passed. */
static int
ctl_remaining_ms(const struct ctl *ctl)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(ctl->deadline.tv_sec - now.tv_sec) * 1000 +
	    (ctl->deadline.tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? (int)ms : 0;
}

/* Wait for events on the socket until the deadline: 1 ready, 0 timed out, -1 error. */
static int
ctl_wait(const struct ctl *ctl, short events)
{
	struct pollfd pfd = { .fd = ctl->fd, .events = events };
	int ms, r;

	for (;;) {
		ms = ctl_remaining_ms(ctl);
		if (ms == 0)
			return 0;
		r = poll(&pfd, 1, ms);
		if (r == -1 && errno == EINTR)
			continue;
		return r > 0 ? 1 : r;
	}
}

/*
 * Connect within the deadline. A Unix stream connect does not complete in the
 * background: when the listener's backlog is full it blocks, or fails with EAGAIN
 * on a non-blocking socket, so the blocking connect is bounded by SO_SNDTIMEO
 * (which the kernel applies to it) and the socket made non-blocking afterwards.
 * Returns 0, or -1 with errno (EAGAIN: the deadline passed).
 */
static int
ctl_connect(struct ctl *ctl)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv;
	int ms, r;

	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ctl->fd == -1)
		return -1;
	memcpy(sun.sun_path, ctl->socket, strlen(ctl->socket));
	do {
		ms = ctl_remaining_ms(ctl);
		if (ms == 0) {
			errno = EAGAIN;
			return -1;
		}
		tv.tv_sec = ms / 1000;
		tv.tv_usec = (ms % 1000) * 1000;
		if (setsockopt(ctl->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1)
			return -1;
		r = connect(ctl->fd, (struct sockaddr *)&sun, sizeof(sun));
	} while (r == -1 && errno == EINTR);
	if (r == -1)
		return -1;
	return fcntl(ctl->fd, F_SETFL, O_NONBLOCK);
}

/*
 * Send the whole request line. Returns 0, or -1 with errno (EAGAIN: the deadline
 * passed; EPIPE/ECONNRESET: echod closed, though it may have replied first).
 */
static int
ctl_send(struct ctl *ctl, const char *buf, size_t len)
{
	ssize_t n;
	int r;

	while (len > 0) {
		n = send(ctl->fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno != EAGAIN)
			return -1;
		r = ctl_wait(ctl, POLLOUT);
		if (r <= 0) {
			if (r == 0)
				errno = EAGAIN;
			return -1;
		}
	}
	return 0;
}

/* Print a line (or a piece of one) at once, so that a slow reload shows its progress. */
static void
reply_print(const char *s, size_t len, bool newline)
{
	fwrite(s, 1, len, stdout);
	if (newline)
		putchar('\n');
	fflush(stdout);
}

/* A held result line was not the last one after all: it is just text. */
static void
reply_release(struct reply *rp)
{
	if (rp->holding)
		reply_print(rp->held, strlen(rp->held), true);
	rp->holding = false;
	rp->result = RESULT_NONE;
}

/* One complete line (without its newline) arrived. */
static void
reply_line(struct reply *rp, const char *s, size_t len)
{
	static const char prefix[] = "result: ";

	reply_release(rp);
	/* A result line is the answer only if it is the last: hold it until we know. */
	if (len >= sizeof(prefix) - 1 && memcmp(s, prefix, sizeof(prefix) - 1) == 0) {
		memcpy(rp->held, s, len);
		rp->held[len] = '\0';
		rp->holding = true;
		if (strcmp(rp->held, "result: ok") == 0)
			rp->result = RESULT_OK;
		else if (strcmp(rp->held, "result: failed") == 0)
			rp->result = RESULT_FAILED;
		return;
	}
	reply_print(s, len, true);
}

/* Split what was read into lines; a line too long for the buffer passes in pieces. */
static void
reply_feed(struct reply *rp, const char *buf, size_t n)
{
	const char *nl;
	size_t take;

	while (n > 0) {
		nl = memchr(buf, '\n', n);
		take = nl != NULL ? (size_t)(nl - buf) : n;
		if (take > sizeof(rp->line) - 1 - rp->len)
			take = sizeof(rp->line) - 1 - rp->len;
		memcpy(rp->line + rp->len, buf, take);
		rp->len += take;
		buf += take;
		n -= take;
		if (n > 0 && *buf == '\n') {
			if (rp->continued)
				reply_print(rp->line, rp->len, true);
			else
				reply_line(rp, rp->line, rp->len);
			rp->len = 0;
			rp->continued = false;
			buf++;
			n--;
		} else if (rp->len == sizeof(rp->line) - 1) {
			/* Not a result line: those are short. */
			reply_release(rp);
			reply_print(rp->line, rp->len, false);
			rp->len = 0;
			rp->continued = true;
		}
	}
}

/* Read and print the reply until echod closes. Returns 0 at EOF, else -1 with errno. */
static int
ctl_receive(struct ctl *ctl, struct reply *rp)
{
	char buf[ECHODCTL_LINE_MAX];
	ssize_t n;
	int r;

	for (;;) {
		n = recv(ctl->fd, buf, sizeof(buf), 0);
		if (n > 0) {
			reply_feed(rp, buf, (size_t)n);
			continue;
		}
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -1;
		r = ctl_wait(ctl, POLLIN);
		if (r <= 0) {
			if (r == 0)
				errno = EAGAIN;
			return -1;
		}
	}
}

/*
 * The one line on stderr for each way of getting no answer; connecting says why
 * in the words an admin acts on. Returns EXIT_NO_ECHOD.
 */
static int
ctl_unreachable(const struct ctl *ctl, bool connecting, int err)
{
	const char *hint = "";

	if (err == EAGAIN) {
		fprintf(stderr, "echodctl: no answer from echod at %s within %ld s%s\n",
		    ctl->socket, ctl->timeout_ms / 1000, strcmp(ctl->command, "reload") == 0 ?
		    " (the reload may still complete: see echodctl status)" : "");
		return EXIT_NO_ECHOD;
	}
	if (err == ENOENT)
		hint = " (is echod running?)";
	else if (err == ECONNREFUSED)
		hint = " (no echod listens there: the file is left from one that stopped and "
		    "could not remove it; the next start replaces it)";
	else if (err == EACCES || err == EPERM)
		hint = " (only root and echod's user may use it)";
	fprintf(stderr, "echodctl: %s echod at %s: %s%s\n", connecting ? "cannot reach" :
	    "lost the connection to", ctl->socket, strerror(err), hint);
	return EXIT_NO_ECHOD;
}

/* Ask, print the reply, and return the exit status its last line calls for. */
static int
ctl_run(struct ctl *ctl)
{
	struct reply rp = { .result = RESULT_NONE };
	char request[16];
	int send_err = 0, len;

	clock_gettime(CLOCK_MONOTONIC, &ctl->deadline);
	ctl->deadline.tv_sec += ctl->timeout_ms / 1000;
	if (ctl_connect(ctl) == -1)
		return ctl_unreachable(ctl, true, errno);
	len = snprintf(request, sizeof(request), "%s%s\n", ctl->command, ctl->json ? " json" : "");
	/* echod may answer and close before reading everything: its answer still counts. */
	if (ctl_send(ctl, request, (size_t)len) == -1) {
		send_err = errno;
		if (send_err == EAGAIN)
			return ctl_unreachable(ctl, false, send_err);
	}
	/*
	 * A reset after a whole reply is an end like any other: echod closed with our
	 * request unread, which the kernel reports after the data it sent.
	 */
	if (ctl_receive(ctl, &rp) == -1 &&
	    (errno != ECONNRESET || rp.result == RESULT_NONE || rp.len > 0))
		return ctl_unreachable(ctl, false, errno);
	if (rp.len > 0) {
		/* echod went away in the middle of a line: show what came. */
		reply_release(&rp);
		reply_print(rp.line, rp.len, true);
		fprintf(stderr, "echodctl: echod at %s closed the connection in the middle of "
		    "a line, without a result\n", ctl->socket);
		return EXIT_NO_ECHOD;
	}
	if (rp.result == RESULT_OK)
		return EXIT_APPLIED;
	if (rp.result == RESULT_FAILED)
		return EXIT_FAILED;
	if (send_err != 0)
		return ctl_unreachable(ctl, false, send_err);
	if (rp.holding)
		fprintf(stderr, "echodctl: echod at %s answered '%s', neither 'result: ok' "
		    "nor 'result: failed'\n", ctl->socket, rp.held);
	else
		fprintf(stderr, "echodctl: echod at %s closed the connection without a "
		    "result\n", ctl->socket);
	return EXIT_NO_ECHOD;
}

int
main(int argc, char **argv)
{
	struct ctl ctl = { .socket = ECHOD_CONTROL_SOCKET,
	    .timeout_ms = ECHODCTL_TIMEOUT_S * 1000L, .fd = -1 };
	int r;

	r = parse_options(argc, argv, &ctl);
	if (r != 0)
		return r == -1 ? 0 : r;
	r = ctl_run(&ctl);
	if (ctl.fd != -1)
		close(ctl.fd);
	return r;
}
