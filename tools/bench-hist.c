/* SPDX-License-Identifier: MIT */
/* Latency histogram: log-linear buckets, 1.6 % resolution from 1 ns to 18 minutes. */
#include "bench.h"

/*
 * Values below 128 ns have one bucket each; above, each power of two [2^k, 2^(k+1)) is cut
 * into 64 equal buckets. Fixed size, no allocation, and merging threads is an addition.
 */
#define HIST_MAX	((INT64_C(1) << 40) - 1)

static unsigned
hist_index(int64_t ns)
{
	uint64_t v = ns < 0 ? 0 : ns > HIST_MAX ? HIST_MAX : (uint64_t)ns;
	unsigned e;

	if (v < 128)
		return (unsigned)v;
	e = 63 - (unsigned)__builtin_clzll(v) - 6;
	return e * 64 + (unsigned)(v >> e);
}

/* Middle of the bucket, in nanoseconds. */
static double
hist_value(unsigned idx)
{
	unsigned e;

	if (idx < 128)
		return idx;
	e = idx / 64 - 1;
	return (double)((uint64_t)(idx % 64 + 64) << e) + (double)((uint64_t)1 << e) / 2;
}

void
hist_add(struct hist *h, int64_t ns)
{
	h->bucket[hist_index(ns)]++;
	h->count++;
	h->sum_ns += ns > 0 ? (uint64_t)ns : 0;
}

void
hist_merge(struct hist *dst, const struct hist *src)
{
	unsigned i;

	for (i = 0; i < HIST_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
	dst->count += src->count;
	dst->sum_ns += src->sum_ns;
}

double
hist_mean_us(const struct hist *h)
{
	return h->count > 0 ? (double)h->sum_ns / (double)h->count / 1000 : 0;
}

/* The q-quantile (0 < q <= 1) in microseconds; 0 when empty. */
double
hist_percentile_us(const struct hist *h, double q)
{
	uint64_t rank, seen = 0;
	unsigned i;

	if (h->count == 0)
		return 0;
	rank = (uint64_t)(q * (double)h->count);
	if (rank >= h->count)
		rank = h->count - 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen > rank)
			return hist_value(i) / 1000;
	}
	return hist_value(HIST_BUCKETS - 1) / 1000;
}
