/* SPDX-License-Identifier: MIT */
/* probe_pub: the probes' figures as the control thread last published them, for any thread. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "probe_pub.h"

void
probe_pub_init(struct probe_pub *pub)
{
	pthread_mutex_init(&pub->lock, NULL);
	pub->rows = NULL;
	pub->n = 0;
}

void
probe_pub_fini(struct probe_pub *pub)
{
	probe_rows_free(pub->rows, pub->n);
	pub->rows = NULL;
	pub->n = 0;
	pthread_mutex_destroy(&pub->lock);
}

void
probe_rows_free(struct probe_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].probe);
		free(rows[i].target);
	}
	free(rows);
}

void
probe_pub_swap(struct probe_pub *pub, struct probe_row *rows, size_t n)
{
	struct probe_row *old;
	size_t oldn;

	pthread_mutex_lock(&pub->lock);
	old = pub->rows;
	oldn = pub->n;
	pub->rows = rows;
	pub->n = n;
	pthread_mutex_unlock(&pub->lock);
	/* Freed outside the lock: a scrape waits for a copy, never for free(). */
	probe_rows_free(old, oldn);
}

static int
row_copy(struct probe_row *to, const struct probe_row *from)
{
	*to = *from;
	to->probe = strdup(from->probe);
	to->target = strdup(from->target);
	if (to->probe != NULL && to->target != NULL)
		return 0;
	free(to->probe);
	free(to->target);
	to->probe = to->target = NULL;
	return -1;
}

int
probe_pub_copy(struct probe_pub *pub, struct probe_row **rows, size_t *n)
{
	struct probe_row *copy = NULL;
	size_t k = 0;
	int r = 0;

	pthread_mutex_lock(&pub->lock);
	if (pub->n > 0 && (copy = calloc(pub->n, sizeof(*copy))) == NULL)
		r = -1;
	for (; r == 0 && k < pub->n; k++)
		if (row_copy(&copy[k], &pub->rows[k]) == -1)
			r = -1;
	pthread_mutex_unlock(&pub->lock);
	if (r == -1) {
		probe_rows_free(copy, k);
		errno = ENOMEM;
		copy = NULL;
		k = 0;
	}
	*rows = copy;
	*n = k;
	return r;
}
