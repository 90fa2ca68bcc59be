/* SPDX-License-Identifier: MIT */
/* echo-floor: the plainest blocking echo servers (TCP, UDP, batched UDP): the benchmark floor. */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

/*
 * No event loop, no buffering policy, no limits: recv() then send() of the same bytes. What
 * this costs per message is what any echo server must at least pay, so it is the yardstick.
 */
#define FLOOR_BUF	(64 * 1024)
#define FLOOR_STACK	(FLOOR_BUF + 64 * 1024)	/* the buffer lives on the thread's stack */
#define FLOOR_MAX_PORTS	16
/* The batched UDP floor: datagrams per recvmmsg()/sendmmsg(), each slot fits any datagram. */
#define FLOOR_BATCH	64
#define FLOOR_SLOT	(64 * 1024)

static void *
floor_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[FLOOR_BUF];
	ssize_t n, off, w;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (off = 0; off < n; off += w) {
			w = send(fd, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
			if (w == -1 && errno == EINTR)
				w = 0;
			else if (w == -1)
				goto done;
		}
	}
done:
	close(fd);
	return NULL;
}

static int
floor_spawn(void *(*fn)(void *), intptr_t arg)
{
	pthread_attr_t attr;
	pthread_t tid;
	int rc;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, FLOOR_STACK);
	rc = pthread_create(&tid, &attr, fn, (void *)arg);
	pthread_attr_destroy(&attr);
	return rc;
}

static void *
floor_accept(void *arg)
{
	int lfd = (int)(intptr_t)arg, fd, on = 1;
	struct timespec pause = { 0, 10000000 };

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd == -1) {
			/* Out of descriptors: wait for connections to end rather than spin. */
			if (errno == EMFILE || errno == ENFILE || errno == ENOMEM)
				nanosleep(&pause, NULL);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		if (floor_spawn(floor_conn, fd) != 0)
			close(fd);
	}
	return NULL;
}

static void *
floor_udp(void *arg)
{
	int fd = (int)(intptr_t)arg;
	struct sockaddr_storage peer;
	socklen_t len;
	char buf[FLOOR_BUF];
	ssize_t n;

	for (;;) {
		len = sizeof(peer);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &len);
		if (n >= 0)
			sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&peer, len);
	}
	return NULL;
}

/*
 * The best a batching UDP server can do: one blocking recvmmsg() for whatever is queued, one
 * sendmmsg() back, nothing else. echod's UDP path is compared with this, not only with the
 * recvfrom()/sendto() loop above.
 */
struct floor_batch {
	char data[FLOOR_BATCH][FLOOR_SLOT];
	struct sockaddr_storage peer[FLOOR_BATCH];
	struct iovec iov[FLOOR_BATCH];
	struct mmsghdr msg[FLOOR_BATCH];
};

static void *
floor_udp_batch(void *arg)
{
	/* One per thread (each -b port has its own); too big for the thread's stack. */
	struct floor_batch *b = malloc(sizeof(*b));
	int fd = (int)(intptr_t)arg, n, i;

	if (b == NULL) {
		fprintf(stderr, "echo-floor: out of memory for a batched UDP port\n");
		exit(EX_OSERR);
	}
	for (;;) {
		for (i = 0; i < FLOOR_BATCH; i++) {
			b->iov[i] = (struct iovec){ b->data[i], FLOOR_SLOT };
			b->msg[i].msg_hdr = (struct msghdr){
				.msg_name = &b->peer[i], .msg_namelen = sizeof(b->peer[i]),
				.msg_iov = &b->iov[i], .msg_iovlen = 1,
			};
		}
		n = recvmmsg(fd, b->msg, FLOOR_BATCH, MSG_WAITFORONE, NULL);
		for (i = 0; i < n; i++)
			b->iov[i].iov_len = b->msg[i].msg_len;
		if (n > 0)
			sendmmsg(fd, b->msg, (unsigned)n, 0);
	}
	return NULL;
}

/* A bound socket (listening for TCP), or -1 (errno). */
static int
floor_bind(const char *addr, const char *port, int type)
{
	struct addrinfo hints, *res;
	int fd, on = 1, saved;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = type;
	if (getaddrinfo(addr, port, &hints, &res) != 0) {
		errno = EINVAL;
		return -1;
	}
	fd = socket(res->ai_family, type | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    (type == SOCK_STREAM && listen(fd, SOMAXCONN) == -1))
		goto fail;
	freeaddrinfo(res);
	return fd;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	freeaddrinfo(res);
	errno = saved;
	return -1;
}

/* READY=1 to $NOTIFY_SOCKET ("@name" is an abstract socket), as sd_notify() would send it. */
static void
floor_notify(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len;
	int fd;

	if (path == NULL || (len = strlen(path)) == 0 || len >= sizeof(sun.sun_path))
		return;
	memcpy(sun.sun_path, path, len);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return;
	sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *)&sun,
	       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	close(fd);
}

int
main(int argc, char **argv)
{
	const char *addr = "127.0.0.1", *port[3][FLOOR_MAX_PORTS];
	void *(*loop[3])(void *) = { floor_accept, floor_udp, floor_udp_batch };
	const int type[3] = { SOCK_STREAM, SOCK_DGRAM, SOCK_DGRAM };
	int nport[3] = { 0, 0, 0 }, ch, k, i, fd, sig;
	struct rlimit rl;
	sigset_t set;

	while ((ch = getopt(argc, argv, "a:t:u:b:")) != -1) {
		k = ch == 't' ? 0 : ch == 'u' ? 1 : 2;
		if (ch == 'a') {
			addr = optarg;
		} else if ((ch == 't' || ch == 'u' || ch == 'b') && nport[k] < FLOOR_MAX_PORTS) {
			port[k][nport[k]++] = optarg;
		} else {
			fprintf(stderr, "usage: echo-floor [-a ADDR] [-t TCP-PORT]... "
				"[-u UDP-PORT]... [-b BATCHED-UDP-PORT]...\n");
			return EX_USAGE;
		}
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* Threads inherit the mask: only main() takes SIGTERM/SIGINT, through sigwait(). */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	for (k = 0; k < 3; k++) {
		for (i = 0; i < nport[k]; i++) {
			fd = floor_bind(addr, port[k][i], type[k]);
			if (fd == -1) {
				fprintf(stderr, "echo-floor: %s port %s: %s\n", addr, port[k][i],
					strerror(errno));
				return EX_UNAVAILABLE;
			}
			if (floor_spawn(loop[k], fd) != 0) {
				fprintf(stderr, "echo-floor: cannot start a thread\n");
				return EX_OSERR;
			}
		}
	}
	floor_notify();
	sigwait(&set, &sig);
	return 0;
}
