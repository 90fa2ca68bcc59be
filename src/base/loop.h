/* SPDX-License-Identifier: MIT */
/* loop: one epoll event loop; a registry of (fd, events, callback, argument) watchers. */
#ifndef ECHOD_LOOP_H
#define ECHOD_LOOP_H

#include <stdint.h>
#include <sys/epoll.h>

struct loop;

typedef void loop_cb(int fd, uint32_t events, void *arg);
typedef void loop_hook(struct loop *loop, void *arg);

/* Storage belongs to the caller (embed it in what it watches: no allocation here). */
struct watcher {
	int fd;
	uint32_t events;
	loop_cb *cb;
	void *arg;
};

struct loop *loop_new(void);
void	loop_free(struct loop *loop);

int	loop_add(struct loop *loop, struct watcher *w, int fd, uint32_t events,
	    loop_cb *cb, void *arg);
/* Change the events of a watcher; no system call when they are unchanged. */
int	loop_mod(struct loop *loop, struct watcher *w, uint32_t events);
int	loop_del(struct loop *loop, struct watcher *w);

/*
 * The hook runs after every batch of events, and when a deadline set with
 * loop_wake_at() passes. Deadlines are forgotten before each call: the hook
 * sets the next one. Watchers may be freed there safely (no event is pending).
 */
void	loop_set_hook(struct loop *loop, loop_hook *hook, void *arg);
/*
 * before runs just before every wait for events, after just after it, on
 * the loop's thread: the thread holds nothing between them (a worker tells
 * RCU it is quiescent there, see generation.h).
 */
void	loop_set_wait_hooks(struct loop *loop, loop_hook *before, loop_hook *after, void *arg);
void	loop_wake_at(struct loop *loop, uint64_t deadline_ms);

/* Monotonic milliseconds, read once per batch of events. */
uint64_t loop_now(const struct loop *loop);

/* Runs until loop_stop() is called from one of its callbacks. 0, or -1 on epoll failure. */
int	loop_run(struct loop *loop);
/*
 * One batch: wait up to timeout_ms (-1: no limit, 0: not at all), run the
 * callbacks and the hook. Returns the number of events, or -1 on epoll failure.
 */
int	loop_run_once(struct loop *loop, int timeout_ms);
void	loop_stop(struct loop *loop);

#endif
