/* SPDX-License-Identifier: MIT */
/* worker: one thread, one event loop, serving every listener; told what to do by messages. */
#ifndef ECHOD_WORKER_H
#define ECHOD_WORKER_H

#include <stdatomic.h>

#include "listener.h"
#include "stats.h"
#include "stream.h"

struct worker;

/* generations: where the generation in force is published (generation.h). */
struct worker *worker_new(int id, struct stream_shared *shared, struct guard *guard,
	    const struct generation_slot *generations);
/* Joins the thread if it runs, closes its connections, releases its listeners. */
void	worker_free(struct worker *w);

const struct echo_stats *worker_stats(const struct worker *w);

/*
 * Safe from any thread: the worker applies them in its own thread. Adding
 * takes a reference to the listener; removing gives it back.
 */
int	worker_add_listener(struct worker *w, struct listener *l);
int	worker_remove_listener(struct worker *w, struct listener *l);
int	worker_stop(struct worker *w);
/* Decrement *pending once every message posted before this one has been applied. */
int	worker_sync(struct worker *w, atomic_int *pending);

/* Run the worker's loop in a thread of its own, until worker_stop(). */
int	worker_start(struct worker *w);

#endif
