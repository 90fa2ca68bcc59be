/* SPDX-License-Identifier: MIT */
/* clock: the monotonic clock in milliseconds, the one time base of timeouts and uptimes. */
#ifndef ECHOD_CLOCK_H
#define ECHOD_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in ms: never jumps with the wall clock (NTP, date -s). */
uint64_t clock_monotonic_ms(void);

#endif
