/* SPDX-License-Identifier: MIT */
/* stream-rig: one stream worker on a loopback TCP listener, driven by the test's own thread. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "guard_conf.h"
#include "log.h"
#include "rig-generation.h"
#include "stream-rig.h"

/* Port 0: the kernel picks a free port, so parallel test runs never collide. */
static int
rig_listen(int *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

void
rig_open(struct rig *r)
{
	struct echod_config cfg;

	memset(r, 0, sizeof(*r));
	memset(&cfg, 0, sizeof(cfg));
	log_init(LOG_TARGET_STDERR, LOG_ERR);
	r->loop = loop_new();
	ck_assert_ptr_nonnull(r->loop);
	ck_assert_int_eq(guard_conf_init(&r->guard, &cfg), 0);
	atomic_init(&r->shared.max_connections, 16);
	atomic_init(&r->shared.buffer_size, 4096);
	r->server = rig_listen(&r->port);
	rig_generation_publish(&r->slot, r, &r->spec, &cfg);
	r->ls = listener_stats_new("tcp test", "tcp", STATS_STREAM, 1);
	ck_assert_ptr_nonnull(r->ls);
	ck_assert_int_eq(stream_worker_init(&r->sw, r->loop, &r->shared, &r->guard, &r->slot,
	    &r->stats, 0), 0);
	ck_assert_int_eq(stream_watch_start(&r->watch, &r->sw, r->server, true, r, r->ls), 0);
}

void
rig_close(struct rig *r)
{
	stream_resume_add_set(NULL);
	stream_watch_stop(&r->watch, false);
	stream_worker_fini(&r->sw);
	listener_stats_release(r->ls);
	guard_fini(&r->guard);
	rig_generation_free(&r->slot);
	close(r->server);
	loop_free(r->loop);
}

int
rig_client(const struct rig *r)
{
	return rig_client_buffers(r, 0);
}

int
rig_client_buffers(const struct rig *r, int size)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(r->port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	/* Before connect(): the receive buffer sets the window the handshake offers. */
	if (size > 0) {
		ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)), 0);
		ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)), 0);
	}
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}
