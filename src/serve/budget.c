/* SPDX-License-Identifier: MIT */
/* budget: max_buffered_bytes, the memory all workers together may hold for unread echoes. */
#include <stdint.h>

#include "budget.h"

void
budget_set_max(struct budget *b, long max)
{
	atomic_store(&b->max, max);
}

long
budget_used(const struct budget *b)
{
	return atomic_load(&b->used);
}

size_t
budget_left(const struct budget *b)
{
	long max = atomic_load_explicit(&b->max, memory_order_relaxed);
	long used = atomic_load_explicit(&b->used, memory_order_relaxed);

	if (max == 0)
		return SIZE_MAX;
	return used >= max ? 0 : (size_t)(max - used);
}

bool
budget_take(struct budget *b, size_t bytes)
{
	long max = atomic_load_explicit(&b->max, memory_order_relaxed);
	long used = atomic_load_explicit(&b->used, memory_order_relaxed);

	do {
		if (max != 0 && used + (long)bytes > max)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&b->used, &used, used + (long)bytes,
	    memory_order_relaxed, memory_order_relaxed));
	return true;
}

void
budget_force(struct budget *b, size_t bytes)
{
	atomic_fetch_add_explicit(&b->used, (long)bytes, memory_order_relaxed);
}

void
budget_give(struct budget *b, size_t bytes)
{
	atomic_fetch_sub_explicit(&b->used, (long)bytes, memory_order_relaxed);
}
