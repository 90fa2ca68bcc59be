/* SPDX-License-Identifier: MIT */
/*
 * generation: one configuration compiled for the workers, immutable once
 * published. What every socket serves (its view: handlers, ACLs, source-port
 * rules, STAMP keys and session tables through them), the guard policy, and
 * the configuration they point into. Workers reach it through one pointer,
 * read with generation_current(); a reload publishes the next one and the old
 * one is freed once every worker has passed a quiescent state (userspace RCU,
 * QSBR flavour: a worker is quiescent whenever it waits in epoll_wait()).
 *
 * liburcu is used here only: the rest of echod sees these functions.
 *
 * Not in it: limits that are single numbers beside the state they bound
 * (max_connections and the open count, max_buffered_bytes and the byte
 * budget, buffer_size, idle_timeout, the per-source rates and their table):
 * atomics, stored by the control thread, need nothing retired. Everything
 * a worker reaches through a pointer is in the generation.
 */
#ifndef ECHOD_GENERATION_H
#define ECHOD_GENERATION_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct guard_policy;
struct listener_view;

/* One socket's part: key is the socket's struct listener, never dereferenced here. */
struct generation_socket {
	const void *key;
	const struct listener_view *view;
};

struct generation;

/* The pointer workers read; only the control thread writes it (generation_publish()). */
struct generation_slot {
	struct generation *current;	/* NULL until the first publication */
	/*
	 * Taken by readers that are not workers (the metrics thread walking
	 * the listeners) and by every retirement before it frees: a retired
	 * generation is never freed under such a reader.
	 */
	pthread_mutex_t *walkers_lock;
};

/* Frees what a generation owns besides its views and policy (the configuration). */
typedef void generation_release_fn(void *owned);

/*
 * A generation owning owned (what its views point into: the configuration,
 * freed with release) and policy, both freed with it (also when this
 * fails), with room for nsockets views. NULL with errno on failure.
 */
struct generation *generation_new(void *owned, generation_release_fn *release,
	    struct guard_policy *policy, size_t nsockets);
/* Give the socket key its view (taken over, freed with the generation). Before publication. */
void	generation_set_view(struct generation *g, const void *key, struct listener_view *view);
/* Free one never published, or the last one when no worker runs any more. */
void	generation_free(struct generation *g);

uint64_t generation_serial(const struct generation *g);
const struct guard_policy *generation_policy(const struct generation *g);
/* The view of the socket key (NULL: the generation has none for it: it serves nothing). */
const struct listener_view *generation_view(const struct generation *g, const void *key);

/*
 * The control thread: make g the one in force (numbering it) and retire the
 * one it replaces. The control thread must be registered (generation_writer_init()).
 */
void	generation_publish(struct generation_slot *slot, struct generation *g);

/*
 * A worker: the generation in force. What it points to stays valid until
 * the worker's next quiescent state (generation_reader_idle()).
 */
const struct generation *generation_current(const struct generation_slot *slot);

/*
 * A socket as one worker watches it: its view in the generation in force,
 * looked up again (a binary search) only when the generation changed.
 */
struct generation_cursor {
	const struct generation_slot *slot;
	const void *key;		/* the socket's struct listener */
	uint64_t serial;		/* the generation view was found in (0: none yet) */
	const struct listener_view *view;
};

/*
 * The generation in force (NULL before the first publication), and in
 * *view the socket's view there (view_nothing when it has none: nothing is
 * served). Both valid until the worker's next quiescent state.
 */
const struct generation *generation_cursor_read(struct generation_cursor *c,
	    const struct listener_view **view);

/* Worker threads: register once, then idle around every wait (quiescent there). */
void	generation_reader_register(void);
void	generation_reader_unregister(void);
void	generation_reader_idle(void);
void	generation_reader_busy(void);

/* The control thread, before its first publication; and at exit, once no worker runs. */
void	generation_writer_init(void);
/* Wait until every retired generation has been freed (shutdown). */
void	generation_writer_fini(void);

#endif
