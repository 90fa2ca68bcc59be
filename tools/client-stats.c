/* SPDX-License-Identifier: MIT */
/* Probe accounting and round-trip statistics, printed as text or as one JSON object. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "client-io.h"
#include "client-stats.h"
#include "jsonout.h"

/* Histogram buckets: powers of two of microseconds, from 1 us to about 2200 s. */
#define STATS_BUCKETS	32
#define STATS_BAR	40

void
stats_init(struct stats *st)
{
	memset(st, 0, sizeof(*st));
	st->started = io_now();
}

void
stats_free(struct stats *st)
{
	free(st->rtt);
	st->rtt = NULL;
	st->nrtt = st->cap = 0;
}

void
stats_add(struct stats *st, double ms)
{
	double delta, *p;
	size_t cap;

	/* Welford's update keeps mean and variance exact without storing samples... */
	st->n++;
	delta = ms - st->mean;
	st->mean += delta / (double)st->n;
	st->m2 += delta * (ms - st->mean);
	if (st->n == 1 || ms < st->min)
		st->min = ms;
	if (st->n == 1 || ms > st->max)
		st->max = ms;
	/* ...but a percentile needs them all. Out of memory, they cover the samples kept. */
	if (st->nrtt == st->cap) {
		cap = st->cap ? st->cap * 2 : 64;
		p = realloc(st->rtt, cap * sizeof(*p));
		if (p == NULL)
			return;
		st->rtt = p;
		st->cap = cap;
	}
	st->rtt[st->nrtt++] = ms;
}

void
stats_jitter(struct stats *st, double ms)
{
	/* RFC 3550 6.4.1: J += (|D(i-1,i)| - J) / 16, D the difference of the two transit
	 * times; with the send times' difference taken out, that is the rtt difference. */
	if (st->jitter_started)
		st->jitter += (fabs(ms - st->jitter_prev) - st->jitter) / 16.0;
	st->jitter_prev = ms;
	st->jitter_started = true;
}

void
stats_ipdv(struct stats *st, double ms_a, double ms_b)
{
	double d = fabs(ms_b - ms_a);

	st->ipdv_sum += d;
	if (st->ipdv_n == 0 || d > st->ipdv_max)
		st->ipdv_max = d;
	st->ipdv_n++;
}

unsigned long
stats_lost(const struct stats *st)
{
	unsigned long answered = st->received + st->mismatched + st->late;

	return st->sent > answered ? st->sent - answered : 0;
}

double
stats_loss(const struct stats *st)
{
	return st->sent ? 100.0 * (double)stats_lost(st) / (double)st->sent : 0.0;
}

static int
stats_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest rank in sorted v[0..n). */
static double
stats_rank(const double *v, size_t n, double p)
{
	size_t rank = (size_t)ceil(p / 100.0 * (double)n - 1e-9);

	return v[rank > 0 ? rank - 1 : 0];
}

/* The samples sorted, in a new array (NULL without samples or memory). */
static double *
stats_sorted(const struct stats *st)
{
	double *v;

	if (st->nrtt == 0)
		return NULL;
	v = malloc(st->nrtt * sizeof(*v));
	if (v == NULL)
		return NULL;
	memcpy(v, st->rtt, st->nrtt * sizeof(*v));
	qsort(v, st->nrtt, sizeof(*v), stats_cmp);
	return v;
}

double
stats_percentile(const struct stats *st, double p)
{
	double *v = stats_sorted(st), r;

	if (v == NULL)
		return st->nrtt ? st->max : 0.0;
	r = stats_rank(v, st->nrtt, p);
	free(v);
	return r;
}

double
stats_mdev(const struct stats *st)
{
	return st->n ? sqrt(st->m2 / (double)st->n) : 0.0;
}

const char *
stats_clock(const struct stats *st)
{
	if (st->kernel_clock == 0)
		return "user";
	return st->kernel_clock == st->n ? "kernel" : "mixed";
}

static double
stats_time_ms(const struct stats *st)
{
	return ((st->ended > 0 ? st->ended : io_now()) - st->started) * 1000.0;
}

