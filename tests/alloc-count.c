/* SPDX-License-Identifier: MIT */
/* alloc-count: counts the allocations a stretch of code makes (programs linked with ALLOC_WRAP). */
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "alloc-count.h"

static atomic_long allocations;
static atomic_bool counting;

void	*__real_malloc(size_t size);
void	*__real_calloc(size_t n, size_t size);
void	*__real_realloc(void *p, size_t size);
void	*__real_aligned_alloc(size_t align, size_t size);
void	*__wrap_malloc(size_t size);
void	*__wrap_calloc(size_t n, size_t size);
void	*__wrap_realloc(void *p, size_t size);
void	*__wrap_aligned_alloc(size_t align, size_t size);

void
alloc_count_start(void)
{
	atomic_store(&allocations, 0);
	atomic_store(&counting, true);
}

long
alloc_count_stop(void)
{
	atomic_store(&counting, false);
	return atomic_load(&allocations);
}

static void
count_allocation(void)
{
	if (atomic_load(&counting))
		atomic_fetch_add(&allocations, 1);
}

void *
__wrap_malloc(size_t size)
{
	count_allocation();
	return __real_malloc(size);
}

void *
__wrap_calloc(size_t n, size_t size)
{
	count_allocation();
	return __real_calloc(n, size);
}

void *
__wrap_realloc(void *p, size_t size)
{
	count_allocation();
	return __real_realloc(p, size);
}

void *
__wrap_aligned_alloc(size_t align, size_t size)
{
	count_allocation();
	return __real_aligned_alloc(align, size);
}
