/* SPDX-License-Identifier: MIT */
/* loop: one epoll event loop; a registry of (fd, events, callback, argument) watchers. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "clock.h"
#include "loop.h"

/* Events taken per epoll_wait(): enough to amortise the call over many ready sockets. */
#define LOOP_BATCH 256
#define NO_DEADLINE UINT64_MAX

struct loop {
	int epfd;
	bool stopping;
	uint64_t now;
	uint64_t wake_at;
	loop_hook *hook;
	void *hook_arg;
	loop_hook *before_wait, *after_wait;
	void *wait_arg;
};

struct loop *
loop_new(void)
{
	struct loop *loop = calloc(1, sizeof(*loop));

	if (loop == NULL)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd == -1) {
		free(loop);
		return NULL;
	}
	loop->now = clock_monotonic_ms();
	loop->wake_at = NO_DEADLINE;
	return loop;
}

void
loop_free(struct loop *loop)
{
	if (loop == NULL)
		return;
	close(loop->epfd);
	free(loop);
}

int
loop_add(struct loop *loop, struct watcher *w, int fd, uint32_t events, loop_cb *cb, void *arg)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	w->fd = fd;
	w->events = events;
	w->cb = cb;
	w->arg = arg;
	return epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev);
}

int
loop_mod(struct loop *loop, struct watcher *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	if (w->events == events)
		return 0;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, w->fd, &ev) == -1)
		return -1;
	w->events = events;
	return 0;
}

int
loop_del(struct loop *loop, struct watcher *w)
{
	return epoll_ctl(loop->epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

void
loop_set_hook(struct loop *loop, loop_hook *hook, void *arg)
{
	loop->hook = hook;
	loop->hook_arg = arg;
}

void
loop_set_wait_hooks(struct loop *loop, loop_hook *before, loop_hook *after, void *arg)
{
	loop->before_wait = before;
	loop->after_wait = after;
	loop->wait_arg = arg;
}

void
loop_wake_at(struct loop *loop, uint64_t deadline_ms)
{
	if (deadline_ms < loop->wake_at)
		loop->wake_at = deadline_ms;
}

uint64_t
loop_now(const struct loop *loop)
{
	return loop->now;
}

static int
next_timeout(const struct loop *loop)
{
	uint64_t now;

	if (loop->wake_at == NO_DEADLINE)
		return -1;
	now = clock_monotonic_ms();
	if (loop->wake_at <= now)
		return 0;
	return loop->wake_at - now > 60000 ? 60000 : (int)(loop->wake_at - now);
}

int
loop_run_once(struct loop *loop, int timeout_ms)
{
	struct epoll_event events[LOOP_BATCH];
	int n;

	if (loop->before_wait != NULL)
		loop->before_wait(loop, loop->wait_arg);
	n = epoll_wait(loop->epfd, events, LOOP_BATCH, timeout_ms);
	if (loop->after_wait != NULL)
		loop->after_wait(loop, loop->wait_arg);

	if (n == -1 && errno != EINTR)
		return -1;
	loop->now = clock_monotonic_ms();
	for (int i = 0; i < n; i++) {
		struct watcher *w = events[i].data.ptr;

		w->cb(w->fd, events[i].events, w->arg);
	}
	if (loop->hook != NULL) {
		loop->wake_at = NO_DEADLINE;
		loop->hook(loop, loop->hook_arg);
	}
	return n < 0 ? 0 : n;
}

int
loop_run(struct loop *loop)
{
	loop->stopping = false;
	while (!loop->stopping)
		if (loop_run_once(loop, next_timeout(loop)) == -1)
			return -1;
	return 0;
}

void
loop_stop(struct loop *loop)
{
	loop->stopping = true;
}
