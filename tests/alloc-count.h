/* SPDX-License-Identifier: MIT */
/* alloc-count: counts the allocations a stretch of code makes (programs linked with ALLOC_WRAP). */
#ifndef ECHOD_ALLOC_COUNT_H
#define ECHOD_ALLOC_COUNT_H

/*
 * A program linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,
 * --wrap=aligned_alloc (ALLOC_WRAP in tests/local.am) sends every
 * allocation, the library's too, through alloc-count.c, so that a test can
 * prove a flood allocates nothing after set-up. Counting is off until started.
 */
void	alloc_count_start(void);
/* Stop counting: the allocations since alloc_count_start(), from any thread. */
long	alloc_count_stop(void);

#endif
