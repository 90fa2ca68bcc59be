/* SPDX-License-Identifier: MIT */
/* TCP echo targets: a connection each (a byte stream cannot be shared), made when the first
 * probe is due and again after it breaks; probes written back to back with the UDP probe's
 * header and read back one echo (size bytes) at a time. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe_int.h"

int
probe_tcp_init(struct probe_target *t)
{
	t->fd = -1;
	t->wbuf = malloc(t->c.size * PROBE_TCP_QUEUE);
	t->rbuf = malloc(t->c.size);
	return t->wbuf == NULL || t->rbuf == NULL ? -1 : 0;
}

/* Close the connection: its unanswered probes time out as lost; the next one reconnects. */
static void
probe_tcp_close(struct probe_target *t)
{
	if (t->fd != -1)
		close(t->fd);
	t->fd = -1;
	t->connecting = false;
	t->wlen = t->woff = t->roff = 0;
}

void
probe_tcp_free(struct probe_target *t)
{
	probe_tcp_close(t);
	free(t->wbuf);
	free(t->rbuf);
}

static int
probe_tcp_connect(struct probe_target *t)
{
	int fd, tos = t->c.dscp << 2, on = 1;

	fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	/* Probes are small and timed: no Nagle delay. The DSCP is the connection's. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (t->c.dscp >= 0)
		setsockopt(fd, t->addr.ss_family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
		    t->addr.ss_family == AF_INET ? IP_TOS : IPV6_TCLASS, &tos, sizeof(tos));
	if (connect(fd, (const struct sockaddr *)&t->addr, t->addrlen) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	t->fd = fd;
	t->connecting = true;
	return 0;
}

/* Write what is queued, as far as the connection takes it. */
static void
probe_tcp_flush(struct probe_target *t)
{
	ssize_t n;

	while (!t->connecting && t->fd != -1 && t->woff < t->wlen) {
		n = send(t->fd, t->wbuf + t->woff, t->wlen - t->woff, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno != EAGAIN)
			probe_tcp_close(t);
		if (n <= 0)
			return;
		t->woff += (size_t)n;
	}
	if (t->woff == t->wlen)
		t->wlen = t->woff = 0;
}

void
probe_tcp_send(struct probe_target *t, const uint8_t *buf)
{
	if (t->fd == -1 && probe_tcp_connect(t) == -1)
		return;		/* no connection: the probe times out, lost */
	if (t->woff > 0) {
		memmove(t->wbuf, t->wbuf + t->woff, t->wlen - t->woff);
		t->wlen -= t->woff;
		t->woff = 0;
	}
	/* A connection that takes nothing for PROBE_TCP_QUEUE probes: this one is lost. */
	if (t->wlen + t->c.size > t->c.size * PROBE_TCP_QUEUE)
		return;
	memcpy(t->wbuf + t->wlen, buf, t->c.size);
	t->wlen += t->c.size;
	probe_tcp_flush(t);
}

/* Read echoes; each whole one is matched by its header. */
static void
probe_tcp_read(struct probe_target *t, double now)
{
	ssize_t n;

	while (t->fd != -1) {
		n = recv(t->fd, t->rbuf + t->roff, t->c.size - t->roff, MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			probe_tcp_close(t);	/* closed or reset by the server */
			return;
		}
		t->roff += (size_t)n;
		if (t->roff < t->c.size)
			continue;
		t->roff = 0;
		if (stamp_get32(t->rbuf) != PROBE_UDP_MAGIC || stamp_get32(t->rbuf + 4) != t->id) {
			t->f.bad++;	/* not our bytes: the stream cannot be trusted after */
			probe_tcp_close(t);
			return;
		}
		probe_reply_header(t, t->rbuf, t->c.size, -1, now);
	}
}

void
probe_tcp_ready(struct probe_target *t, short revents, double now)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (t->connecting && (revents & (POLLOUT | POLLERR | POLLHUP))) {
		if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err != 0) {
			probe_tcp_close(t);
			return;
		}
		t->connecting = false;
	}
	if (revents & (POLLIN | POLLERR | POLLHUP))
		probe_tcp_read(t, now);
	if (revents & POLLOUT)
		probe_tcp_flush(t);
}
