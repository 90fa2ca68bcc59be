/* SPDX-License-Identifier: MIT */
/* udp-batch-floor: the kernel cost per datagram of one recvmmsg() plus one sendmmsg(). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "bench.h"

/*
 * What batching can bring a UDP echo server at best, with no server process: c client
 * sockets each send one datagram to a bound "server" socket in this process; one
 * recvmmsg() takes them all and one sendmmsg() sends them back, and only those two calls are
 * timed, divided by the datagrams they moved. Everything is queued before the timed calls
 * (loopback delivers inside send()), and no other thread waits on these sockets: no
 * wake-up, no scheduler and no traffic between CPUs is in the figure.
 */
struct batch_floor {
	int server, *client;
	int count;
	struct mmsghdr *msg;
	struct iovec *iov;
	struct sockaddr_in *peer;
	unsigned char *data;	/* count slots of size bytes */
	unsigned char *buf;
};

static int
batch_open(struct batch_floor *b)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int i;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	b->server = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (b->server == -1 || bind(b->server, (struct sockaddr *)&sin, len) == -1 ||
	    getsockname(b->server, (struct sockaddr *)&sin, &len) == -1)
		return -1;
	for (i = 0; i < b->count; i++) {
		b->client[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (b->client[i] == -1 ||
		    connect(b->client[i], (struct sockaddr *)&sin, len) == -1)
			return -1;
	}
	return 0;
}

static void
batch_close(struct batch_floor *b)
{
	if (b->server != -1)
		close(b->server);
	for (int i = 0; b->client != NULL && i < b->count; i++)
		if (b->client[i] != -1)
			close(b->client[i]);
	free(b->client);
	free(b->msg);
	free(b->iov);
	free(b->peer);
	free(b->data);
	free(b->buf);
}

/* Point every message at its slot, as a server does before each recvmmsg(). */
static void
batch_reset(struct batch_floor *b, size_t size)
{
	for (int i = 0; i < b->count; i++) {
		b->iov[i] = (struct iovec){ b->data + (size_t)i * size, size };
		memset(&b->msg[i], 0, sizeof(b->msg[i]));
		b->msg[i].msg_hdr.msg_name = &b->peer[i];
		b->msg[i].msg_hdr.msg_namelen = sizeof(b->peer[i]);
		b->msg[i].msg_hdr.msg_iov = &b->iov[i];
		b->msg[i].msg_hdr.msg_iovlen = 1;
	}
}

/* One batch: send (untimed), echo (timed), receive and compare (untimed). */
static int
batch_once(struct bench_worker *w, struct batch_floor *b, uint64_t off)
{
	size_t size = w->o->size;
	int64_t t0, t1;
	int i, n, sent;

	for (i = 0; i < b->count; i++) {
		const unsigned char *msg = pattern_at(pattern_base((uint64_t)i), off);

		if (send(b->client[i], msg, size, 0) != (ssize_t)size)
			return -1;
	}
	batch_reset(b, size);
	t0 = bench_now();
	n = recvmmsg(b->server, b->msg, (unsigned)b->count, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return -1;
	for (i = 0; i < n; i++)
		b->iov[i].iov_len = b->msg[i].msg_len;
	sent = sendmmsg(b->server, b->msg, (unsigned)n, 0);
	t1 = bench_now();
	if (sent != n)
		return -1;
	for (i = 0; i < b->count; i++) {
		if (recv(b->client[i], b->buf, size, MSG_DONTWAIT) != (ssize_t)size ||
		    !pattern_match(pattern_base((uint64_t)i), off, b->buf, size)) {
			w->st.mismatch++;
			return -1;
		}
	}
	w->st.done_total += (uint64_t)n;
	if (bench_in_window(w, t1)) {
		w->st.ops += (uint64_t)n;
		w->st.bytes += (uint64_t)n * size;
		hist_add(&w->st.lat, (t1 - t0) / n);
	}
	return 0;
}

int
floor_batch_run(struct bench_worker *w)
{
	struct batch_floor b = { .server = -1, .count = w->o->conns };
	size_t size = w->o->size;
	uint64_t off = 0;
	int i;

	b.client = malloc((size_t)b.count * sizeof(*b.client));
	b.msg = calloc((size_t)b.count, sizeof(*b.msg));
	b.iov = calloc((size_t)b.count, sizeof(*b.iov));
	b.peer = calloc((size_t)b.count, sizeof(*b.peer));
	b.data = malloc((size_t)b.count * size);
	b.buf = malloc(size);
	if (b.client != NULL)
		for (i = 0; i < b.count; i++)
			b.client[i] = -1;
	if (b.client == NULL || b.msg == NULL || b.iov == NULL || b.peer == NULL ||
	    b.data == NULL || b.buf == NULL || batch_open(&b) == -1) {
		w->failed = errno != 0 ? errno : ENOMEM;
		batch_close(&b);
		return -1;
	}
	while (bench_now() < w->t_end && batch_once(w, &b, off) == 0)
		off += size;
	batch_close(&b);
	return 0;
}
