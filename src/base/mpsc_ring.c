/* SPDX-License-Identifier: MIT */
/* mpsc_ring: Vyukov's bounded queue, each cell with a sequence number; one consumer. */
#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mpsc_ring.h"

#define MAX_CAPACITY	(UINT64_C(1) << 24)
#define MAX_RECORD	4096
#define CACHE_LINE	64

/*
 * A cell: its sequence number, then the record. seq == pos: free for the
 * producer that claims position pos; seq == pos + 1: holds pos's record;
 * the consumer then sets it to pos + capacity, freeing it for the next lap.
 */
struct cell {
	_Atomic size_t seq;
	unsigned char rec[];		/* copied in and out with memcpy: any alignment */
};

struct mpsc_ring {
	/* Producers' and consumer's positions on lines of their own: they never share one. */
	alignas(CACHE_LINE) _Atomic size_t tail;	/* next position to claim */
	alignas(CACHE_LINE) size_t head;		/* next to pop; the consumer's only */
	alignas(CACHE_LINE) size_t mask;
	size_t record_size, stride;
	unsigned char *cells;
};

static struct cell *
cell_at(const struct mpsc_ring *r, size_t pos)
{
	return (struct cell *)(void *)(r->cells + (pos & r->mask) * r->stride);
}

struct mpsc_ring *
mpsc_ring_new(size_t capacity, size_t record_size)
{
	struct mpsc_ring *r;
	size_t n = 1;

	if (capacity == 0 || capacity > MAX_CAPACITY || record_size == 0 ||
	    record_size > MAX_RECORD) {
		errno = EINVAL;
		return NULL;
	}
	while (n < capacity)
		n <<= 1;
	r = aligned_alloc(CACHE_LINE, sizeof(*r));
	if (r == NULL)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->mask = n - 1;
	r->record_size = record_size;
	/* Whole cache lines per cell: two producers filling neighbours share none. */
	r->stride = (sizeof(struct cell) + record_size + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
	r->cells = aligned_alloc(CACHE_LINE, n * r->stride);
	if (r->cells == NULL) {
		free(r);
		return NULL;
	}
	memset(r->cells, 0, n * r->stride);
	for (size_t i = 0; i < n; i++)
		atomic_init(&cell_at(r, i)->seq, i);
	atomic_init(&r->tail, 0);
	return r;
}

void
mpsc_ring_free(struct mpsc_ring *r)
{
	if (r == NULL)
		return;
	free(r->cells);
	free(r);
}

size_t
mpsc_ring_capacity(const struct mpsc_ring *r)
{
	return r->mask + 1;
}

bool
mpsc_ring_push(struct mpsc_ring *r, const void *rec)
{
	size_t pos = atomic_load_explicit(&r->tail, memory_order_relaxed);
	struct cell *c;

	for (;;) {
		intptr_t dif;

		c = cell_at(r, pos);
		dif = (intptr_t)atomic_load_explicit(&c->seq, memory_order_acquire) -
		    (intptr_t)pos;
		if (dif == 0) {
			/* Free for pos: claim it, unless another producer did first. */
			if (atomic_compare_exchange_weak_explicit(&r->tail, &pos, pos + 1,
			    memory_order_relaxed, memory_order_relaxed))
				break;
		} else if (dif < 0) {
			/* Still holds the record of the previous lap: full. */
			return false;
		} else {
			/* Another producer claimed pos meanwhile: look again. */
			pos = atomic_load_explicit(&r->tail, memory_order_relaxed);
		}
	}
	memcpy(c->rec, rec, r->record_size);
	/* Publishes the record: the consumer's acquire load of seq sees it whole. */
	atomic_store_explicit(&c->seq, pos + 1, memory_order_release);
	return true;
}

bool
mpsc_ring_pop(struct mpsc_ring *r, void *rec)
{
	size_t pos = r->head;
	struct cell *c = cell_at(r, pos);

	if (atomic_load_explicit(&c->seq, memory_order_acquire) != pos + 1)
		return false;
	memcpy(rec, c->rec, r->record_size);
	atomic_store_explicit(&c->seq, pos + r->mask + 1, memory_order_release);
	r->head = pos + 1;
	return true;
}
