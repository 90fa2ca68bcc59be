/* SPDX-License-Identifier: MIT */
/* stream-rig: one stream worker on a loopback TCP listener, driven by the test's own thread. */
#ifndef ECHOD_TEST_STREAM_RIG_H
#define ECHOD_TEST_STREAM_RIG_H

#include "config.h"
#include "generation.h"
#include "guard.h"
#include "loop.h"
#include "stream.h"

/*
 * Everything a worker thread of echod holds for one listener, with no thread:
 * the test calls loop_run_once() and stream_worker_tick() itself, so it sees
 * every step. Limits at rig_open(): max_connections 16, buffer_size 4096, no
 * idle timeout, no max_buffered_bytes, every guard limit off.
 */
struct rig {
	struct loop *loop;
	struct guard guard;
	struct stream_shared shared;
	struct echo_stats stats;
	struct listener_stats *ls;
	struct stream_worker sw;
	struct stream_watch watch;
	struct listener_spec spec;
	struct generation_slot slot;	/* what the worker serves by: spec, whole */
	int server, port;
};

void	rig_open(struct rig *r);
/* Closes every connection the worker still holds, then the listener. */
void	rig_close(struct rig *r);
/* A client connected to the rig's listener (in the backlog until the loop accepts it). */
int	rig_client(const struct rig *r);
/* The same with SO_SNDBUF and SO_RCVBUF of size bytes (0: the system's). */
int	rig_client_buffers(const struct rig *r, int size);

#endif
