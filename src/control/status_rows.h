/* SPDX-License-Identifier: MIT */
/*
 * status_rows: one row per listener for `echodctl status` (name, origin,
 * where configured, state), filled by apply.c, formatted by status.c.
 */
#ifndef ECHOD_STATUS_ROWS_H
#define ECHOD_STATUS_ROWS_H

#include <stdbool.h>
#include <stddef.h>

struct status_row {
	char *name;		/* "tcp 127.0.0.1:7", as echod prints it */
	char *origin;		/* "bound by echod", "passed by systemd (echo)"; NULL: not open */
	char *where;		/* "file:line[, file:line]"; NULL: none */
	char *state;		/* "serving", "not open: REASON", ... */
};

struct status_rows {
	struct status_row *items;
	size_t count;
};

/* Append a row (copies of the strings; NULL stays NULL). Out of memory loses the row. */
void	status_rows_add(struct status_rows *r, const char *name, const char *origin,
	    const char *where, const char *state);
/* Append every row of src to dst. */
void	status_rows_append(struct status_rows *dst, const struct status_rows *src);
void	status_rows_clear(struct status_rows *r);

#endif