/* Percentiles reported: p50, p90, p99, p99.9. */
static void
stats_pcts(const struct stats *st, double out[4])
{
	static const double which[4] = { 50, 90, 99, 99.9 };
	double *v = stats_sorted(st);

	for (int i = 0; i < 4; i++)
		out[i] = v != NULL ? stats_rank(v, st->nrtt, which[i]) : st->max;
	free(v);
}

static void
stats_print_rates(const struct stats *st, FILE *f)
{
	double s = st->seconds > 0 ? st->seconds : 1e-9;

	fprintf(f, "throughput: sent %.3f Mbit/s, echoed %.3f Mbit/s over %.3f s "
	    "(%llu bytes sent, %llu echoed)\n", (double)st->bytes_sent * 8 / s / 1e6,
	    (double)st->bytes_echoed * 8 / s / 1e6, st->seconds, st->bytes_sent,
	    st->bytes_echoed);
}

void
stats_print(const struct stats *st, const struct stats_info *info, FILE *f)
{
	double p[4];

	fprintf(f, "--- %s %s echo statistics ---\n", info->peer, info->proto);
	fprintf(f, "%lu sent, %lu received, %lu mismatched, %lu lost (%.1f%% loss)",
	    st->sent, st->received, st->mismatched, stats_lost(st), stats_loss(st));
	if (st->in_flight)
		fprintf(f, ", %lu in flight at exit", st->in_flight);
	if (st->late)
		fprintf(f, ", %lu late", st->late);
	if (st->duplicates)
		fprintf(f, ", %lu duplicates", st->duplicates);
	if (st->reordered)
		fprintf(f, ", %lu reordered", st->reordered);
	if (st->unexpected)
		fprintf(f, ", %lu unexpected", st->unexpected);
	if (st->errors)
		fprintf(f, ", +%lu errors", st->errors);
	fprintf(f, ", time %.0f ms\n", stats_time_ms(st));
	if (st->n > 0) {
		stats_pcts(st, p);
		fprintf(f, "rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms, "
		    "p50/p90/p99/p99.9 = %.3f/%.3f/%.3f/%.3f ms\n", st->min, st->mean, st->max,
		    stats_mdev(st), p[0], p[1], p[2], p[3]);
		fprintf(f, "jitter %.3f ms, ipdv %.3f ms (max %.3f), clock %s\n", st->jitter,
		    st->ipdv_n ? st->ipdv_sum / (double)st->ipdv_n : 0.0, st->ipdv_max,
		    stats_clock(st));
	}
	if (st->path_mtu > 0)
		fprintf(f, "path mtu %d\n", st->path_mtu);
	if (info->more != NULL)
		info->more(info->more_arg, false, f);
	if (info->throughput)
		stats_print_rates(st, f);
	if (info->histogram)
		stats_print_histogram(st, f);
}

static int
stats_bucket(double ms)
{
	double us = ms * 1000.0;
	int b = us < 1.0 ? 0 : (int)floor(log2(us));

	return b < STATS_BUCKETS ? b : STATS_BUCKETS - 1;
}

void
stats_print_histogram(const struct stats *st, FILE *f)
{
	unsigned long count[STATS_BUCKETS] = { 0 }, most = 0;
	int lo = STATS_BUCKETS, hi = -1, b, bar;

	for (size_t i = 0; i < st->nrtt; i++) {
		b = stats_bucket(st->rtt[i]);
		count[b]++;
		lo = b < lo ? b : lo;
		hi = b > hi ? b : hi;
	}
	if (hi < 0)
		return;
	for (b = lo; b <= hi; b++)
		most = count[b] > most ? count[b] : most;
	fprintf(f, "rtt histogram (ms, log scale):\n");
	for (b = lo; b <= hi; b++) {
		bar = (int)((count[b] * STATS_BAR + most - 1) / most);
		fprintf(f, "%10.3f - %10.3f |%-*.*s| %lu\n", ldexp(1.0, b) / 1000.0,
		    ldexp(1.0, b + 1) / 1000.0, STATS_BAR, bar,
		    "########################################", count[b]);
	}
}

