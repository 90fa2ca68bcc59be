/* SPDX-License-Identifier: MIT */
/* Probe accounting and round-trip statistics, printed as text or as one JSON object. */
#ifndef ECHOD_CLIENT_STATS_H
#define ECHOD_CLIENT_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* jansson's object type, named without jansson.h (tests have a JSON_OBJECT of their own). */
struct json_t;

/* The schema version of the --json summary (and probe) objects; see echo-client(1). */
#define STATS_SCHEMA	1

struct stats {
	unsigned long sent;		/* probes (or lines) sent */
	unsigned long received;		/* echoed byte for byte in time */
	unsigned long mismatched;	/* answered, but with different bytes */
	unsigned long late;		/* exact echoes that came after their timeout */
	unsigned long duplicates;	/* exact echoes of an already answered probe */
	unsigned long unexpected;	/* replies that match no probe sent */
	unsigned long reordered;	/* RFC 4737: arrived after a probe sent later */
	unsigned long errors;		/* probes answered by an ICMP or local error */
	unsigned long in_flight;	/* of the lost: still within -W when the run was cut
					 * short (interrupted, or -w's deadline), as ping counts */
	double started;			/* io_now() at the start, for the run time */
	double ended;			/* io_now() at the end; 0 while running */
	unsigned long n;		/* round trips measured */
	double min, max, mean, m2;	/* running values (Welford), exact over all n */
	double *rtt;			/* the samples in ms, for percentiles; nrtt <= n */
	size_t nrtt, cap;
	/* RFC 3550 interarrival jitter over replies in arrival order, in ms. */
	double jitter, jitter_prev;
	bool jitter_started;
	/* IPDV (RFC 5481): |rtt(seq) - rtt(seq - 1)| over consecutive probes both answered. */
	double ipdv_sum, ipdv_max;
	unsigned long ipdv_n;
	unsigned long kernel_clock;	/* samples timed by kernel receive timestamps */
	char reason[128];		/* why probes failed, for a run with failures */
	int path_mtu;			/* -M: the path MTU at the end; 0 unknown */
	/* Throughput (-b, --stream): payload bytes out and verified back, over seconds. */
	unsigned long long bytes_sent, bytes_echoed;
	double seconds;
};

/* Labels for the summary: who was probed, and how. */
struct stats_info {
	const char *peer;	/* "127.0.0.1:7" */
	const char *proto;	/* "tcp", "udp" or "unix" */
	size_t size;		/* payload bytes */
	bool histogram;		/* print the histogram after the summary (text only) */
	bool throughput;	/* print the bit rates (-b, --stream) */
	/* More for the summary (--stamp): members of the JSON object json, else text on f. */
	void (*more)(const void *arg, struct json_t *json, FILE *f);
	const void *more_arg;
};

void stats_init(struct stats *st);
void stats_free(struct stats *st);

/* Record one round trip of ms milliseconds. */
void stats_add(struct stats *st, double ms);

/* Feed the jitter estimator a reply's round trip, in arrival order. */
void stats_jitter(struct stats *st, double ms);

/* Record one IPDV sample: the round trips of two consecutive sequence numbers. */
void stats_ipdv(struct stats *st, double ms_a, double ms_b);

/* Probes that got no answer at all: sent - received - mismatched - late. */
unsigned long stats_lost(const struct stats *st);

/* Percent of probes lost, 0 when none was sent. */
double stats_loss(const struct stats *st);

/* The p-th percentile (0 < p <= 100) by nearest rank, 0 without samples. */
double stats_percentile(const struct stats *st, double p);

/* Population standard deviation, what ping calls mdev. */
double stats_mdev(const struct stats *st);

/* "kernel", "user" or "mixed": which clock timed the samples. */
const char *stats_clock(const struct stats *st);

/* The ping-like summary: a header line, the counts, and the rtt lines when there are
 * samples, then the histogram when info asks for it. */
void stats_print(const struct stats *st, const struct stats_info *info, FILE *f);

/* The log-scale round-trip histogram: one line per power of two between min and max. */
void stats_print_histogram(const struct stats *st, FILE *f);

/* The same summary as one JSON object on one line ("type":"summary", "schema":1). */
void stats_print_json(const struct stats *st, const struct stats_info *info, FILE *f);

#endif
