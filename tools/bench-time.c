/* SPDX-License-Identifier: MIT */
/* The one clock echod-bench measures with, and the measurement window test. */
#include <sys/epoll.h>
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

void
bench_run_window(int ep, int64_t t_end, int64_t scan_ns, bench_io_cb *io, bench_scan_cb *scan,
    void *run)
{
	int64_t now, next_scan = bench_now() + scan_ns, wait;
	struct epoll_event evs[128];
	int i, k;

	while ((now = bench_now()) < t_end) {
		wait = (next_scan < t_end ? next_scan : t_end) - now;
		k = epoll_wait(ep, evs, 128, wait > 0 ? (int)(wait / 1000000) + 1 : 0);
		for (i = 0; i < k; i++)
			io(run, (int)evs[i].data.u32, evs[i].events);
		now = bench_now();
		if (now >= next_scan) {
			scan(run, now);
			next_scan = now + scan_ns;
		}
	}
}
