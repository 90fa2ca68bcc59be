/* SPDX-License-Identifier: MIT */
/* worker: one thread, one event loop, serving every listener; told what to do by messages. */
#ifndef ECHOD_WORKER_H
#define ECHOD_WORKER_H

#include <stdatomic.h>

#include "listener.h"
#include "loop.h"
#include "stats.h"
#include "stream.h"

struct worker;

/* Periodic work the owner wants done in this worker's thread (worker 0: status). */
typedef uint64_t worker_tick_cb(void *arg, uint64_t now_ms);

struct worker *worker_new(int id, struct stream_shared *shared, struct guard *guard);
/* Joins the thread if it runs, closes its connections, releases its listeners. */
void	worker_free(struct worker *w);

struct loop *worker_loop(struct worker *w);
const struct echo_stats *worker_stats(const struct worker *w);
void	worker_set_tick(struct worker *w, worker_tick_cb *cb, void *arg);

/*
 * Safe from any thread: the worker applies them in its own thread. Adding
 * takes a reference to the listener; removing gives it back.
 */
int	worker_add_listener(struct worker *w, struct listener *l);
int	worker_remove_listener(struct worker *w, struct listener *l);
int	worker_stop(struct worker *w);
/* Decrement *pending once every message posted before this one has been applied. */
int	worker_sync(struct worker *w, atomic_int *pending);

/* Run in a new thread, or in the calling one (worker 0 is the main thread). */
int	worker_start(struct worker *w);
int	worker_run(struct worker *w);

#endif
