/* SPDX-License-Identifier: MIT */
/* echod-bench: options, connection set-up, load threads, /proc snapshots around the window. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "stamp.h"

/* Exit codes: 0 clean run, 1 errors were counted, 2 the run could not be made, 64 usage. */
#define EXIT_ERRORS	1
#define EXIT_SETUP	2

static void
usage(void)
{
	printf(
		"usage: echod-bench --port N [options]\n"
		"  -H, --host ADDR       numeric server address (127.0.0.1)\n"
		"  -p, --port N          server port\n"
		"  -m, --mode MODE       tcp-pingpong (default), tcp-stream, udp-pingpong,\n"
		"                        stamp-pingpong (STAMP test packets, -s >= 44),\n"
		"                        tcp-connect, idle; tcp-floor, udp-floor (no server:\n"
		"                        recv+send cost on a loopback pair in this process),\n"
		"                        udp-batch-floor (no server: recvmmsg+sendmmsg of -c\n"
		"                        datagrams, cost per datagram)\n"
		"  -c, --conns N         connections, sockets or connect slots (50)\n"
		"  -s, --size BYTES      message size (64); K and M suffixes allowed\n"
		"  -w, --window BYTES    tcp-stream bytes in flight per connection (256K)\n"
		"  -d, --duration SEC    measured window; idle: how long connections are held (5)\n"
		"      --warmup SEC      load before the window, not counted (0)\n"
		"  -T, --threads N       load threads (1)\n"
		"      --pid PID         server to observe: CPU per op, memory, descriptors\n"
		"      --json            one JSON line instead of text\n"
		"      --stall-ms MS     no progress for this long is a stall (1000)\n"
		"      --loss-ms MS      UDP reply missing this long is a loss (200)\n"
		"      --connect-ms MS   bound on connecting the whole set (10000)\n"
		"      --sources N       rotate TCP sources over 127.0.0.1..N (1; IPv4 loopback)\n"
		"  -V, --version         print the version and exit\n"
		"  -h, --help            print this help and exit\n"
		"Every echoed byte is compared with what was sent. Exit status: 0 clean,\n"
		"1 errors (mismatch, reset, stall, loss, connect failure, fd leak), 2 the run\n"
		"could not be made (no connection set, threads), 64 bad usage.\n");
}

static bool
bench_is_floor(const struct bench_opts *o)
{
	return o->mode >= BENCH_TCP_FLOOR;
}

static int
parse_mode(const char *s, enum bench_mode *m)
{
	enum bench_mode i;

	for (i = BENCH_TCP_PINGPONG; i <= BENCH_UDP_BATCH_FLOOR; i++) {
		if (strcmp(s, bench_mode_name(i)) == 0) {
			*m = i;
			return 0;
		}
	}
	return -1;
}

/* "65536", "64K", "256KiB", "1M": bytes, or -1 when malformed. */
static long
parse_size(const char *s)
{
	char *end;
	long v, unit = 1;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || v < 0)
		return -1;
	if (*end == 'K' || *end == 'k')
		unit = 1024, end++;
	else if (*end == 'M' || *end == 'm')
		unit = 1024 * 1024, end++;
	/* A product that wraps would slip past the range check (2^44 + 1 M is 1 M). */
	if (v > LONG_MAX / unit)
		return -1;
	v *= unit;
	if (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0)
		end += strlen(end);
	return *end == '\0' ? v : -1;
}

static long
parse_long(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	return errno != 0 || end == s || *end != '\0' || v < min || v > max ? -1 : v;
}

static double
parse_seconds(const char *s)
{
	char *end;
	double v;

	v = strtod(s, &end);
	return end == s || *end != '\0' || !(v >= 0 && v <= 3600) ? -1 : v;
}

