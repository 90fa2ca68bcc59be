/* SPDX-License-Identifier: MIT */
/* report: the lines a reload or a status request answers with (control socket, journal). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "report.h"

static void
report_push(struct report *r, char *line)
{
	char **grown;

	if (line == NULL)
		return;
	grown = realloc(r->lines, (r->count + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(line);
		return;
	}
	r->lines = grown;
	r->lines[r->count++] = line;
}

static void
report_vadd(struct report *r, const char *fmt, va_list ap)
{
	char *line;

	if (vasprintf(&line, fmt, ap) == -1)
		line = NULL;
	report_push(r, line);
}

void
report_add(struct report *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_vadd(r, fmt, ap);
	va_end(ap);
}

void
report_fail(struct report *r, const char *fmt, ...)
{
	va_list ap;

	r->failed = true;
	va_start(ap, fmt);
	report_vadd(r, fmt, ap);
	va_end(ap);
}

void
report_append(struct report *dst, const struct report *src, const char *indent)
{
	for (size_t i = 0; i < src->count; i++)
		report_add(dst, "%s%s", indent, src->lines[i]);
	dst->failed = dst->failed || src->failed;
}

void
report_clear(struct report *r)
{
	for (size_t i = 0; i < r->count; i++)
		free(r->lines[i]);
	free(r->lines);
	r->lines = NULL;
	r->count = 0;
	r->failed = false;
}
