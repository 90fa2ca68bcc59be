/* SPDX-License-Identifier: MIT */
/*
 * status: what `echodctl status` prints, from plain data: the process, the
 * configuration, the reloads and every listener, as aligned text (one
 * report line each) or as one JSON object with the same fields.
 */
#ifndef ECHOD_STATUS_H
#define ECHOD_STATUS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "report.h"
#include "status_rows.h"

struct status_info {
	const char *version;
	long pid;
	uint64_t uptime_seconds;
	uint64_t workers;
	uint64_t connections_open;	/* stream connections, every listener */
	const char *configuration;	/* the main file, an absolute path */
	char *const *files;		/* every file read (absolute), files[0] the main one */
	size_t nfiles;
	time_t loaded_at;		/* 0: unknown */
	uint64_t reloads_ok, reloads_failed;
	const struct report *last_reload;	/* its lines; count 0: no reload yet */
	time_t last_reload_at;
	const struct status_rows *listeners;	/* open ones, then those that failed */
};

/* "key: value" lines, the last reload's lines indented, the listeners in columns. */
void	status_format_text(const struct status_info *st, struct report *out);
/* One line: the same fields as one JSON object (echodctl(8) lists them). */
void	status_format_json(const struct status_info *st, struct report *out);

#endif
