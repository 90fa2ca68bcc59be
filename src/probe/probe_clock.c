/* SPDX-License-Identifier: MIT */
/*
 * probe_clock: the engine's time, monotonic seconds. A file of its own: the
 * engine and its targets both read it, and neither calls the other for it.
 */
#include <time.h>

#include "probe.h"

double
probe_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
