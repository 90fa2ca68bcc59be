/* SPDX-License-Identifier: MIT */
/* Fixed-bucket histograms and the percentiles of the last minute. */
#include <math.h>
#include <stdlib.h>

#include "probe_hist.h"

/* 1-2.5-5 steps from 25 us to 10 s: loopback to a satellite link, as Prometheus buckets go. */
const double probe_bucket_le[PROBE_BUCKETS] = {
	25e-6, 50e-6, 100e-6, 250e-6, 500e-6,
	1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3,
	1.0, 2.5, 5.0, 10.0,
};

int
probe_hist_bucket(double v)
{
	int i;

	/* le: a value equal to a bound belongs to that bound's bucket. */
	for (i = 0; i < PROBE_BUCKETS; i++)
		if (v <= probe_bucket_le[i])
			return i;
	return PROBE_BUCKETS;
}

void
probe_hist_add(struct probe_hist *h, double v)
{
	if (v < 0 || isnan(v))
		v = 0;
	h->bucket[probe_hist_bucket(v)]++;
	if (h->count == 0 || v < h->min)
		h->min = v;
	if (h->count == 0 || v > h->max)
		h->max = v;
	h->count++;
	h->sum += v;
	h->last = v;
}

unsigned long long
probe_hist_cumulative(const struct probe_hist *h, int i)
{
	unsigned long long n = 0;
	int j;

	for (j = 0; j <= i && j <= PROBE_BUCKETS; j++)
		n += h->bucket[j];
	return n;
}

void
probe_recent_add(struct probe_recent *r, double at, double v)
{
	r->at[r->head] = at;
	r->v[r->head] = v;
	r->head = (r->head + 1) % PROBE_RECENT;
	if (r->n < PROBE_RECENT)
		r->n++;
}

static int
probe_recent_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double
probe_recent_percentile(const struct probe_recent *r, double now, double p)
{
	double v[PROBE_RECENT];
	unsigned i, n = 0;
	size_t rank;

	for (i = 0; i < r->n; i++)
		if (r->at[i] >= now - PROBE_RECENT_S)
			v[n++] = r->v[i];
	if (n == 0)
		return -1;
	qsort(v, n, sizeof(v[0]), probe_recent_cmp);
	/* Nearest rank, as echo-client's percentiles: ceil(p/100 * n), from 1. */
	rank = (size_t)ceil(p / 100.0 * n);
	if (rank < 1)
		rank = 1;
	return v[rank - 1];
}
