/* SPDX-License-Identifier: MIT */
/* worker: one thread, one event loop, serving every listener; told what to do by messages. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "generation.h"
#include "log.h"
#include "loop.h"
#include "udp.h"
#include "worker.h"

enum msg_type { MSG_ADD, MSG_REMOVE, MSG_SYNC, MSG_STOP };

struct msg {
	enum msg_type type;
	struct listener *listener;
	atomic_int *pending;		/* MSG_SYNC */
	struct msg *next;
};

/* A listener as this worker watches it (see struct listener on the naming). */
struct worker_watch {
	struct listener *listener;
	union {
		struct stream_watch stream;
		struct udp_watch udp;
	} u;
	struct worker_watch *next;
};

struct worker {
	int id;
	pthread_t thread;
	bool threaded;
	struct loop *loop;
	struct echo_stats stats;
	struct stream_worker stream;
	struct udp_worker udp;
	struct worker_watch *watches;

	/* Messages from other threads: a locked list, and an eventfd to wake the loop. */
	pthread_mutex_t lock;
	struct msg *inbox, **inbox_tail;
	int wake_fd;
	struct watcher wake_watcher;
	bool mail;
};

static void
watch_add(struct worker *w, struct listener *l)
{
	struct worker_watch *p = calloc(1, sizeof(*p));
	int r;

	if (p == NULL) {
		log_warn("worker %d cannot watch %s", w->id, l->name);
		listener_release(l);
		return;
	}
	p->listener = l;
	if (listener_is_stream(l))
		r = stream_watch_start(&p->u.stream, &w->stream, l->fd,
		    listener_is_tcp(l), l, l->stats);
	else
		r = udp_watch_start(&p->u.udp, &w->udp, l->fd, listener_local_port(l), l,
		    l->stats);
	if (r == -1) {
		log_warn("worker %d cannot watch %s", w->id, l->name);
		listener_release(l);
		free(p);
		return;
	}
	p->next = w->watches;
	w->watches = p;
}

static void
watch_stop_and_free(struct worker_watch *p, bool drain)
{
	if (listener_is_stream(p->listener))
		stream_watch_stop(&p->u.stream, drain);
	else
		udp_watch_stop(&p->u.udp, drain);
	listener_release(p->listener);
	free(p);
}

static void
watch_remove(struct worker *w, struct listener *l)
{
	for (struct worker_watch **pp = &w->watches; *pp != NULL; pp = &(*pp)->next) {
		struct worker_watch *p = *pp;

		if (p->listener == l) {
			*pp = p->next;
			watch_stop_and_free(p, true);
			return;
		}
	}
}

static void
inbox_process(struct worker *w)
{
	struct msg *m, *next;

	pthread_mutex_lock(&w->lock);
	m = w->inbox;
	w->inbox = NULL;
	w->inbox_tail = &w->inbox;
	w->mail = false;
	pthread_mutex_unlock(&w->lock);
	for (; m != NULL; m = next) {
		next = m->next;
		switch (m->type) {
		case MSG_ADD:
			watch_add(w, m->listener);
			break;
		case MSG_REMOVE:
			watch_remove(w, m->listener);
			break;
		case MSG_SYNC:
			atomic_fetch_sub(m->pending, 1);
			break;
		case MSG_STOP:
			loop_stop(w->loop);
			break;
		}
		free(m);
	}
}

static int
post(struct worker *w, enum msg_type type, struct listener *l, atomic_int *pending)
{
	struct msg *m = calloc(1, sizeof(*m));
	uint64_t one = 1;

	if (m == NULL)
		return -1;
	m->type = type;
	m->listener = l;
	m->pending = pending;
	pthread_mutex_lock(&w->lock);
	*w->inbox_tail = m;
	w->inbox_tail = &m->next;
	pthread_mutex_unlock(&w->lock);
	/* An eventfd counter cannot overflow here; a failed write only delays. */
	(void)!write(w->wake_fd, &one, sizeof(one));
	return 0;
}

static void
wake_cb(int fd, uint32_t events, void *arg)
{
	struct worker *w = arg;
	uint64_t count;

	(void)!read(fd, &count, sizeof(count));
	w->mail = true;
}

