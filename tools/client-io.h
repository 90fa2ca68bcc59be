/* SPDX-License-Identifier: MIT */
/* echo-client's clock, signal handling, bounded waits and full-duplex stream exchange. */
#ifndef ECHOD_CLIENT_IO_H
#define ECHOD_CLIENT_IO_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

/* Seconds on the monotonic clock. */
double io_now(void);

/*
 * Block SIGINT and SIGTERM (io_wait() unblocks them only while it sleeps, so an interrupt is
 * never lost between a check and a wait) and ignore SIGPIPE (sends use MSG_NOSIGNAL; a closed
 * standard output shows up as EPIPE). Returns 0, or -1 with errno.
 */
int io_signals_init(void);

/* True once SIGINT or SIGTERM arrived. */
bool io_interrupted(void);

/*
 * poll() until an event or the absolute io_now() time deadline (a negative deadline waits
 * forever). Returns the number of ready fds, 0 at the deadline, or -1 with errno; EINTR means
 * the user interrupted (other signals are retried internally).
 */
int io_wait(struct pollfd *fds, nfds_t n, double deadline);

/*
 * Send len bytes of out on the non-blocking stream socket fd while reading len bytes into in,
 * so that a payload larger than both socket buffers cannot deadlock. timeout is how many
 * seconds may pass without progress. Returns 0 when len bytes came back; otherwise -1 with
 * errno ETIMEDOUT, ENODATA (the server closed the connection), EINTR (interrupted) or a
 * socket error, and *got set to the bytes received so far.
 */
int io_exchange(int fd, const void *out, void *in, size_t len, double timeout, size_t *got);

/* Write all of buf to a blocking fd, retrying short writes. Returns 0, or -1 with errno. */
int io_write_all(int fd, const void *buf, size_t len);

#endif
