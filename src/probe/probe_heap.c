/* SPDX-License-Identifier: MIT */
/* The schedule: a binary min-heap of targets by when each is next due (a send or a
 * timeout), so a tick costs O(log n) per target due, whatever the number of targets. */
#include <errno.h>
#include <stdlib.h>

#include "probe_int.h"

static void
probe_heap_set(struct probe_engine *e, size_t i, struct probe_target *t)
{
	e->heap[i] = t;
	t->heap_at = i;
}

static void
probe_heap_up(struct probe_engine *e, size_t i)
{
	struct probe_target *t = e->heap[i];

	while (i > 0 && e->heap[(i - 1) / 2]->key_at > t->key_at) {
		probe_heap_set(e, i, e->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	probe_heap_set(e, i, t);
}

static void
probe_heap_down(struct probe_engine *e, size_t i)
{
	struct probe_target *t = e->heap[i];
	size_t c;

	while ((c = 2 * i + 1) < e->nheap) {
		if (c + 1 < e->nheap && e->heap[c + 1]->key_at < e->heap[c]->key_at)
			c++;
		if (e->heap[c]->key_at >= t->key_at)
			break;
		probe_heap_set(e, i, e->heap[c]);
		i = c;
	}
	probe_heap_set(e, i, t);
}

int
probe_heap_push(struct probe_engine *e, struct probe_target *t)
{
	struct probe_target **h;
	size_t cap;

	if (e->nheap == e->capheap) {
		cap = e->capheap ? e->capheap * 2 : 16;
		h = realloc(e->heap, cap * sizeof(*h));
		if (h == NULL)
			return -1;
		e->heap = h;
		e->capheap = cap;
	}
	probe_heap_set(e, e->nheap++, t);
	probe_heap_up(e, t->heap_at);
	return 0;
}

void
probe_heap_remove(struct probe_engine *e, struct probe_target *t)
{
	size_t i = t->heap_at;

	e->nheap--;
	if (i == e->nheap)
		return;
	probe_heap_set(e, i, e->heap[e->nheap]);
	probe_heap_fix(e, e->heap[i]);
}

void
probe_heap_fix(struct probe_engine *e, struct probe_target *t)
{
	probe_heap_up(e, t->heap_at);
	probe_heap_down(e, t->heap_at);
}
