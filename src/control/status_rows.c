/* SPDX-License-Identifier: MIT */
/* status_rows: one row per listener for `echodctl status` (status_rows.h). */
#include <stdlib.h>
#include <string.h>

#include "status_rows.h"

static char *
dup_or_null(const char *s, bool *failed)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	*failed |= d == NULL;
	return d;
}

static void
row_free(struct status_row *row)
{
	free(row->name);
	free(row->origin);
	free(row->where);
	free(row->state);
}

void
status_rows_add(struct status_rows *r, const char *name, const char *origin, const char *where,
    const char *state)
{
	struct status_row row, *grown;
	bool failed = false;

	row.name = dup_or_null(name, &failed);
	row.origin = dup_or_null(origin, &failed);
	row.where = dup_or_null(where, &failed);
	row.state = dup_or_null(state, &failed);
	grown = failed ? NULL : realloc(r->items, (r->count + 1) * sizeof(*grown));
	if (grown == NULL) {
		row_free(&row);
		return;
	}
	r->items = grown;
	r->items[r->count++] = row;
}

void
status_rows_append(struct status_rows *dst, const struct status_rows *src)
{
	for (size_t i = 0; i < src->count; i++)
		status_rows_add(dst, src->items[i].name, src->items[i].origin,
		    src->items[i].where, src->items[i].state);
}

void
status_rows_clear(struct status_rows *r)
{
	for (size_t i = 0; i < r->count; i++)
		row_free(&r->items[i]);
	free(r->items);
	r->items = NULL;
	r->count = 0;
}
