/* SPDX-License-Identifier: MIT */
/* idle: prove every connection echoes once, then hold them silent and watch for any event. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "bench.h"

static void
idle_drop(struct bench_worker *w, int i, uint64_t *counter)
{
	close(w->fds[i]);
	w->fds[i] = -1;
	(*counter)++;
}

/* Read what came back on connection i; returns true once all size bytes are verified. */
static bool
idle_read(struct bench_worker *w, int i, size_t *rcvd, unsigned char *buf)
{
	uint64_t base = pattern_base((uint64_t)(w->index + i));
	size_t size = w->o->size;
	ssize_t n;

	for (;;) {
		n = recv(w->fds[i], buf, BENCH_MAX_CHUNK, 0);
		if (n > 0) {
			if (*rcvd + (size_t)n > size ||
			    !pattern_match(base, *rcvd, buf, (size_t)n)) {
				idle_drop(w, i, &w->st.mismatch);
				return false;
			}
			*rcvd += (size_t)n;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			idle_drop(w, i, &w->st.reset);
			return false;
		} else if (errno == EAGAIN) {
			return *rcvd == size;
		}
	}
}

static void
idle_send_all(struct bench_worker *w, int ep)
{
	struct epoll_event ev = { .events = EPOLLIN };
	const unsigned char *msg;
	int i;

	for (i = 0; i < w->count; i++) {
		if (w->fds[i] == -1)
			continue;
		ev.data.u32 = (uint32_t)i;
		/* size is small (one message); a partial send on a fresh socket is a failure. */
		msg = pattern_at(pattern_base((uint64_t)(w->index + i)), 0);
		if (epoll_ctl(ep, EPOLL_CTL_ADD, w->fds[i], &ev) == -1 ||
		    send(w->fds[i], msg, w->o->size, MSG_NOSIGNAL) != (ssize_t)w->o->size)
			idle_drop(w, i, &w->st.reset);
	}
}

/*
 * Echo one message on every connection so that the server has really accepted and served
 * each one before it is measured. Connections not echoed within connect_ms are stalls.
 * Returns the number of connections proven, or -1 (errno).
 */
int
idle_prove(struct bench_worker *w)
{
	int64_t left, deadline = bench_now() + (int64_t)w->o->connect_ms * 1000000;
	struct epoll_event evs[256];
	int ep, i, k, pending = 0, proven = 0;
	unsigned char *buf;
	size_t *rcvd;

	ep = epoll_create1(EPOLL_CLOEXEC);
	rcvd = calloc((size_t)w->count, sizeof(*rcvd));
	buf = malloc(BENCH_MAX_CHUNK);
	if (ep == -1 || rcvd == NULL || buf == NULL) {
		proven = -1;
		goto done;
	}
	idle_send_all(w, ep);
	for (i = 0; i < w->count; i++)
		pending += w->fds[i] != -1;
	while (pending > 0 && (left = deadline - bench_now()) > 0) {
		k = epoll_wait(ep, evs, 256, (int)(left / 1000000) + 1);
		for (i = 0; i < k; i++) {
			int c = (int)evs[i].data.u32;

			if (w->fds[c] == -1)
				continue;
			if (idle_read(w, c, &rcvd[c], buf)) {
				epoll_ctl(ep, EPOLL_CTL_DEL, w->fds[c], NULL);
				proven++;
				pending--;
			} else if (w->fds[c] == -1) {
				pending--;
			}
		}
	}
	w->st.stall += (uint64_t)pending;
	w->st.done_total = (uint64_t)proven;
done:
	if (ep != -1)
		close(ep);
	free(rcvd);
	free(buf);
	return proven;
}

/* Hold until t_end: an idle connection must see nothing, neither bytes nor a close. */
int
idle_run(struct bench_worker *w)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP }, evs[256];
	int64_t now, wait;
	unsigned char byte;
	int ep, i, k, held = 0;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep == -1) {
		w->failed = errno;
		return -1;
	}
	for (i = 0; i < w->count; i++) {
		ev.data.u32 = (uint32_t)i;
		if (w->fds[i] != -1 && epoll_ctl(ep, EPOLL_CTL_ADD, w->fds[i], &ev) == 0)
			held++;
	}
	while ((now = bench_now()) < w->t_end) {
		wait = w->t_end - now;
		k = epoll_wait(ep, evs, 256, (int)(wait / 1000000) + 1);
		for (i = 0; i < k; i++) {
			int c = (int)evs[i].data.u32;

			if (w->fds[c] == -1)
				continue;
			held--;
			if (recv(w->fds[c], &byte, 1, MSG_PEEK) > 0)
				idle_drop(w, c, &w->st.mismatch);
			else
				idle_drop(w, c, &w->st.reset);
		}
	}
	w->st.ops = (uint64_t)held;
	close(ep);
	return 0;
}