/* Range checks after parsing, where the mode is known. Returns 0 or -1 (message printed). */
static int
opts_check(const struct bench_opts *o)
{
	bool udp = bench_mode_is_pingpong_dgram(o->mode) || o->mode == BENCH_UDP_FLOOR ||
	    o->mode == BENCH_UDP_BATCH_FLOOR;
	size_t max = udp ? BENCH_MAX_DGRAM : BENCH_MAX_CHUNK;

	/* The parsers already refused malformed and out-of-range values. */
	if (o->port == 0 && !bench_is_floor(o)) {
		fprintf(stderr, "echod-bench: --port is needed\n");
		return -1;
	}
	if (o->duration <= 0) {
		fprintf(stderr, "echod-bench: --duration must be positive\n");
		return -1;
	}
	/* recvmmsg() and sendmmsg() take at most UIO_MAXIOV (1024) messages a call. */
	if (o->mode == BENCH_UDP_BATCH_FLOOR && o->conns > 1024) {
		fprintf(stderr, "echod-bench: udp-batch-floor takes at most 1024 sockets\n");
		return -1;
	}
	if (o->mode == BENCH_STAMP_PINGPONG && o->size < STAMP_UNAUTH_LEN) {
		fprintf(stderr, "echod-bench: stamp-pingpong needs -s %d or more (the base "
		    "packet)\n", STAMP_UNAUTH_LEN);
		return -1;
	}
	if (o->size == 0 || o->size > max || o->window == 0 || o->window > BENCH_MAX_CHUNK) {
		fprintf(stderr, "echod-bench: size and window must be 1..%zu bytes\n", max);
		return -1;
	}
	return 0;
}

enum { OPT_WARMUP = 256, OPT_PID, OPT_JSON, OPT_STALL, OPT_LOSS, OPT_CONNECT, OPT_SOURCES };

static const struct option long_opts[] = {
	{ "host", required_argument, NULL, 'H' },
	{ "port", required_argument, NULL, 'p' },
	{ "mode", required_argument, NULL, 'm' },
	{ "conns", required_argument, NULL, 'c' },
	{ "size", required_argument, NULL, 's' },
	{ "window", required_argument, NULL, 'w' },
	{ "duration", required_argument, NULL, 'd' },
	{ "threads", required_argument, NULL, 'T' },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "pid", required_argument, NULL, OPT_PID },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "stall-ms", required_argument, NULL, OPT_STALL },
	{ "loss-ms", required_argument, NULL, OPT_LOSS },
	{ "connect-ms", required_argument, NULL, OPT_CONNECT },
	{ "sources", required_argument, NULL, OPT_SOURCES },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* One option with its argument into o. Returns 0, or -1 when the value is malformed. */
static int
opts_set(int ch, const char *arg, struct bench_opts *o)
{
	long v = 0;
	double d = 0;

	switch (ch) {
	case 'H': o->host = arg; return 0;
	case 'm': return parse_mode(arg, &o->mode);
	case OPT_JSON: o->json = true; return 0;
	case 's': case 'w': v = parse_size(arg); break;
	case 'd': case OPT_WARMUP: d = parse_seconds(arg); break;
	case 'p': v = parse_long(arg, 1, 65535); break;
	case 'c': v = parse_long(arg, 1, 1000000); break;
	case 'T': v = parse_long(arg, 1, 1024); break;
	case OPT_PID: v = parse_long(arg, 1, 1L << 30); break;
	case OPT_SOURCES: v = parse_long(arg, 1, 254); break;
	default: v = parse_long(arg, 1, 3600000); break;	/* the _ms timeouts */
	}
	if (v < 0 || d < 0)
		return -1;
	switch (ch) {
	case 's': o->size = (size_t)v; break;
	case 'w': o->window = (size_t)v; break;
	case 'd': o->duration = d; break;
	case OPT_WARMUP: o->warmup = d; break;
	case 'p': o->port = (unsigned)v; break;
	case 'c': o->conns = (int)v; break;
	case 'T': o->threads = (int)v; break;
	case OPT_PID: o->pid = (pid_t)v; break;
	case OPT_STALL: o->stall_ms = (int)v; break;
	case OPT_LOSS: o->loss_ms = (int)v; break;
	case OPT_CONNECT: o->connect_ms = (int)v; break;
	case OPT_SOURCES: o->sources = (int)v; break;
	}
	return 0;
}

/* The long name of option ch, for messages: every option has one. */
static const char *
opts_name(int ch)
{
	const struct option *l = long_opts;

	while (l->name != NULL && l->val != ch)
		l++;
	return l->name != NULL ? l->name : "?";
}

