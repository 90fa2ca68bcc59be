/* SPDX-License-Identifier: MIT */
/* report: the lines a reload or a status request answers with (control socket, journal). */
#ifndef ECHOD_REPORT_H
#define ECHOD_REPORT_H

#include <stdbool.h>
#include <stddef.h>

struct report {
	char **lines;
	size_t count;
	bool failed;			/* something did not apply */
};

/* Append one line (no newline). Out of memory loses the line, never the report. */
void	report_add(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same, and the report is a failure. */
void	report_fail(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append every line of src (indented by indent) to dst; failure carries over. */
void	report_append(struct report *dst, const struct report *src, const char *indent);
void	report_clear(struct report *r);

#endif
