/* SPDX-License-Identifier: MIT */
/* Probe accounting and round-trip statistics, printed as text or as one JSON object. */
#ifndef ECHOD_CLIENT_STATS_H
#define ECHOD_CLIENT_STATS_H

#include <stddef.h>
#include <stdio.h>

struct stats {
	unsigned long sent;		/* probes (or lines) sent */
	unsigned long received;		/* echoed byte for byte in time */
	unsigned long mismatched;	/* answered, but with different bytes */
	unsigned long late;		/* exact echoes that came after their timeout */
	unsigned long duplicates;	/* exact echoes of an already answered probe */
	unsigned long unexpected;	/* replies that match no probe sent */
	double started;			/* io_now() at the start, for the run time */
	unsigned long n;		/* round trips measured */
	double min, max, mean, m2;	/* running values (Welford), exact over all n */
	double *rtt;			/* the samples in ms, for percentiles; nrtt <= n */
	size_t nrtt, cap;
};

/* Labels for the summary: who was probed, and how. */
struct stats_info {
	const char *peer;	/* "127.0.0.1:7" */
	const char *proto;	/* "tcp", "udp" or "unix" */
	size_t size;		/* payload bytes */
};

void stats_init(struct stats *st);
void stats_free(struct stats *st);

/* Record one round trip of ms milliseconds. */
void stats_add(struct stats *st, double ms);

/* Probes that got no answer in time: sent - received - mismatched. Late ones are lost too. */
unsigned long stats_lost(const struct stats *st);

/* Percent of probes lost, 0 when none was sent. */
double stats_loss(const struct stats *st);

/* The p-th percentile (0 < p <= 100) by nearest rank, 0 without samples. */
double stats_percentile(const struct stats *st, double p);

/* Population standard deviation, what ping calls mdev. */
double stats_mdev(const struct stats *st);

/* The ping-like summary: a header line, the counts, and the rtt line when there are samples. */
void stats_print(const struct stats *st, const struct stats_info *info, FILE *f);

/* The same summary as one JSON object on one line. */
void stats_print_json(const struct stats *st, const struct stats_info *info, FILE *f);

#endif
