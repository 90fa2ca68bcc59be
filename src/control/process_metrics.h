/* SPDX-License-Identifier: MIT */
/* process_metrics: the standard process_* metrics of Prometheus' client libraries, from /proc. */
#ifndef ECHOD_PROCESS_METRICS_H
#define ECHOD_PROCESS_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/*
 * What client_golang's process collector reports, read the same way: each
 * value with a flag saying it could be read (a value that could not is left
 * out of the exposition, as the client libraries do).
 */
struct process_metrics {
	bool	have_stat;		/* /proc/self/stat and /proc/stat's btime read */
	double	start_time_seconds;	/* btime + starttime / CLK_TCK */
	double	cpu_seconds;		/* (utime + stime) / CLK_TCK */
	uint64_t virtual_bytes;		/* vsize */
	uint64_t resident_bytes;	/* rss * page size */
	bool	have_fds;
	uint64_t open_fds;		/* entries of /proc/self/fd */
	bool	have_max_fds;
	uint64_t max_fds;		/* RLIMIT_NOFILE, soft */
};

/* Reads the calling process's values; what cannot be read has its flag false. */
void	process_metrics_read(struct process_metrics *pm);

/* The process_* families of pm (those read), with HELP and TYPE, in either format. */
void	process_metrics_render(const struct process_metrics *pm, bool openmetrics, FILE *out);

#endif
