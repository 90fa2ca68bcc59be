/* SPDX-License-Identifier: MIT */
/* fuzz_stream: libFuzzer harness for stream connections (Unix socketpairs, loopback TCP). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "guard_conf.h"
#include "log.h"
#include "loop.h"
#include "stream.h"

/*
 * Input: a 4-byte header, then 3-byte operations on one or two connections.
 * Header: [0] flags, [1] buffer_size = 1024 + 256 * n, [2] max_buffered_bytes
 * = 512 * n when F_CAP, [3] idle_timeout (0..3 s).
 * Operation: [0] bits 0-2 opcode, bit 3 which connection; [1..2] argument.
 * The oracle: what a client reads back is exactly what it sent, in order;
 * when everything is closed no byte of buffer is left charged.
 */
enum { F_TCP = 1, F_TWO = 2, F_PER_SOURCE = 4, F_CAP = 8 };
enum { OP_WRITE, OP_READ, OP_RUN, OP_SHUT, OP_BUFSIZE, OP_CAP, OP_TICK, OP_RESET };

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct client {
	int fd;
	uint64_t sent, got;
	uint8_t seed;
};

static struct loop *loop;
static struct stream_shared shared;
static struct guard guard;
static struct guard_policy *policy;	/* per-source limits on: admission counts sources */
static struct echo_stats stats;
static int listener = -1;

static void
setup(void)
{
	struct echod_config cfg = { 0 };
	struct sockaddr_in sin = { .sin_family = AF_INET };

	log_init(LOG_TARGET_STDERR, LOG_ERR);
	loop = loop_new();
	cfg.limits.max_connections = 1;
	cfg.limits.max_connections_per_source = 1;
	policy = guard_conf_policy(&cfg);
	if (loop == NULL || policy == NULL || guard_conf_init(&guard, &cfg) == -1)
		abort();
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listener == -1 || bind(listener, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(listener, 16) == -1)
		abort();
}

static int
fcntl_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	return flags == -1 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static uint8_t
pattern(const struct client *c, uint64_t i)
{
	return (uint8_t)(i * 131 + c->seed);
}

/*
 * A connected pair: the client end here, the server end given to
 * stream_admit(). false: loopback refused (out of ports, say, after many
 * runs left TIME_WAIT behind): not echod's business, the input is skipped.
 */
static bool
connect_one(struct stream_watch *watch, struct client *c, bool tcp)
{
	struct sockaddr_storage peer = { .ss_family = AF_UNIX };
	socklen_t len = sizeof(peer);
	struct sockaddr_in sin;
	int sv[2], sfd;

	if (tcp) {
		len = sizeof(sin);
		if (getsockname(listener, (struct sockaddr *)&sin, &len) == -1)
			abort();
		c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c->fd == -1)
			abort();
		if (connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
			static int said;

			/* The harness's own listener: nothing echod does can make this fail. */
			if (!said++)
				fprintf(stderr, "fuzz_stream: connect: %s: input skipped\n",
				    strerror(errno));
			close(c->fd);
			c->fd = -1;
			return false;
		}
		len = sizeof(peer);
		sfd = accept4(listener, (struct sockaddr *)&peer, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (sfd == -1)
			abort();
	} else {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
			abort();
		c->fd = sv[0];
		sfd = sv[1];
		if (fcntl_nonblock(sfd) == -1)
			abort();
	}
	if (fcntl_nonblock(c->fd) == -1)
		abort();
	stream_admit(watch, sfd, (struct sockaddr *)&peer, policy, NULL);
	return true;
}

static void
client_write(struct client *c, uint16_t arg)
{
	unsigned char buf[65536];
	size_t len = (size_t)arg + 1;
	ssize_t n;

	if (c->fd == -1)
		return;
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern(c, c->sent + i);
	n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n > 0)
		c->sent += (uint64_t)n;
}

/* Whatever comes back must be the next bytes sent: echo is exact and in order. */
static void
client_read(struct client *c, uint16_t arg)
{
	unsigned char buf[65536];
	ssize_t n;

	if (c->fd == -1)
		return;
	n = recv(c->fd, buf, (size_t)arg + 1, MSG_DONTWAIT);
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] != pattern(c, c->got + (uint64_t)i))
			abort();
	if (n > 0)
		c->got += (uint64_t)n;
	if (c->got > c->sent)
		abort();
}

static void
client_reset(struct client *c, bool tcp)
{
	struct linger lin = { 1, 0 };

	if (c->fd == -1)
		return;
	if (tcp)
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
	close(c->fd);
	c->fd = -1;
}

static void
run(struct stream_worker *tw, const uint8_t *op, size_t n, struct client *cl, bool tcp)
{
	for (size_t i = 0; i < n; i++, op += 3) {
		struct client *c = &cl[op[0] >> 3 & 1];
		uint16_t arg = (uint16_t)(op[1] | op[2] << 8);

		switch (op[0] & 7) {
		case OP_WRITE:
			client_write(c, arg);
			break;
		case OP_READ:
			client_read(c, arg);
			break;
		case OP_RUN:
			loop_run_once(loop, 0);
			break;
		case OP_SHUT:
			if (c->fd != -1)
				shutdown(c->fd, SHUT_WR);
			break;
		case OP_BUFSIZE:
			atomic_store(&shared.buffer_size, 1024L + arg);
			break;
		case OP_CAP:
			budget_set_max(&shared.budget, 16L * arg);
			break;
		case OP_TICK:
			stream_worker_tick(tw, loop_now(loop) + arg);
			break;
		case OP_RESET:
			client_reset(c, tcp);
			break;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct client cl[2] = { { -1, 0, 0, 0 }, { -1, 0, 0, 0 } };
	struct stream_worker tw;
	struct stream_watch watch;
	struct listener_stats *ls;
	bool tcp;

	if (size < 4)
		return 0;
	if (loop == NULL)
		setup();
	tcp = data[0] & F_TCP;
	atomic_store(&shared.max_connections, 16);
	atomic_store(&shared.idle_timeout, data[3] & 3);
	atomic_store(&shared.buffer_size, 1024L + 256L * data[1]);
	budget_set_max(&shared.budget, data[0] & F_CAP ? 512L * data[2] : 0);
	{
		struct echod_limits lim = { .max_connections_per_source = data[0] & F_PER_SOURCE };

		guard_conf_update(&guard, &lim);
	}
	/* No generation: the harness admits by hand, with the policy above. */
	if (stream_worker_init(&tw, loop, &shared, &guard, NULL, &stats, 0) == -1 ||
	    (ls = listener_stats_new("tcp fuzz", "tcp", STATS_STREAM, 1)) == NULL)
		abort();
	/* The harness accepts by hand: the watch is not in the loop, only what admission reads. */
	watch = (struct stream_watch){ .sw = &tw, .ls = ls, .slot = listener_stats_slot(ls, 0),
	    .nodelay = tcp };
	for (int i = 0; i < (data[0] & F_TWO ? 2 : 1); i++) {
		cl[i].seed = (uint8_t)(data[1] + 77 * i);
		if (!connect_one(&watch, &cl[i], tcp))
			size = 4;
	}
	run(&tw, data + 4, (size - 4) / 3, cl, tcp);
	/* Let echod see both ends close, then close whatever it still holds. */
	for (int i = 0; i < 2; i++)
		client_reset(&cl[i], tcp);
	for (int i = 0; i < 50 && tw.oldest != NULL; i++)
		loop_run_once(loop, 1);
	stream_worker_fini(&tw);
	listener_stats_release(ls);
	if (atomic_load(&shared.open) != 0 || budget_used(&shared.budget) != 0)
		abort();
	return 0;
}
