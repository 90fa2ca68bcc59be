/* SPDX-License-Identifier: MIT */
/* Probe accounting and round-trip statistics, printed as text or as one JSON object. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "client-io.h"
#include "client-stats.h"

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
	/* ...but a percentile needs them all. Out of memory, p99 covers the samples kept. */
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

unsigned long
stats_lost(const struct stats *st)
{
	unsigned long answered = st->received + st->mismatched;

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

double
stats_percentile(const struct stats *st, double p)
{
	double *v, r;
	size_t rank;

	if (st->nrtt == 0)
		return 0.0;
	v = malloc(st->nrtt * sizeof(*v));
	if (v == NULL)
		return st->max;
	memcpy(v, st->rtt, st->nrtt * sizeof(*v));
	qsort(v, st->nrtt, sizeof(*v), stats_cmp);
	rank = (size_t)ceil(p / 100.0 * (double)st->nrtt);
	r = v[rank > 0 ? rank - 1 : 0];
	free(v);
	return r;
}

double
stats_mdev(const struct stats *st)
{
	return st->n ? sqrt(st->m2 / (double)st->n) : 0.0;
}

void
stats_print(const struct stats *st, const struct stats_info *info, FILE *f)
{
	fprintf(f, "--- %s %s echo statistics ---\n", info->peer, info->proto);
	fprintf(f, "%lu sent, %lu received, %lu mismatched, %lu lost (%.1f%% loss)",
	    st->sent, st->received, st->mismatched, stats_lost(st), stats_loss(st));
	if (st->late)
		fprintf(f, ", %lu late", st->late);
	if (st->duplicates)
		fprintf(f, ", %lu duplicates", st->duplicates);
	if (st->unexpected)
		fprintf(f, ", %lu unexpected", st->unexpected);
	fprintf(f, ", time %.0f ms\n", (io_now() - st->started) * 1000.0);
	if (st->n > 0)
		fprintf(f, "rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms, p99 = %.3f ms\n",
		    st->min, st->mean, st->max, stats_mdev(st), stats_percentile(st, 99.0));
}

/* A JSON string: quotes, backslashes and control characters escaped (unix paths may hold
 * anything but NUL). */
static void
stats_json_string(const char *s, FILE *f)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void
stats_print_json(const struct stats *st, const struct stats_info *info, FILE *f)
{
	fputs("{\"peer\":", f);
	stats_json_string(info->peer, f);
	fprintf(f, ",\"protocol\":\"%s\",\"size\":%zu", info->proto, info->size);
	fprintf(f, ",\"sent\":%lu,\"received\":%lu,\"mismatched\":%lu,\"lost\":%lu",
	    st->sent, st->received, st->mismatched, stats_lost(st));
	fprintf(f, ",\"late\":%lu,\"duplicates\":%lu,\"unexpected\":%lu",
	    st->late, st->duplicates, st->unexpected);
	fprintf(f, ",\"loss_percent\":%.3f,\"time_ms\":%.3f", stats_loss(st),
	    (io_now() - st->started) * 1000.0);
	if (st->n == 0) {
		fputs(",\"rtt_ms\":null}\n", f);
		return;
	}
	fprintf(f, ",\"rtt_ms\":{\"min\":%.6f,\"avg\":%.6f,\"max\":%.6f,\"mdev\":%.6f,"
	    "\"p99\":%.6f}}\n", st->min, st->mean, st->max, stats_mdev(st),
	    stats_percentile(st, 99.0));
}
