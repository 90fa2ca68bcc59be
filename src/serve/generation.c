/* SPDX-License-Identifier: MIT */
/* generation: the compiled configuration the workers serve by, published with liburcu (QSBR). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include <urcu-qsbr.h>

#include "generation.h"
#include "guard.h"
#include "view.h"

struct generation {
	uint64_t serial;		/* 0 until published; then unique in the process */
	void *owned;			/* what the views point into: the configuration */
	generation_release_fn *release;	/* frees owned */
	struct guard_policy *policy;
	size_t nsockets, capacity;
	struct generation_socket *sockets;	/* sorted by key once published */
	bool sorted;
	pthread_mutex_t *walkers_lock;	/* the slot's, for the retirement */
	struct rcu_head rcu;
};

/* Only the control thread publishes: no lock needed for the numbering. */
static uint64_t last_serial;

struct generation *
generation_new(void *owned, generation_release_fn *release, struct guard_policy *policy,
    size_t nsockets)
{
	struct generation *g = calloc(1, sizeof(*g));

	if (g != NULL)
		g->sockets = calloc(nsockets + 1, sizeof(*g->sockets));
	if (g == NULL || g->sockets == NULL) {
		free(g);
		if (release != NULL)
			release(owned);
		guard_policy_free(policy);
		errno = ENOMEM;
		return NULL;
	}
	g->owned = owned;
	g->release = release;
	g->policy = policy;
	g->capacity = nsockets;
	return g;
}

void
generation_set_view(struct generation *g, const void *key, struct listener_view *view)
{
	if (g->nsockets == g->capacity) {
		/* The compiler sized it from the listener set: cannot happen; never leak. */
		free(view);
		return;
	}
	g->sockets[g->nsockets++] = (struct generation_socket){ key, view };
	g->sorted = false;
}

void
generation_free(struct generation *g)
{
	if (g == NULL)
		return;
	for (size_t i = 0; i < g->nsockets; i++)
		if (g->sockets[i].view != &view_nothing)
			free((struct listener_view *)(uintptr_t)g->sockets[i].view);
	free(g->sockets);
	guard_policy_free(g->policy);
	if (g->release != NULL)
		g->release(g->owned);
	free(g);
}

uint64_t
generation_serial(const struct generation *g)
{
	return g->serial;
}

const struct guard_policy *
generation_policy(const struct generation *g)
{
	return g->policy;
}

static int
by_key(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct generation_socket *)a)->key;
	uintptr_t y = (uintptr_t)((const struct generation_socket *)b)->key;

	return (x > y) - (x < y);
}

const struct listener_view *
generation_view(const struct generation *g, const void *key)
{
	struct generation_socket probe = { key, NULL };
	const struct generation_socket *hit;

	if (g->sorted) {
		hit = bsearch(&probe, g->sockets, g->nsockets, sizeof(*hit), by_key);
		return hit != NULL ? hit->view : NULL;
	}
	/* Not published yet: only the control thread reads it, while it builds it. */
	for (size_t i = 0; i < g->nsockets; i++)
		if (g->sockets[i].key == key)
			return g->sockets[i].view;
	return NULL;
}

/* After a grace period: no worker reads it. A walker (metrics thread) may: wait for it. */
static void
retire_cb(struct rcu_head *head)
{
	struct generation *g = caa_container_of(head, struct generation, rcu);
	pthread_mutex_t *lock = g->walkers_lock;

	if (lock != NULL)
		pthread_mutex_lock(lock);
	generation_free(g);
	if (lock != NULL)
		pthread_mutex_unlock(lock);
}

static __thread bool writer_registered;

void
generation_writer_init(void)
{
	if (writer_registered)
		return;
	rcu_register_thread();
	/* Online only while it hands a generation to call_rcu(): never holds up a grace period. */
	rcu_thread_offline();
	writer_registered = true;
}

void
generation_writer_fini(void)
{
	if (!writer_registered)
		return;
	rcu_barrier();
	rcu_unregister_thread();
	writer_registered = false;
}

void
generation_publish(struct generation_slot *slot, struct generation *g)
{
	struct generation *old;

	generation_writer_init();
	qsort(g->sockets, g->nsockets, sizeof(*g->sockets), by_key);
	g->sorted = true;
	g->serial = ++last_serial;
	g->walkers_lock = slot->walkers_lock;
	old = rcu_xchg_pointer(&slot->current, g);
	if (old == NULL)
		return;
	rcu_thread_online();
	call_rcu(&old->rcu, retire_cb);
	rcu_thread_offline();
}

const struct generation *
generation_current(const struct generation_slot *slot)
{
	return rcu_dereference(slot->current);
}

const struct generation *
generation_cursor_read(struct generation_cursor *c, const struct listener_view **view)
{
	const struct generation *g = rcu_dereference(c->slot->current);
	const struct listener_view *v;

	if (g == NULL) {
		*view = &view_nothing;
		return NULL;
	}
	if (g->serial != c->serial) {
		v = generation_view(g, c->key);
		c->view = v != NULL ? v : &view_nothing;
		c->serial = g->serial;
	}
	*view = c->view;
	return g;
}

void
generation_reader_register(void)
{
	rcu_register_thread();
}

void
generation_reader_unregister(void)
{
	rcu_unregister_thread();
}

void
generation_reader_idle(void)
{
	rcu_thread_offline();
}

void
generation_reader_busy(void)
{
	rcu_thread_online();
}
