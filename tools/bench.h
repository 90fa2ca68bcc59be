/* SPDX-License-Identifier: MIT */
/* Shared types of echod-bench: options, counters, per-thread worker state, module APIs. */
#ifndef ECHOD_BENCH_H
#define ECHOD_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/types.h>

enum bench_mode {
	BENCH_TCP_PINGPONG,
	BENCH_TCP_STREAM,
	BENCH_UDP_PINGPONG,
	BENCH_TCP_CONNECT,
	BENCH_IDLE,
	BENCH_STAMP_PINGPONG,	/* udp-pingpong with STAMP test packets (a stamp listener) */
	/* The floors last: bench_is_floor(). */
	BENCH_TCP_FLOOR,
	BENCH_UDP_FLOOR,
	BENCH_UDP_BATCH_FLOOR,
};

/* One datagram in flight per socket: plain echo, or STAMP test packets. */
static inline bool
bench_mode_is_pingpong_dgram(enum bench_mode m)
{
	return m == BENCH_UDP_PINGPONG || m == BENCH_STAMP_PINGPONG;
}

/* Largest message or in-flight window; the pattern block is at least this long. */
#define BENCH_MAX_CHUNK		(1024 * 1024)
#define BENCH_MAX_DGRAM		65507

struct bench_opts {
	enum bench_mode mode;
	const char *host;
	unsigned port;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int conns;
	int threads;
	size_t size;
	size_t window;
	double duration;	/* measured window, seconds */
	double warmup;		/* load before the window, not counted */
	pid_t pid;		/* server to observe through /proc, 0 = none */
	bool json;
	int stall_ms;		/* no progress for this long = one stall */
	int loss_ms;		/* UDP reply not back after this long = one loss */
	int connect_ms;		/* bound on establishing the connection set */
	int sources;		/* IPv4 loopback source addresses to rotate over (1 = none) */
};

/* Log-linear latency histogram in nanoseconds: 64 sub-buckets per power of two. */
#define HIST_BUCKETS	(38 * 64)

struct hist {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t bucket[HIST_BUCKETS];
};

struct bench_stats {
	uint64_t ops;		/* round trips, datagrams or connections inside the window */
	uint64_t bytes;		/* verified echoed bytes inside the window */
	uint64_t done_total;	/* completed operations including warm-up (for loss %) */
	uint64_t mismatch;	/* echoed bytes differ from what was sent, or excess bytes */
	uint64_t reset;		/* connection reset, refused or closed by the server */
	uint64_t stall;		/* a connection made no progress for stall_ms */
	uint64_t loss;		/* UDP datagram not echoed within loss_ms */
	uint64_t late;		/* UDP reply that came back after being counted lost */
	uint64_t connect_fail;	/* connect() failed or timed out */
	struct hist lat;
};

/* One load thread: a slice of the connections and its own epoll and counters. */
struct bench_worker {
	const struct bench_opts *o;
	int index;		/* first connection number of this slice */
	int count;		/* connections (or connect slots) in this slice */
	int *fds;		/* pre-connected sockets of the slice, or NULL */
	int64_t t_measure;	/* CLOCK_MONOTONIC ns: window opens */
	int64_t t_end;		/* window closes, the worker returns */
	struct bench_stats st;
	int failed;		/* setup failure inside the worker (errno value) */
	pthread_t tid;
};

/* bench-clock: monotonic time in nanoseconds. */
int64_t bench_now(void);
bool bench_in_window(const struct bench_worker *w, int64_t now);

/*
 * The event loop every mode runs until t_end: io(run, index, events) for each
 * ready socket (epoll data.u32 is its index), scan(run, now) every scan_ns.
 */
typedef void bench_io_cb(void *run, int index, uint32_t events);
typedef void bench_scan_cb(void *run, int64_t now);
void bench_run_window(int ep, int64_t t_end, int64_t scan_ns, bench_io_cb *io,
    bench_scan_cb *scan, void *run);

/* bench-pattern: the deterministic byte stream every connection sends. */
void pattern_init(void);
uint64_t pattern_base(uint64_t conn);
const unsigned char *pattern_at(uint64_t base, uint64_t off);
bool pattern_match(uint64_t base, uint64_t off, const void *buf, size_t len);

/* bench-hist */
void hist_add(struct hist *h, int64_t ns);
void hist_merge(struct hist *dst, const struct hist *src);
double hist_percentile_us(const struct hist *h, double q);
double hist_mean_us(const struct hist *h);

/* bench-net: sockets to the server under test. */
int net_raise_nofile(void);
int net_resolve(struct bench_opts *o);
int net_socket(const struct bench_opts *o, int type, uint64_t n);
int net_connect_all(const struct bench_opts *o, int *fds, int n, struct bench_stats *st);
void net_close_all(int *fds, int n);

/* The modes; each runs one worker until w->t_end and returns 0, or -1 on setup failure. */
int tcp_pingpong_run(struct bench_worker *w);
int tcp_stream_run(struct bench_worker *w);
int udp_pingpong_run(struct bench_worker *w);
int tcp_connect_run(struct bench_worker *w);
int idle_run(struct bench_worker *w);
int idle_prove(struct bench_worker *w);
int floor_run(struct bench_worker *w);
int floor_batch_run(struct bench_worker *w);

/* bench-proc: what /proc says about the server process tree. */
struct proc_snap {
	bool ok;
	int64_t when;		/* bench_now() at the snapshot */
	uint64_t cpu_ns;	/* CPU time of the tree, reaped children included */
	long rss_kb;		/* VmRSS summed over the tree */
	long anon_kb;		/* RssAnon summed over the tree */
	int fds;		/* open descriptors of the root process */
	int procs;		/* processes in the tree */
};

int proc_snap(pid_t pid, struct proc_snap *s);
int proc_fds(pid_t pid);

/* bench-report: the human and the JSON forms of one run. */
struct bench_result {
	const struct bench_opts *o;
	struct bench_stats st;
	double window_s;
	int conns_up;		/* connections established (idle, pingpong, stream) */
	struct proc_snap before;	/* before any connection */
	struct proc_snap start;		/* window opens (idle: connections held) */
	struct proc_snap end;		/* window closes */
	int fds_after;		/* root's descriptors after every connection closed */
};

uint64_t report_errors(const struct bench_stats *st, const struct bench_result *r);
void report_print(const struct bench_result *r);
void report_json(const struct bench_result *r);
const char *bench_mode_name(enum bench_mode m);

#endif
