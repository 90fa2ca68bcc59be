/* SPDX-License-Identifier: MIT */
/* The probe engine's life and the calls the caller's event loop makes: its sockets, when it
 * is next due, the tick and the readable socket. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "probe_int.h"

double
probe_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct probe_engine *
probe_engine_new(void)
{
	struct probe_engine *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	memset(e->fd, -1, sizeof(e->fd));
	/* Read once: the S bit and Error Estimate of every test packet. Where adjtimex() is
	 * refused, the clock is taken as unsynchronised (no one-way delays). */
	stamp_clock_state(&e->clock);
	e->clock_at = probe_now();
	e->next_id = 1;
	return e;
}

void
probe_engine_free(struct probe_engine *e)
{
	int i;

	if (e == NULL)
		return;
	while (e->nheap > 0)
		probe_target_remove(e, e->heap[0]);
	for (i = 0; i < 4; i++)
		if (e->fd[i / 2][i % 2] != -1)
			close(e->fd[i / 2][i % 2]);
	free(e->heap);
	free(e);
}

int
probe_engine_pollfds(const struct probe_engine *e, struct pollfd *pfd, int max)
{
	int i, n = 0;
	size_t k;

	for (i = 0; i < 4; i++) {
		if (e->fd[i / 2][i % 2] == -1)
			continue;
		if (n < max)
			pfd[n] = (struct pollfd){ .fd = e->fd[i / 2][i % 2], .events = POLLIN };
		n++;
	}
	for (k = 0; k < e->nheap; k++) {
		const struct probe_target *t = e->heap[k];

		if (t->c.proto != PROBE_TCP || t->fd == -1)
			continue;
		if (n < max)
			pfd[n] = (struct pollfd){ .fd = t->fd, .events = (short)(POLLIN |
			    (t->connecting || t->woff < t->wlen ? POLLOUT : 0)) };
		n++;
	}
	return n;
}

void
probe_engine_ready(struct probe_engine *e, int fd, short revents, double now)
{
	size_t k;
	int i;

	for (i = 0; i < 4; i++)
		if (e->fd[i / 2][i % 2] == fd) {
			probe_recv_dgram(e, fd, now);
			return;
		}
	/* A TCP target's connection. Linear: a few TCP targets; many go over UDP. */
	for (k = 0; k < e->nheap; k++)
		if (e->heap[k]->c.proto == PROBE_TCP && e->heap[k]->fd == fd) {
			probe_tcp_ready(e->heap[k], revents, now);
			return;
		}
}

double
probe_engine_next(const struct probe_engine *e)
{
	return e->nheap > 0 ? e->heap[0]->key_at : INFINITY;
}

/* When t is next due: its next probe, or the first timeout of those pending. */
static double
probe_engine_key(const struct probe_target *t)
{
	double k = t->next_send;
	int i;

	for (i = 0; i < PROBE_WINDOW; i++)
		if (t->slot[i].pending && t->slot[i].sent + t->c.timeout < k)
			k = t->slot[i].sent + t->c.timeout;
	return k;
}

/* The clock's state again, into every target's packets and one-way rule. */
static void
probe_engine_clock(struct probe_engine *e, double now)
{
	size_t i;

	stamp_clock_state(&e->clock);
	e->clock_at = now;
	for (i = 0; i < e->nheap; i++) {
		e->heap[i]->send.clock = e->clock;
		e->heap[i]->ss.local_synced = e->clock.synced;
	}
}

void
probe_engine_tick(struct probe_engine *e, double now)
{
	struct probe_target *t;

	if (now - e->clock_at >= PROBE_CLOCK_S)
		probe_engine_clock(e, now);
	while (e->nheap > 0 && (t = e->heap[0])->key_at <= now) {
		probe_expire(t, now);
		if (t->next_send <= now)
			probe_send(e, t, now);
		t->key_at = probe_engine_key(t);
		probe_heap_fix(e, t);
	}
}

unsigned long long
probe_engine_unmatched(const struct probe_engine *e)
{
	return e->unmatched;
}

bool
probe_engine_done(const struct probe_engine *e)
{
	size_t i;

	for (i = 0; i < e->nheap; i++)
		if (e->heap[i]->key_at < INFINITY)
			return false;
	return true;
}
