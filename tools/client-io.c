/* SPDX-License-Identifier: MIT */
/* echo-client's clock, signal handling, bounded waits and full-duplex stream exchange. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client-io.h"

static volatile sig_atomic_t io_stop;
static sigset_t io_waitmask;	/* the mask to sleep with: SIGINT and SIGTERM deliverable */

static void
io_stop_cb(int sig)
{
	(void)sig;
	io_stop = 1;
}

double
io_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
io_signals_init(void)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		return -1;
	/* No SA_RESTART: the handler's only job is to make ppoll() return EINTR. */
	sa.sa_handler = io_stop_cb;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) == -1 || sigaction(SIGTERM, &sa, NULL) == -1)
		return -1;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &block, &io_waitmask) == -1)
		return -1;
	sigdelset(&io_waitmask, SIGINT);
	sigdelset(&io_waitmask, SIGTERM);
	return 0;
}

bool
io_interrupted(void)
{
	return io_stop != 0;
}

int
io_wait(struct pollfd *fds, nfds_t n, double deadline)
{
	struct timespec ts, *tsp;
	double left;
	int r;

	for (;;) {
		if (io_stop) {
			errno = EINTR;
			return -1;
		}
		tsp = NULL;
		if (deadline >= 0) {
			left = deadline - io_now();
			if (left <= 0)
				return 0;
			ts.tv_sec = (time_t)left;
			ts.tv_nsec = (long)((left - floor(left)) * 1e9);
			tsp = &ts;
		}
		r = ppoll(fds, n, tsp, &io_waitmask);
		if (r >= 0 && (r > 0 || tsp == NULL || io_now() >= deadline))
			return r;
		if (r == -1 && errno != EINTR)
			return -1;
	}
}

/* One step of io_exchange(): move what the socket allows in each direction. */
static int
io_exchange_step(int fd, short revents, const char *out, char *in, size_t len,
    size_t *sent, size_t *got)
{
	ssize_t r;

	if ((revents & POLLOUT) && *sent < len) {
		r = send(fd, out + *sent, len - *sent, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r == -1 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (r > 0)
			*sent += (size_t)r;
	}
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		r = recv(fd, in + *got, len - *got, MSG_DONTWAIT);
		if (r == 0) {
			errno = ENODATA;
			return -1;
		}
		if (r == -1 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (r > 0)
			*got += (size_t)r;
	}
	return 0;
}

int
io_exchange(int fd, const void *out, void *in, size_t len, double timeout, size_t *got)
{
	struct pollfd pfd = { .fd = fd };
	size_t sent = 0, before;
	double deadline = io_now() + timeout;
	int r;

	*got = 0;
	while (*got < len) {
		pfd.events = POLLIN | (sent < len ? POLLOUT : 0);
		r = io_wait(&pfd, 1, deadline);
		if (r == -1)
			return -1;
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		before = sent + *got;
		if (io_exchange_step(fd, pfd.revents, out, in, len, &sent, got) == -1)
			return -1;
		if (sent + *got != before)
			deadline = io_now() + timeout;
	}
	return 0;
}

int
io_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t r;

	while (len > 0) {
		r = write(fd, p, len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}