/* Runs between batches of events: nothing the kernel returned still points at freed memory. */
static void
worker_hook(struct loop *loop, void *arg)
{
	struct worker *w = arg;
	uint64_t now = loop_now(loop), next;

	if (w->mail)
		inbox_process(w);
	next = stream_worker_tick(&w->stream, now);
	if (next != UINT64_MAX)
		loop_wake_at(loop, next);
}

/* Waiting for events, the worker holds no generation: RCU may retire the old ones. */
static void
before_wait(struct loop *loop, void *arg)
{
	(void)loop;
	(void)arg;
	generation_reader_idle();
}

static void
after_wait(struct loop *loop, void *arg)
{
	(void)loop;
	(void)arg;
	generation_reader_busy();
}

struct worker *
worker_new(int id, struct stream_shared *shared, struct guard *guard,
    const struct generation_slot *generations)
{
	/* Aligned as struct echo_stats asks: its cache line is the worker's alone. */
	size_t size = (sizeof(struct worker) + 63) / 64 * 64;
	struct worker *w = aligned_alloc(64, size);

	if (w == NULL)
		return NULL;
	memset(w, 0, size);
	w->id = id;
	w->wake_fd = -1;
	w->inbox_tail = &w->inbox;
	pthread_mutex_init(&w->lock, NULL);
	w->loop = loop_new();
	if (w->loop == NULL)
		goto fail;
	w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->wake_fd == -1 ||
	    loop_add(w->loop, &w->wake_watcher, w->wake_fd, EPOLLIN, wake_cb, w) == -1)
		goto fail;
	if (stream_worker_init(&w->stream, w->loop, shared, guard, generations, &w->stats,
	    id) == -1 || udp_worker_init(&w->udp, w->loop, guard, generations, &w->stats, id,
	    shared->refusals) == -1)
		goto fail;
	loop_set_hook(w->loop, worker_hook, w);
	return w;
fail:
	worker_free(w);
	return NULL;
}

void
worker_free(struct worker *w)
{
	struct msg *m, *next;

	if (w == NULL)
		return;
	if (w->threaded)
		pthread_join(w->thread, NULL);
	stream_worker_fini(&w->stream);
	udp_worker_fini(&w->udp);
	while (w->watches != NULL) {
		struct worker_watch *p = w->watches;

		w->watches = p->next;
		watch_stop_and_free(p, false);
	}
	/* Messages never read still hold references to their listeners. */
	for (m = w->inbox; m != NULL; m = next) {
		next = m->next;
		if (m->type == MSG_ADD)
			listener_release(m->listener);
		free(m);
	}
	if (w->wake_fd != -1)
		close(w->wake_fd);
	loop_free(w->loop);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

const struct echo_stats *
worker_stats(const struct worker *w)
{
	return &w->stats;
}

int
worker_add_listener(struct worker *w, struct listener *l)
{
	listener_hold(l);
	if (post(w, MSG_ADD, l, NULL) == -1) {
		listener_release(l);
		return -1;
	}
	return 0;
}

int
worker_remove_listener(struct worker *w, struct listener *l)
{
	return post(w, MSG_REMOVE, l, NULL);
}

int
worker_stop(struct worker *w)
{
	return post(w, MSG_STOP, NULL, NULL);
}

int
worker_sync(struct worker *w, atomic_int *pending)
{
	return post(w, MSG_SYNC, NULL, pending);
}

static void *
worker_thread(void *arg)
{
	struct worker *w = arg;

	/* Only a thread of its own reads generations: RCU must know of it (QSBR). */
	generation_reader_register();
	loop_set_wait_hooks(w->loop, before_wait, after_wait, w);
	if (loop_run(w->loop) == -1)
		log_warn("worker %d: epoll_wait", w->id);
	loop_set_wait_hooks(w->loop, NULL, NULL, NULL);
	generation_reader_unregister();
	return NULL;
}

int
worker_start(struct worker *w)
{
	int r = pthread_create(&w->thread, NULL, worker_thread, w);

	if (r != 0) {
		errno = r;
		return -1;
	}
	w->threaded = true;
	return 0;
}
