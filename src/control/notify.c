/* SPDX-License-Identifier: MIT */
/* notify: tells the service manager about readiness, reloads, shutdown and status (sd_notify). */
#include <stdio.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "notify.h"

void
notify_ready(void)
{
	sd_notify(0, "READY=1");
}

/* MONOTONIC_USEC lets systemd match this RELOADING=1 to the reload it asked for. */
void
notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
}

void
notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

void
notify_status(const char *status)
{
	sd_notifyf(0, "STATUS=%s", status);
}

void
notify_watchdog(void)
{
	sd_notify(0, "WATCHDOG=1");
}

uint64_t
notify_watchdog_interval_ms(void)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec / 2000;
}
