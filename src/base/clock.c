/* SPDX-License-Identifier: MIT */
/* clock: the monotonic clock in milliseconds, the one time base of timeouts and uptimes. */
#include <time.h>

#include "clock.h"

uint64_t
clock_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
