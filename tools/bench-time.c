/* SPDX-License-Identifier: MIT */
/* The one clock echod-bench measures with, and the measurement window test. */
#include "config.h"

#include <time.h>

#include "bench.h"

int64_t
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Operations completing during warm-up or after the end are done but not counted. */
bool
bench_in_window(const struct bench_worker *w, int64_t now)
{
	return now >= w->t_measure && now < w->t_end;
}