/* Returns 0, 1 for --help, 2 for --version, or -1 on a usage error (message printed). */
static int
opts_parse(int argc, char **argv, struct bench_opts *o)
{
	int ch;

	/* getopt's messages start with argv[0]: the name, not the path it was run by. */
	argv[0] = program_invocation_short_name;
	while ((ch = getopt_long(argc, argv, "H:p:m:c:s:w:d:T:hV", long_opts, NULL)) != -1) {
		if (ch == 'h')
			return 1;
		if (ch == 'V')
			return 2;
		if (ch == '?')
			return -1;
		if (opts_set(ch, optarg, o) == -1) {
			fprintf(stderr, "echod-bench: invalid value for --%s: '%s'\n",
			    opts_name(ch), optarg);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "echod-bench: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return opts_check(o);
}

static void *
worker_main(void *arg)
{
	struct bench_worker *w = arg;

	switch (w->o->mode) {
	case BENCH_TCP_PINGPONG: tcp_pingpong_run(w); break;
	case BENCH_TCP_STREAM: tcp_stream_run(w); break;
	case BENCH_UDP_PINGPONG: udp_pingpong_run(w); break;
	case BENCH_STAMP_PINGPONG: udp_pingpong_run(w); break;
	case BENCH_TCP_CONNECT: tcp_connect_run(w); break;
	case BENCH_IDLE: idle_run(w); break;
	case BENCH_TCP_FLOOR: case BENCH_UDP_FLOOR: floor_run(w); break;
	case BENCH_UDP_BATCH_FLOOR: floor_batch_run(w); break;
	}
	return NULL;
}

static void
sleep_until(int64_t t)
{
	struct timespec ts = { .tv_sec = t / 1000000000, .tv_nsec = t % 1000000000 };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/*
 * Wait (up to 2 s) for the server to close its side of every connection: its descriptor count
 * back at the baseline. Returns the count it settled at.
 */
static int
wait_fds(pid_t pid, int baseline)
{
	int64_t deadline = bench_now() + 2000000000;
	struct timespec ts = { 0, 20000000 };
	int n;

	while ((n = proc_fds(pid)) > baseline && bench_now() < deadline)
		nanosleep(&ts, NULL);
	return n;
}

/* Split the connections over the threads, run them, snapshot /proc at both window edges. */
static int
run_workers(const struct bench_opts *o, int *fds, struct bench_result *r)
{
	int n = o->threads < o->conns ? o->threads : o->conns;
	struct bench_worker *w;
	int64_t t0 = bench_now();
	int i, started = 0;

	if (o->mode == BENCH_IDLE || bench_is_floor(o))
		n = 1;
	w = calloc((size_t)n, sizeof(*w));
	if (w == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		w[i].o = o;
		w[i].index = (int)((long)o->conns * i / n);
		w[i].count = (int)((long)o->conns * (i + 1) / n) - w[i].index;
		w[i].fds = fds != NULL ? fds + w[i].index : NULL;
		w[i].t_measure = t0 + (int64_t)(o->warmup * 1e9);
		w[i].t_end = w[i].t_measure + (int64_t)(o->duration * 1e9);
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]) != 0)
			break;
		started++;
	}
	if (started > 0) {
		sleep_until(w[0].t_measure);
		if (o->pid > 0)
			proc_snap(o->pid, &r->start);
		sleep_until(w[0].t_end);
		if (o->pid > 0)
			proc_snap(o->pid, &r->end);
	}
	for (i = 0; i < started; i++) {
		pthread_join(w[i].tid, NULL);
		if (w[i].failed != 0)
			fprintf(stderr, "echod-bench: worker %d: %s\n", i, strerror(w[i].failed));
		r->st.ops += w[i].st.ops;
		r->st.bytes += w[i].st.bytes;
		r->st.done_total += w[i].st.done_total;
		r->st.mismatch += w[i].st.mismatch;
		r->st.reset += w[i].st.reset;
		r->st.stall += w[i].st.stall;
		r->st.loss += w[i].st.loss;
		r->st.late += w[i].st.late;
		r->st.connect_fail += w[i].st.connect_fail;
		hist_merge(&r->st.lat, &w[i].st.lat);
	}
	free(w);
	return started == n ? 0 : -1;
}

/*
 * The baseline: one complete connect-echo-close first (so a server that opens a descriptor
 * lazily on its first client is not mistaken for leaking), then the settled descriptor count.
 * Returns 0, BASELINE_NO_CONNECT, or BASELINE_NO_ECHO.
 */
enum { BASELINE_NO_CONNECT = -2, BASELINE_NO_ECHO = -1 };

