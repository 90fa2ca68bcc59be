/* SPDX-License-Identifier: MIT */
/* Fixed-bucket histograms (Prometheus' le buckets, 25 us to 10 s) and the recent window. */
#ifndef ECHOD_PROBE_HIST_H
#define ECHOD_PROBE_HIST_H

#include <stdint.h>

/* The upper bounds, in seconds; one more bucket, +Inf, holds the rest. */
#define PROBE_BUCKETS	18
extern const double probe_bucket_le[PROBE_BUCKETS];

struct probe_hist {
	unsigned long long bucket[PROBE_BUCKETS + 1];	/* not cumulative; last: +Inf */
	unsigned long long count;
	double sum, min, max, last;			/* seconds */
};

/* Count v seconds (a negative v, clocks apart, counts as 0). */
void	probe_hist_add(struct probe_hist *h, double v);
/* The bucket v falls in: the first whose bound is >= v, PROBE_BUCKETS for +Inf. */
int	probe_hist_bucket(double v);
/* Cumulative count of bucket i (0 .. PROBE_BUCKETS), as Prometheus exposes them. */
unsigned long long probe_hist_cumulative(const struct probe_hist *h, int i);

/* The recent round trips: the last PROBE_RECENT samples with their times. */
#define PROBE_RECENT	512
#define PROBE_RECENT_S	60.0
struct probe_recent {
	double at[PROBE_RECENT], v[PROBE_RECENT];
	unsigned n, head;			/* head: the next slot written */
};

void	probe_recent_add(struct probe_recent *r, double at, double v);
/* The p-th percentile (nearest rank) of the samples at or after now - PROBE_RECENT_S; -1
 * when there are none. */
double	probe_recent_percentile(const struct probe_recent *r, double now, double p);

#endif
