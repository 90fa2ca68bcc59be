/* SPDX-License-Identifier: MIT */
/* tcp-floor, udp-floor: the kernel cost of one recv() plus one send() with nothing to wait for. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "bench.h"

/*
 * No server process: a loopback socket pair inside this process. Each iteration the "client"
 * end sends a message; the "server" end then receives it and sends it back, and only those
 * two calls are timed. The data is already queued when recv() runs (loopback delivers inside
 * send()), so no wake-up, no scheduler, no event loop is in the figure: it is what any echo
 * server pays per message at least, the "floor" (about 1.8 us on a machine like ours).
 */
static int
floor_pair(int type, int fd[2])
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int lfd, on = 1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd[0] = fd[1] = -1;
	lfd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	if (lfd == -1 || bind(lfd, (struct sockaddr *)&sin, len) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) == -1 ||
	    (type == SOCK_STREAM && listen(lfd, 1) == -1))
		goto fail;
	fd[0] = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	if (fd[0] == -1 || connect(fd[0], (struct sockaddr *)&sin, len) == -1)
		goto fail;
	if (type == SOCK_DGRAM) {
		/* The "server" end is the bound socket, connected back for plain send(). */
		if (getsockname(fd[0], (struct sockaddr *)&sin, &len) == -1 ||
		    connect(lfd, (struct sockaddr *)&sin, len) == -1)
			goto fail;
		fd[1] = lfd;
		return 0;
	}
	fd[1] = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd[1] == -1)
		goto fail;
	setsockopt(fd[0], IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	setsockopt(fd[1], IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	close(lfd);
	return 0;
fail:
	if (lfd != -1)
		close(lfd);
	if (fd[0] != -1)
		close(fd[0]);
	return -1;
}

/* Receive exactly len bytes (untimed helper for the client end). */
static int
floor_recv_all(int fd, unsigned char *buf, size_t len)
{
	ssize_t n;
	size_t got = 0;

	while (got < len) {
		n = recv(fd, buf + got, len - got, 0);
		if (n <= 0 && !(n == -1 && errno == EINTR))
			return -1;
		got += n > 0 ? (size_t)n : 0;
	}
	return 0;
}

/* One iteration; the server side's recv+send time goes to the histogram when in the window. */
static int
floor_once(struct bench_worker *w, int fd[2], unsigned char *buf, uint64_t off)
{
	struct pollfd pfd = { .fd = fd[1], .events = POLLIN };
	size_t size = w->o->size;
	int64_t t0, t1;
	ssize_t n;

	if (send(fd[0], pattern_at(0, off), size, 0) != (ssize_t)size)
		return -1;
	/* Not timed: make sure the whole message is there, so recv() never waits. */
	while (poll(&pfd, 1, 1000) == 1 && (n = recv(fd[1], buf, size, MSG_PEEK)) >= 0 &&
	       (size_t)n < size)
		;
	t0 = bench_now();
	n = recv(fd[1], buf, size, 0);
	if (n != (ssize_t)size || send(fd[1], buf, size, 0) != (ssize_t)size)
		return -1;
	t1 = bench_now();
	if (floor_recv_all(fd[0], buf, size) == -1 || !pattern_match(0, off, buf, size)) {
		w->st.mismatch++;
		return -1;
	}
	w->st.done_total++;
	if (bench_in_window(w, t1)) {
		w->st.ops++;
		w->st.bytes += size;
		hist_add(&w->st.lat, t1 - t0);
	}
	return 0;
}

int
floor_run(struct bench_worker *w)
{
	int type = w->o->mode == BENCH_UDP_FLOOR ? SOCK_DGRAM : SOCK_STREAM, fd[2];
	static unsigned char buf[BENCH_MAX_CHUNK];
	uint64_t off = 0;

	if (floor_pair(type, fd) == -1) {
		w->failed = errno;
		return -1;
	}
	while (bench_now() < w->t_end && floor_once(w, fd, buf, off) == 0)
		off += w->o->size;
	close(fd[0]);
	close(fd[1]);
	return 0;
}