/* min/avg/max/mdev and the percentiles, jitter and IPDV; null when nothing came back. */
static void
stats_json_rtt(const struct stats *st, json_t *obj)
{
	json_t *rtt;
	double p[4];

	if (st->n == 0) {
		jsonout_set(obj, "rtt_ms", json_null());
		jsonout_set(obj, "jitter_ms", json_null());
		jsonout_set(obj, "ipdv_ms", json_null());
		return;
	}
	stats_pcts(st, p);
	rtt = json_object();
	if (rtt != NULL) {
		jsonout_set(rtt, "min", jsonout_real(st->min, 6));
		jsonout_set(rtt, "avg", jsonout_real(st->mean, 6));
		jsonout_set(rtt, "max", jsonout_real(st->max, 6));
		jsonout_set(rtt, "mdev", jsonout_real(stats_mdev(st), 6));
		jsonout_set(rtt, "p50", jsonout_real(p[0], 6));
		jsonout_set(rtt, "p90", jsonout_real(p[1], 6));
		jsonout_set(rtt, "p99", jsonout_real(p[2], 6));
		jsonout_set(rtt, "p99_9", jsonout_real(p[3], 6));
	}
	jsonout_set(obj, "rtt_ms", rtt);
	jsonout_set(obj, "jitter_ms", jsonout_real(st->jitter, 6));
	if (st->ipdv_n > 0)
		jsonout_set(obj, "ipdv_ms", json_pack("{s:o,s:o}",
		    "mean", jsonout_real(st->ipdv_sum / (double)st->ipdv_n, 6),
		    "max", jsonout_real(st->ipdv_max, 6)));
	else
		jsonout_set(obj, "ipdv_ms", json_null());
}

/* -b, --stream: bytes and bit rates (whole bits per second, integers as before). */
static json_t *
stats_json_throughput(const struct stats *st)
{
	double s = st->seconds > 0 ? st->seconds : 1e-9;

	return json_pack("{s:o,s:I,s:I,s:I,s:I}", "seconds", jsonout_real(st->seconds, 6),
	    "bytes_sent", (json_int_t)st->bytes_sent, "bytes_echoed", (json_int_t)st->bytes_echoed,
	    "sent_bps", (json_int_t)llround((double)st->bytes_sent * 8 / s),
	    "echoed_bps", (json_int_t)llround((double)st->bytes_echoed * 8 / s));
}

void
stats_print_json(const struct stats *st, const struct stats_info *info, FILE *f)
{
	json_t *obj = json_object();

	if (obj == NULL)
		return;
	jsonout_set(obj, "type", json_string("summary"));
	jsonout_set(obj, "schema", json_integer(STATS_SCHEMA));
	jsonout_set(obj, "peer", jsonout_string(info->peer));
	jsonout_set(obj, "protocol", jsonout_string(info->proto));
	jsonout_set(obj, "size", jsonout_uint(info->size));
	jsonout_set(obj, "sent", jsonout_uint(st->sent));
	jsonout_set(obj, "received", jsonout_uint(st->received));
	jsonout_set(obj, "mismatched", jsonout_uint(st->mismatched));
	jsonout_set(obj, "lost", jsonout_uint(stats_lost(st)));
	jsonout_set(obj, "late", jsonout_uint(st->late));
	jsonout_set(obj, "duplicates", jsonout_uint(st->duplicates));
	jsonout_set(obj, "reordered", jsonout_uint(st->reordered));
	jsonout_set(obj, "unexpected", jsonout_uint(st->unexpected));
	jsonout_set(obj, "errors", jsonout_uint(st->errors));
	jsonout_set(obj, "in_flight_at_exit", jsonout_uint(st->in_flight));
	jsonout_set(obj, "loss_percent", jsonout_real(stats_loss(st), 3));
	jsonout_set(obj, "time_ms", jsonout_real(stats_time_ms(st), 3));
	jsonout_set(obj, "clock", jsonout_string(stats_clock(st)));
	stats_json_rtt(st, obj);
	jsonout_set(obj, "reason", jsonout_string(st->reason[0] != '\0' ? st->reason : NULL));
	if (st->path_mtu > 0)
		jsonout_set(obj, "path_mtu", json_integer(st->path_mtu));
	if (info->throughput)
		jsonout_set(obj, "throughput", stats_json_throughput(st));
	if (info->more != NULL)
		info->more(info->more_arg, obj, f);
	jsonout_line(obj, f);
}
