/* SPDX-License-Identifier: MIT */
/* mpsc_ring: a bounded lock-free queue of fixed-size records, many producers, one consumer. */
#ifndef ECHOD_MPSC_RING_H
#define ECHOD_MPSC_RING_H

#include <stdbool.h>
#include <stddef.h>

struct mpsc_ring;

/*
 * capacity records (rounded up to a power of two, at most 1 << 24) of
 * record_size bytes each, allocated here once. NULL with errno EINVAL
 * (capacity or record_size 0, or too large) or ENOMEM.
 */
struct mpsc_ring *mpsc_ring_new(size_t capacity, size_t record_size);
void	mpsc_ring_free(struct mpsc_ring *r);
size_t	mpsc_ring_capacity(const struct mpsc_ring *r);

/*
 * Any thread: copies record_size bytes from rec into the ring. false when it
 * is full. Never blocks, never allocates, makes no system call: a few atomic
 * operations (a compare-and-swap retried only when another producer won it).
 */
bool	mpsc_ring_push(struct mpsc_ring *r, const void *rec);

/*
 * One thread at a time (the consumer): the oldest record into rec, or false
 * when there is none yet. A producer that claimed a slot but has not
 * finished copying holds back the records behind it until it has: they come
 * out at a later pop, none is lost.
 */
bool	mpsc_ring_pop(struct mpsc_ring *r, void *rec);

#endif
