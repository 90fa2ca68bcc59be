/* SPDX-License-Identifier: MIT */
/* budget: max_buffered_bytes, the memory all workers together may hold for unread echoes. */
#ifndef ECHOD_BUDGET_H
#define ECHOD_BUDGET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * The memory of every pending buffer is charged to one counter shared by all
 * workers. Only the buffering slow path changes it; the common case (the
 * peer reads, nothing is pending) reads it once per read.
 */
struct budget {
	_Atomic long max;		/* max_buffered_bytes; 0 = no cap */
	_Atomic long used;		/* bytes allocated for pending data, all workers */
};

/* Any thread: a reload lowers or raises the cap; what is held stays held. */
void	budget_set_max(struct budget *b, long max);
/* Bytes held now, all workers (for statistics). */
long	budget_used(const struct budget *b);

/* Bytes that may still be taken (SIZE_MAX: no cap). */
size_t	budget_left(const struct budget *b);
/* Take bytes of the budget, or fail without taking any. */
bool	budget_take(struct budget *b, size_t bytes);
/*
 * Bytes already read must be kept whatever the budget says. The reader
 * checked budget_left() before reading at most that much, so the counter
 * overshoots only by what other workers took in the same instant.
 */
void	budget_force(struct budget *b, size_t bytes);
void	budget_give(struct budget *b, size_t bytes);

#endif