static int
baseline(const struct bench_opts *o, struct bench_result *r)
{
	struct bench_opts probe = *o;
	struct bench_worker w = { .o = &probe, .count = 1 };
	struct timespec ts = { 0, 50000000 };
	int fd = -1, prev, tries = 20;

	probe.mode = BENCH_IDLE;
	probe.size = 1;
	w.fds = &fd;
	if (!bench_mode_is_pingpong_dgram(o->mode)) {
		if (net_connect_all(&probe, &fd, 1, &w.st) != 1)
			return BASELINE_NO_CONNECT;
		if (idle_prove(&w) != 1) {
			net_close_all(&fd, 1);
			return BASELINE_NO_ECHO;
		}
		net_close_all(&fd, 1);
	}
	if (o->pid == 0)
		return 0;
	/* Settled: the same count 50 ms apart (a busy server may never settle: 1 s at most). */
	do {
		prev = proc_fds(o->pid);
		nanosleep(&ts, NULL);
	} while (proc_fds(o->pid) != prev && --tries > 0);
	return proc_snap(o->pid, &r->before);
}

static int
run(struct bench_opts *o, struct bench_result *r)
{
	int *fds = NULL, ret = -1;

	if (bench_is_floor(o))
		return run_workers(o, NULL, r);
	if (o->pid > 0 && proc_fds(o->pid) == -1) {
		fprintf(stderr, "echod-bench: --pid %d: %s\n", (int)o->pid, strerror(errno));
		return -1;
	}
	switch (baseline(o, r)) {
	case 0:
		break;
	case BASELINE_NO_CONNECT:
		fprintf(stderr, "echod-bench: %s port %u: cannot connect (nothing listening?)\n",
			o->host, o->port);
		return -1;
	default:
		fprintf(stderr, "echod-bench: %s port %u: no echo from the server\n", o->host,
			o->port);
		return -1;
	}
	if (o->mode != BENCH_TCP_CONNECT) {
		fds = malloc((size_t)o->conns * sizeof(*fds));
		if (fds == NULL)
			return -1;
		r->conns_up = net_connect_all(o, fds, o->conns, &r->st);
		if (r->conns_up > 0 && o->mode == BENCH_IDLE) {
			struct bench_worker w = { .o = o, .count = o->conns, .fds = fds };

			r->conns_up = idle_prove(&w);
			r->st.stall += w.st.stall;
			r->st.mismatch += w.st.mismatch;
			r->st.reset += w.st.reset;
		}
		if (r->conns_up <= 0) {
			fprintf(stderr, "echod-bench: no connection could be made\n");
			goto done;
		}
	}
	ret = run_workers(o, fds, r);
done:
	if (fds != NULL)
		net_close_all(fds, o->conns);
	free(fds);
	if (o->pid > 0 && r->before.ok)
		r->fds_after = wait_fds(o->pid, r->before.fds);
	return ret;
}

/* After the one line that says what is wrong: where to look, as coreutils do. */
static int
try_help(void)
{
	fprintf(stderr, "Try '%s --help' for more information.\n", program_invocation_short_name);
	return EX_USAGE;
}

int
main(int argc, char **argv)
{
	struct bench_opts o = {
		.mode = BENCH_TCP_PINGPONG, .host = "127.0.0.1", .conns = 50, .threads = 1,
		.size = 64, .window = 256 * 1024, .duration = 5, .warmup = 0,
		.stall_ms = 1000, .loss_ms = 200, .connect_ms = 10000, .sources = 1,
	};
	static struct bench_result r;
	uint64_t errors;

	switch (opts_parse(argc, argv, &o)) {
	case 1:
		usage();
		return 0;
	case 2:
		printf("echod-bench (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
		return 0;
	case -1:
		return try_help();
	}
	if (net_resolve(&o) == -1) {
		fprintf(stderr, "echod-bench: %s: not a numeric address\n", o.host);
		return try_help();
	}
	signal(SIGPIPE, SIG_IGN);
	if (net_raise_nofile() == -1)
		fprintf(stderr, "echod-bench: cannot raise RLIMIT_NOFILE: %s\n", strerror(errno));
	pattern_init();
	r.o = &o;
	r.window_s = o.duration;
	r.fds_after = -1;
	if (run(&o, &r) == -1)
		return EXIT_SETUP;
	if (o.json)
		report_json(&r);
	else
		report_print(&r);
	errors = report_errors(&r.st, &r);
	if (errors > 0)
		fprintf(stderr, "echod-bench: %s: %llu error(s)\n", bench_mode_name(o.mode),
			(unsigned long long)errors);
	return errors > 0 ? EXIT_ERRORS : 0;
}
