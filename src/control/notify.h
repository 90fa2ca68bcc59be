/* SPDX-License-Identifier: MIT */
/* notify: tells the service manager about readiness, reloads, shutdown and status (sd_notify). */
#ifndef ECHOD_NOTIFY_H
#define ECHOD_NOTIFY_H

#include <stdint.h>

/* All are no-ops when not started by a service manager (no NOTIFY_SOCKET). */
void	notify_ready(void);
void	notify_reloading(void);
void	notify_stopping(void);
void	notify_status(const char *status);
void	notify_watchdog(void);

/* Watchdog ping interval in ms (half of WATCHDOG_USEC), or 0 when not asked for. */
uint64_t notify_watchdog_interval_ms(void);

#endif
