/* SPDX-License-Identifier: MIT */
/* Small misbehaving echo servers for echo-client's tests, and unreachable ports. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client-servers.h"

static int
fake_write_all(int fd, const char *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = write(fd, p, n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static void
fake_stream_conn(int c, const struct fake_spec *sp)
{
	static char buf[1 << 16];
	char *all = NULL, *p;
	size_t off = 0;
	ssize_t n;

	while ((n = read(c, buf, sizeof(buf))) > 0) {
		if (sp->stream == FAKE_SINK)
			continue;
		if (sp->stream == FAKE_RESET) {
			struct linger lg = { 1, 0 };

			setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			break;
		}
		if (sp->stream == FAKE_JOIN) {
			p = realloc(all, off + (size_t)n);
			if (p == NULL)
				break;
			all = p;
			memcpy(all + off, buf, (size_t)n);
		} else {
			if (sp->corrupt_at >= (long)off && sp->corrupt_at < (long)off + n)
				buf[sp->corrupt_at - (long)off] ^= 0x20;
			if (fake_write_all(c, buf, (size_t)n) == -1)
				break;
		}
		off += (size_t)n;
	}
	if (sp->stream == FAKE_JOIN && all != NULL)
		fake_write_all(c, all, off);
	free(all);
}

static void
fake_stream_loop(int lfd, const struct fake_spec *sp)
{
	int c;

	for (;;) {
		c = accept(lfd, NULL, NULL);
		if (c == -1)
			continue;
		fake_stream_conn(c, sp);
		close(c);
	}
}

static void
fake_dgram_loop(int fd, const struct fake_spec *sp, const char *dir)
{
	static char buf[65536], held[65536];
	struct sockaddr_storage from, hfrom;
	socklen_t flen, hlen = 0;
	size_t i = 0, len = strlen(sp->script);
	ssize_t n, heldn = -1;
	bool after = false;	/* 'r': the held one goes after the next one's echo */
	char path[128];
	FILE *log;

	snprintf(path, sizeof(path), "%s/dgrams", dir);
	log = fopen(path, "a");
	for (;; i++) {
		flen = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
		if (n == -1)
			continue;
		if (log != NULL) {
			fprintf(log, "%zd\n", n);
			fflush(log);
		}
		switch (sp->script[i % len]) {
		case 'h':
		case 'r':
			memcpy(held, buf, (size_t)n);
			heldn = n;
			hfrom = from;
			hlen = flen;
			after = sp->script[i % len] == 'r';
			continue;
		case 'd':
			n = -1;
			break;
		case 'c':
			if (n > 0)
				buf[n / 2] ^= 0x20;
			break;
		case 't':
			n /= 2;
			break;
		case '2':
			sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, flen);
			break;
		}
		if (heldn >= 0 && !after)
			sendto(fd, held, (size_t)heldn, 0, (struct sockaddr *)&hfrom, hlen);
		if (n >= 0)
			sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, flen);
		if (heldn >= 0 && after)
			sendto(fd, held, (size_t)heldn, 0, (struct sockaddr *)&hfrom, hlen);
		heldn = -1;
	}
}

static int
fake_listen_unix(struct test_server *s)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/sock", s->dir);
	snprintf(s->host, sizeof(s->host), "unix:%s", sun.sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd != -1 && bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int
fake_start(struct test_server *s, int family, const struct fake_spec *spec)
{
	int fd;

	server_init(s, family);
	if (server_mkdir(s) == -1)
		return -1;
	if (family == AF_UNIX)
		fd = fake_listen_unix(s);
	else
		fd = server_bind(family, spec->socktype, 0);
	if (fd == -1 || (spec->socktype == SOCK_STREAM && listen(fd, 16) == -1)) {
		perror("fake server");
		server_stop(s);
		return -1;
	}
	if (family != AF_UNIX)
		server_name(s, server_port_of(fd));
	s->pid = fork();
	if (s->pid == 0) {
		/* Check's handlers, inherited through fork(), would signal the test's whole
		 * process group when server_stop() terminates this child. */
		signal(SIGTERM, SIG_DFL);
		signal(SIGALRM, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (spec->socktype == SOCK_STREAM)
			fake_stream_loop(fd, spec);
		fake_dgram_loop(fd, spec, s->dir);
		_exit(0);
	}
	close(fd);	/* bound before the fork: ready as soon as start returns */
	if (s->pid == -1) {
		server_stop(s);
		return -1;
	}
	return 0;
}

int
stuck_start(struct test_server *s)
{
	struct sockaddr_storage ss;
	struct pollfd pfd;
	socklen_t len;
	int lfd, i;

	server_init(s, AF_INET);
	/* Backlog 0 holds one established connection; when the accept queue is full, Linux
	 * drops further SYNs, so later connects see nothing: a silent host, on loopback. */
	lfd = server_bind(AF_INET, SOCK_STREAM, 0);
	if (lfd == -1 || listen(lfd, 0) == -1)
		return -1;
	s->fds[0] = lfd;
	server_name(s, server_port_of(lfd));
	len = server_addr(&ss, AF_INET, server_port_of(lfd));
	for (i = 1; i < 4; i++) {
		s->fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (s->fds[i] == -1)
			return -1;
		connect(s->fds[i], (struct sockaddr *)&ss, len);
		if (i == 1) {
			pfd = (struct pollfd){ .fd = s->fds[1], .events = POLLOUT };
			if (poll(&pfd, 1, 5000) != 1)
				return -1;
		}
	}
	return 0;
}

int
refusing_start(struct test_server *s)
{
	server_init(s, AF_INET);
	s->fds[0] = server_bind(AF_INET, SOCK_STREAM, 0);
	if (s->fds[0] == -1)
		return -1;
	server_name(s, server_port_of(s->fds[0]));
	return 0;
}

/*
 * The port stays bound for the test's length (closing it would let a server
 * of another test running in parallel take it), but connected to another
 * peer: the kernel finds no socket for the client's datagrams and answers
 * ICMP port unreachable, as for a closed port.
 */
int
closed_udp_port(struct test_server *s)
{
	struct sockaddr_storage elsewhere;
	socklen_t len;

	server_init(s, AF_INET);
	s->fds[0] = server_bind(AF_INET, SOCK_DGRAM, 0);
	if (s->fds[0] == -1)
		return -1;
	len = server_addr(&elsewhere, AF_INET, 9);
	if (connect(s->fds[0], (struct sockaddr *)&elsewhere, len) == -1)
		return -1;
	server_name(s, server_port_of(s->fds[0]));
	return 0;
}
