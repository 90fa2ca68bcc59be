/* SPDX-License-Identifier: MIT */
/* check_echo: the real echod over real loopback sockets (TCP, UDP, IPv6, Unix, signals). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"

/* Loop tests run each case with one worker and with four. */
static const int worker_counts[] = { 1, 4 };

struct fixture {
	struct echod_proc p;
	int port;
	char unix_path[160];
};

/*
 * echod on TCP and UDP 127.0.0.1:port and [::1]:port, sockets the harness
 * bound and passed, and on a Unix socket echod binds (a path in the test's
 * own directory: nobody else can take it).
 */
static void
start_echod_as(struct fixture *f, int workers, const char *limits, bool self_bind)
{
	struct harness_service svc = {
		.workers = workers, .ipv6 = true, .unix_name = "echo.sock", .limits = limits,
		.self_bind = self_bind,
	};

	f->port = harness_serve(&f->p, &svc);
	snprintf(f->unix_path, sizeof(f->unix_path), "%s/echo.sock", f->p.dir);
}

static void
start_echod(struct fixture *f, int workers, const char *limits)
{
	start_echod_as(f, workers, limits, false);
}

static void
stop_echod(struct fixture *f)
{
	ck_assert_int_eq(harness_stop(&f->p), 0);
	harness_cleanup(&f->p);
}

static void
check_stream(int fd, size_t len, unsigned seed)
{
	unsigned char *buf = malloc(len);

	ck_assert_ptr_nonnull(buf);
	random_fill(buf, len, seed);
	ck_assert_msg(stream_echo_check(fd, buf, len, seed, 60000) == 0,
	    "%zu bytes did not come back intact", len);
	free(buf);
}

START_TEST(tcp_echo_sizes)
{
	static const size_t sizes[] = { 1, 7, 1000, 65536, 300000, 1 << 20, 8 << 20 };
	struct fixture f;

	start_echod(&f, worker_counts[_i], NULL);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int fd = tcp_connect_port(AF_INET, f.port);

		ck_assert_int_ge(fd, 0);
		check_stream(fd, sizes[i], (unsigned)i + 1);
		close(fd);
	}
	stop_echod(&f);
}
END_TEST

START_TEST(tcp_many_messages_one_connection)
{
	struct fixture f;
	int fd;

	start_echod(&f, worker_counts[_i], NULL);
	fd = tcp_connect_port(AF_INET, f.port);
	ck_assert_int_ge(fd, 0);
	/* Serve again and again: 500 request/response rounds on one connection. */
	for (unsigned i = 0; i < 500; i++) {
		unsigned char out[64], in[64];

		random_fill(out, sizeof(out), i);
		ck_assert_int_eq(send(fd, out, sizeof(out), 0), sizeof(out));
		ck_assert_uint_eq(recv_exact(fd, in, sizeof(in), 5000), sizeof(in));
		ck_assert_mem_eq(in, out, sizeof(out));
	}
	close(fd);
	stop_echod(&f);
}
END_TEST

static void
udp_roundtrip(int family, int port, size_t len)
{
	unsigned char *out = malloc(len + 1), *in = malloc(65536);
	int fd = udp_socket_for(family, port);
	struct pollfd pfd = { fd, POLLIN, 0 };
	ssize_t n = -1;

	ck_assert_int_ge(fd, 0);
	random_fill(out, len, (unsigned)len);
	/* Loopback does not lose datagrams, but the first may race the worker's start. */
	for (int attempt = 0; attempt < 3 && n < 0; attempt++) {
		ck_assert_int_eq(send(fd, out, len, 0), (ssize_t)len);
		if (poll(&pfd, 1, 2000) == 1)
			n = recv(fd, in, 65536, 0);
	}
	ck_assert_int_eq(n, (ssize_t)len);
	ck_assert(len == 0 || memcmp(in, out, len) == 0);
	close(fd);
	free(out);
	free(in);
}

START_TEST(udp_echo_sizes)
{
	static const size_t sizes[] = { 0, 1, 1472, 9000, 65507 };
	struct fixture f;

	start_echod(&f, worker_counts[_i], NULL);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		udp_roundtrip(AF_INET, f.port, sizes[i]);
		if (harness_have_ipv6())
			udp_roundtrip(AF_INET6, f.port, sizes[i]);
	}
	stop_echod(&f);
}
END_TEST

/* A connected UDP socket takes replies only from the address it sent to. */
static void
udp_roundtrip_to(const char *ip, int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct pollfd pfd = { fd, POLLIN, 0 };
	char in[16];

	ck_assert_int_eq(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(send(fd, "from", 4, 0), 4);
	ck_assert_msg(poll(&pfd, 1, 3000) == 1, "no reply from %s", ip);
	ck_assert_int_eq(recv(fd, in, sizeof(in), 0), 4);
	close(fd);
}

/*
 * Loop: _i % 2 picks the workers, _i / 2 who binds the wildcard socket: the
 * harness, passing it as systemd does, or echod itself.
 */
START_TEST(udp_wildcard_replies_from_the_destination_address)
{
	struct echod_proc p;
	int port;

	if (_i / 2 == 0 && !harness_have_ipv6()) {
		fprintf(stderr, "no IPv6: no dual-stack [::] socket to pass\n");
		return;
	}
	harness_init(&p);
	if (_i / 2 == 0)
		port = harness_listen(&p, SOCK_DGRAM, NULL, 0);
	else
		port = harness_free_port();
	ck_assert_int_gt(port, 0);
	harness_write_config(&p, "listeners = ( { protocol = \"udp\"; port = %d; } );\n"
	    "workers = %d;\n", port, worker_counts[_i % 2]);
	ck_assert_int_eq(harness_start(&p, NULL, 0), 0);
	/* 127.0.0.2 and .3 are loopback too: the reply must come from each, not 127.0.0.1. */
	udp_roundtrip_to("127.0.0.1", port);
	udp_roundtrip_to("127.0.0.2", port);
	udp_roundtrip_to("127.0.0.3", port);
	if (harness_have_ipv6())
		udp_roundtrip(AF_INET6, port, 100);
	ck_assert_int_eq(harness_stop(&p), 0);
	harness_cleanup(&p);
}
END_TEST

/*
 * One datagram to ip:port sent with TOS / traffic class tos: the TOS its echo
 * came back with (-1 if it said none), or fails the test when none came.
 */
static int
tos_echo(int family, const char *ip, int port, int tos)
{
	struct sockaddr_storage to;
	socklen_t len;
	union {
		char buf[128];
		struct cmsghdr align;
	} ctrl;
	char data[16];
	struct iovec iov = { data, sizeof(data) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl.buf,
		.msg_controllen = sizeof(ctrl.buf) };
	struct pollfd pfd;
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0), on = 1, got = -1;

	ck_assert_int_ge(fd, 0);
	memset(&to, 0, sizeof(to));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&to;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		ck_assert_int_eq(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
		len = sizeof(*sin);
		ck_assert_int_eq(setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)), 0);
		ck_assert_int_eq(setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &on, sizeof(on)), 0);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&to;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		ck_assert_int_eq(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
		len = sizeof(*sin6);
		ck_assert_int_eq(setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos)), 0);
		ck_assert_int_eq(setsockopt(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, &on, sizeof(on)),
		    0);
	}
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&to, len), 0);
	ck_assert_int_eq(send(fd, "dscp", 4, 0), 4);
	pfd = (struct pollfd){ fd, POLLIN, 0 };
	ck_assert_msg(poll(&pfd, 1, 3000) == 1, "no echo from %s port %d", ip, port);
	ck_assert_int_eq(recvmsg(fd, &msg, 0), 4);
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TOS)
			got = *(const unsigned char *)CMSG_DATA(cm);
		else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_TCLASS)
			memcpy(&got, CMSG_DATA(cm), sizeof(got));
	}
	close(fd);
	return got;
}

/* Each TOS sent to ip:port and the TOS its echo must carry. */
static void
check_dscp(int family, const char *ip, int port, bool reflect)
{
	static const struct {
		int sent, reflected;
	} cases[] = {
		{ 0xb8, 0xb8 },		/* EF: comes back EF */
		{ 0xb9, 0xb8 },		/* EF with ECT(1): the ECN bits are not copied */
		{ 0x28, 0x28 },		/* AF11 */
		{ 0xe0, 0x00 },		/* CS7: network control, not allowed by default */
		{ 0xc0, 0x00 },		/* CS6: likewise */
		{ 0x03, 0x00 },		/* CE alone: DSCP 0 */
		{ 0x00, 0x00 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int want = reflect ? cases[i].reflected : 0;
		int got = tos_echo(family, ip, port, cases[i].sent);

		ck_assert_msg(got == want, "%s port %d, TOS 0x%02x sent: echo has 0x%02x, want "
		    "0x%02x", ip, port, cases[i].sent, got, want);
	}
}

/*
 * Issue 22 item 2: a UDP echo carries the DSCP its request arrived with,
 * when dscp_allow admits it, else 0; never the ECN bits; reflect_dscp =
 * false: always 0. IPv4, IPv6, and IPv4 through a dual-stack [::] socket.
 */
START_TEST(udp_reflects_dscp)
{
	bool v6 = harness_have_ipv6();
	struct echod_proc p;
	int on = harness_free_port(), off = harness_free_port(), any = harness_free_port();
	char six[512] = "";

	harness_init(&p);
	if (v6)
		snprintf(six, sizeof(six),
		    "  { protocol = \"udp\"; port = %d; address = \"::1\"; },\n"
		    "  { protocol = \"udp\"; port = %d; address = \"::1\";\n"
		    "    reflect_dscp = false; },\n", on, off);
	harness_write_config(&p, "listeners = (\n"
	    "  { protocol = \"udp\"; port = %d; address = \"127.0.0.1\"; },\n"
	    "  { protocol = \"udp\"; port = %d; address = \"127.0.0.1\";\n"
	    "    reflect_dscp = false; },\n"
	    "%s  { protocol = \"udp\"; port = %d; }\n"
	    ");\nworkers = %d;\n", on, off, six, any, worker_counts[_i]);
	ck_assert_int_eq(harness_start(&p, NULL, 0), 0);
	check_dscp(AF_INET, "127.0.0.1", on, true);
	check_dscp(AF_INET, "127.0.0.1", off, false);
	check_dscp(AF_INET, "127.0.0.1", any, true);
	if (v6) {
		check_dscp(AF_INET6, "::1", on, true);
		check_dscp(AF_INET6, "::1", off, false);
		check_dscp(AF_INET6, "::1", any, true);
	} else {
		fprintf(stderr, "no IPv6 loopback: DSCP checked over IPv4 only\n");
	}
	ck_assert_int_eq(harness_stop(&p), 0);
	harness_cleanup(&p);
}
END_TEST

START_TEST(ipv6_and_unix_streams)
{
	struct fixture f;
	int fd;

	start_echod(&f, worker_counts[_i], NULL);
	if (harness_have_ipv6()) {
		fd = tcp_connect_port(AF_INET6, f.port);
		ck_assert_int_ge(fd, 0);
		check_stream(fd, 200000, 11);
		close(fd);
	} else {
		fprintf(stderr, "no IPv6 loopback: IPv6 part not run\n");
	}
	fd = unix_connect_path(f.unix_path);
	ck_assert_int_ge(fd, 0);
	check_stream(fd, 200000, 12);
	close(fd);
	stop_echod(&f);
	/* The socket file echod created is gone with it. */
	ck_assert_int_ne(access(f.unix_path, F_OK), 0);
}
END_TEST

START_TEST(half_close_flushes_then_closes)
{
	size_t len = 3 << 20;
	unsigned char *out = malloc(len), *in = malloc(len);
	struct fixture f;
	size_t sent = 0;
	int fd;

	start_echod(&f, worker_counts[_i], NULL);
	fd = tcp_connect_port(AF_INET, f.port);
	ck_assert_int_ge(fd, 0);
	random_fill(out, len, 99);
	/* Send everything, then half-close, before reading a single byte back. */
	fcntl(fd, F_SETFL, O_NONBLOCK);
	size_t got = 0;
	while (sent < len) {
		ssize_t n = send(fd, out + sent, len - sent, MSG_NOSIGNAL);

		if (n > 0)
			sent += (size_t)n;
		else
			got += recv_exact(fd, in + got, len - got < 4096 ? len - got : 4096, 10);
	}
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	got += recv_exact(fd, in + got, len - got, 20000);
	ck_assert_uint_eq(got, len);
	ck_assert_mem_eq(in, out, len);
	ck_assert_msg(peer_closed(fd, 5000), "echod did not close after the half-close");
	close(fd);
	free(out);
	free(in);
	stop_echod(&f);
}
END_TEST

START_TEST(thousand_concurrent_connections)
{
	enum { N = 1000 };
	static int fds[N];
	struct fixture f;

	start_echod(&f, worker_counts[_i], NULL);
	for (int i = 0; i < N; i++) {
		fds[i] = tcp_connect_port(AF_INET, f.port);
		ck_assert_msg(fds[i] >= 0, "connection %d: %s", i, strerror(errno));
	}
	for (int i = 0; i < N; i++) {
		char msg[32];
		int len = snprintf(msg, sizeof(msg), "connection %d", i);

		ck_assert_int_eq(send(fds[i], msg, (size_t)len, 0), len);
	}
	for (int i = 0; i < N; i++) {
		char msg[32], in[32];
		int len = snprintf(msg, sizeof(msg), "connection %d", i);

		ck_assert_uint_eq(recv_exact(fds[i], in, (size_t)len, 5000), (size_t)len);
		ck_assert_mem_eq(in, msg, (size_t)len);
	}
	for (int i = 0; i < N; i++)
		close(fds[i]);
	stop_echod(&f);
}
END_TEST

START_TEST(non_reading_client_is_bounded)
{
	struct fixture f;
	unsigned char chunk[65536];
	size_t pushed = 0;
	long rss_before, rss_after;
	int hog, other, stalls = 0;

	/* buffer_size 64 KiB: whatever the hog sends, echod holds at most that for it. */
	start_echod(&f, worker_counts[_i], "buffer_size = 65536;");
	hog = tcp_connect_port(AF_INET, f.port);
	ck_assert_int_ge(hog, 0);
	fcntl(hog, F_SETFL, O_NONBLOCK);
	rss_before = proc_rss_kb(f.p.pid);
	random_fill(chunk, sizeof(chunk), 5);
	/* Push until the kernel buffers are full both ways and echod stopped reading. */
	while (pushed < (256u << 20) && stalls < 20) {
		ssize_t n = send(hog, chunk, sizeof(chunk), MSG_NOSIGNAL);

		if (n > 0) {
			pushed += (size_t)n;
			stalls = 0;
		} else {
			ck_assert_int_eq(errno, EAGAIN);
			stalls++;
			usleep(10000);
		}
	}
	ck_assert_msg(pushed < (64u << 20), "echod read %zu bytes it could not send", pushed);
	/* Another client is served while the hog sits there. */
	other = tcp_connect_port(AF_INET, f.port);
	ck_assert_int_ge(other, 0);
	check_stream(other, 500000, 6);
	close(other);
	rss_after = proc_rss_kb(f.p.pid);
	fprintf(stderr, "non-reading client: pushed %zu KiB, echod RSS %ld -> %ld KiB\n",
	    pushed >> 10, rss_before, rss_after);
	ck_assert_int_lt(rss_after - rss_before, 8 * 1024);
	close(hog);
	stop_echod(&f);
}
END_TEST

START_TEST(reload_adds_port_and_keeps_connections)
{
	struct fixture f;
	int old_conn, new_port, fd;
	char cmd[600];

	start_echod(&f, worker_counts[_i], NULL);
	old_conn = tcp_connect_port(AF_INET, f.port);
	ck_assert_int_ge(old_conn, 0);
	check_stream(old_conn, 1000, 1);
	new_port = harness_free_port();
	ck_assert_int_lt(tcp_connect_port(AF_INET, new_port), 0);
	/* Append a listener to the running configuration. */
	snprintf(cmd, sizeof(cmd), "sed -i 's|^listeners = (|listeners = (\\n  { protocol = "
	    "\"tcp\"; port = %d; address = \"127.0.0.1\"; },|' '%s'", new_port, f.p.conf);
	ck_assert_int_eq(system(cmd), 0);
	harness_signal(&f.p, SIGHUP);
	ck_assert_int_eq(harness_wait_notify(&f.p, "RELOADING=1", 5000), 0);
	ck_assert_int_eq(harness_wait_notify(&f.p, "READY=1", 5000), 0);
	fd = tcp_connect_port(AF_INET, new_port);
	ck_assert_msg(fd >= 0, "new port %d not served after reload", new_port);
	check_stream(fd, 100000, 2);
	close(fd);
	check_stream(old_conn, 100000, 3);
	close(old_conn);
	stop_echod(&f);
}
END_TEST

/*
 * echod binds its ports itself here: a passed socket stays open when the file
 * drops it (systemd owns it; check_systemd), one of echod's own is closed.
 */
START_TEST(reload_removes_port)
{
	struct fixture f;
	int fd;

	start_echod_as(&f, worker_counts[_i], NULL, true);
	fd = tcp_connect_port(AF_INET, f.port);
	ck_assert_int_ge(fd, 0);
	harness_write_config(&f.p, "listeners = ( { protocol = \"unix\"; path = \"%s\"; } );\n",
	    f.unix_path);
	harness_signal(&f.p, SIGHUP);
	ck_assert_int_eq(harness_wait_notify(&f.p, "READY=1", 5000), 0);
	ck_assert_int_lt(tcp_connect_port(AF_INET, f.port), 0);
	/* The connection made before the listener went away still echoes. */
	check_stream(fd, 50000, 4);
	close(fd);
	stop_echod(&f);
}
END_TEST

START_TEST(bad_reload_keeps_running_config)
{
	struct fixture f;
	int fd;

	start_echod(&f, worker_counts[_i], NULL);
	harness_write_config(&f.p, "listeners = ( { protocol = \"tcp\"; port = 99999; } );\n");
	harness_signal(&f.p, SIGHUP);
	ck_assert_int_eq(harness_wait_notify(&f.p, "READY=1", 5000), 0);
	fd = tcp_connect_port(AF_INET, f.port);
	ck_assert_int_ge(fd, 0);
	check_stream(fd, 10000, 5);
	close(fd);
	udp_roundtrip(AF_INET, f.port, 100);
	stop_echod(&f);
}
END_TEST

START_TEST(idle_connections_are_closed)
{
	struct fixture f;
	int idle, busy;

	start_echod(&f, worker_counts[_i], "idle_timeout = 1;");
	idle = tcp_connect_port(AF_INET, f.port);
	busy = tcp_connect_port(AF_INET, f.port);
	ck_assert_int_ge(idle, 0);
	ck_assert_int_ge(busy, 0);
	check_stream(idle, 10, 1);
	/* The busy one talks every 200 ms and must outlive the idle one. */
	for (int i = 0; i < 20; i++) {
		check_stream(busy, 10, (unsigned)i);
		usleep(200000);
		if (peer_closed(idle, 1))
			break;
	}
	ck_assert_msg(peer_closed(idle, 3000), "idle connection still open");
	check_stream(busy, 10, 77);
	close(idle);
	close(busy);
	stop_echod(&f);
}
END_TEST

START_TEST(max_connections_refuses_extra)
{
	struct fixture f;
	int fds[4], extra;

	start_echod(&f, worker_counts[_i], "max_connections = 3;");
	for (int i = 0; i < 3; i++) {
		fds[i] = tcp_connect_port(AF_INET, f.port);
		ck_assert_int_ge(fds[i], 0);
		check_stream(fds[i], 100, (unsigned)i);
	}
	extra = tcp_connect_port(AF_INET, f.port);
	ck_assert_int_ge(extra, 0);
	ck_assert_msg(peer_closed(extra, 3000), "fourth connection was not closed");
	close(extra);
	/* Once one closes, a new one is served. */
	close(fds[0]);
	usleep(100000);
	fds[3] = tcp_connect_port(AF_INET, f.port);
	ck_assert_int_ge(fds[3], 0);
	check_stream(fds[3], 100, 9);
	for (int i = 1; i < 4; i++)
		close(fds[i]);
	stop_echod(&f);
}
END_TEST

START_TEST(descriptor_exhaustion_does_not_spin)
{
	enum { N = 60 };
	int fds[N], n = 0, fd;
	struct fixture f;
	long before, after;

	if (getenv("ECHOD_VALGRIND") != NULL) {
		fprintf(stderr, "descriptor exhaustion: not run under valgrind, which needs "
		    "descriptors of its own within echod's limit of 40\n");
		return;
	}
	/* 40 descriptors: listeners and internals take ~15, the rest fill up fast. */
	harness_init(&f.p);
	f.port = harness_listen(&f.p, SOCK_STREAM, "127.0.0.1", 0);
	ck_assert_int_gt(f.port, 0);
	harness_write_config(&f.p, "listeners = ( { protocol = \"tcp\"; port = %d; "
	    "address = \"127.0.0.1\"; } );\nworkers = %d;\n", f.port, worker_counts[_i]);
	ck_assert_int_eq(harness_start(&f.p, NULL, 40), 0);
	for (int i = 0; i < N; i++)
		if ((fds[n] = tcp_connect_port(AF_INET, f.port)) >= 0)
			n++;
	usleep(300000);
	before = proc_cpu_ticks(f.p.pid);
	sleep(1);
	after = proc_cpu_ticks(f.p.pid);
	fprintf(stderr, "out of descriptors: echod used %ld ticks of CPU in 1 s\n",
	    after - before);
	/* A spinning loop burns ~100 ticks a second; a paused listener next to nothing. */
	ck_assert_int_lt(after - before, 30);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	/* Service resumes once descriptors are free. */
	fd = tcp_connect_port(AF_INET, f.port);
	ck_assert_int_ge(fd, 0);
	check_stream(fd, 1000, 3);
	close(fd);
	ck_assert_int_eq(harness_stop(&f.p), 0);
	harness_cleanup(&f.p);
}
END_TEST

START_TEST(sigint_and_sigterm_exit_zero)
{
	struct fixture f;

	start_echod(&f, worker_counts[_i], NULL);
	/* The workers, and the control thread (the main one). */
	ck_assert_int_eq(proc_threads(f.p.pid), worker_counts[_i] + 1);
	harness_signal(&f.p, SIGINT);
	ck_assert_int_eq(harness_wait_exit(&f.p, 5000), 0);
	harness_cleanup(&f.p);
}
END_TEST

START_TEST(status_reports_counts)
{
	struct fixture f;
	char status[512] = "";
	int fd;

	start_echod(&f, worker_counts[_i], NULL);
	fd = tcp_connect_port(AF_INET, f.port);
	ck_assert_int_ge(fd, 0);
	check_stream(fd, 1000, 1);
	udp_roundtrip(AF_INET, f.port, 500);
	for (int i = 0; i < 30; i++) {
		ck_assert_int_eq(harness_wait_status(&f.p, status, sizeof(status), 3000), 0);
		if (strstr(status, "; 1 connections_open") != NULL &&
		    strstr(status, "; 1 datagrams_echoed") != NULL &&
		    strstr(status, "; 1500 echoed_bytes") != NULL)
			break;
	}
	ck_assert_ptr_nonnull(strstr(status, "; 1 connections_open"));
	ck_assert_ptr_nonnull(strstr(status, "; 1 datagrams_echoed"));
	ck_assert_ptr_nonnull(strstr(status, "; 1500 echoed_bytes"));
	ck_assert_msg(strncmp(status, "up ", 3) == 0, "no uptime first: %s", status);
	close(fd);
	ck_assert_int_eq(harness_stop(&f.p), 0);
	harness_cleanup(&f.p);
}
END_TEST

/* Command-line behaviour: exit codes other tools rely on. */
START_TEST(command_line_exit_codes)
{
	char out[4096], conf[600];
	const char *help[] = { "--help", NULL };
	const char *version[] = { "-V", NULL };
	const char *bogus[] = { "--bogus", NULL };
	const char *level[] = { "--log-level=loud", "-t", NULL };
	const char *good[] = { "-t", "-c", conf, NULL };
	const char *bad[] = { "--test-config", "--config", conf, NULL };

	ck_assert_int_eq(harness_run(help, out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "--test-config"));
	ck_assert_int_eq(harness_run(version, out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "echod "));
	ck_assert_int_eq(harness_run(bogus, out, sizeof(out)), 64);
	ck_assert_int_eq(harness_run(level, out, sizeof(out)), 64);
	snprintf(conf, sizeof(conf), "%s/valid.conf", getenv("TEST_DATA"));
	ck_assert_int_eq(harness_run(good, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "configuration OK\n");
	snprintf(conf, sizeof(conf), "%s/port-range.conf", getenv("TEST_DATA"));
	ck_assert_int_eq(harness_run(bad, out, sizeof(out)), 78);
	ck_assert_ptr_nonnull(strstr(out, "port-range.conf:4: port 70000 out of range 1..65535"));
	/* A scope only on a link-local address, and only an interface this host has. */
	snprintf(conf, sizeof(conf), "%s/scope-bad.conf", getenv("TEST_DATA"));
	ck_assert_int_eq(harness_run(bad, out, sizeof(out)), 78);
	ck_assert_ptr_nonnull(strstr(out, "scope-bad.conf:2: address '::1%lo': a scope (%lo) is "
	    "only for link-local IPv6 addresses"));
	ck_assert_ptr_nonnull(strstr(out, "scope-bad.conf:3: address 'fe80::1%no-such-if0': no "
	    "interface 'no-such-if0' on this host"));
	snprintf(conf, sizeof(conf), "%s/scope-valid.conf", getenv("TEST_DATA"));
	ck_assert_int_eq(harness_run(good, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "configuration OK\n");
}
END_TEST

START_TEST(listener_in_use_exits_69)
{
	struct echod_proc p;
	char out[4096];
	const char *args[] = { "-c", p.conf, "--log-target=stderr", NULL };
	int port, blocker;

	/* echod binds itself here, onto a port the test holds (and does not pass). */
	harness_init(&p);
	blocker = harness_socket(SOCK_STREAM, "127.0.0.1", 0);
	ck_assert_int_ge(blocker, 0);
	port = harness_socket_port(blocker);
	harness_write_config(&p, "listeners = ( { protocol = \"tcp\"; port = %d; "
	    "address = \"127.0.0.1\"; } );\n", port);
	ck_assert_int_eq(harness_run(args, out, sizeof(out)), 69);
	ck_assert_ptr_nonnull(strstr(out, "Address already in use"));
	close(blocker);
	harness_cleanup(&p);
}
END_TEST

/* A case of its own for test, run with each of worker_counts (and n times that). */
static void
echo_case(Suite *s, const char *name, const TTest *test, int timeout, int n)
{
	tcase_add_loop_test(harness_tcase(s, name, timeout), test, 0,
	    n * (int)(sizeof(worker_counts) / sizeof(worker_counts[0])));
}

static Suite *
echo_suite(void)
{
	Suite *s = suite_create("echo");
	TCase *tc;

	echo_case(s, "tcp sizes", tcp_echo_sizes, 120, 1);
	echo_case(s, "tcp rounds", tcp_many_messages_one_connection, 30, 1);
	echo_case(s, "udp sizes", udp_echo_sizes, 30, 1);
	echo_case(s, "ipv6 and unix", ipv6_and_unix_streams, 30, 1);
	/* Twice: a passed [::] socket, and one echod binds. */
	echo_case(s, "udp wildcard source", udp_wildcard_replies_from_the_destination_address,
	    30, 2);
	echo_case(s, "udp dscp", udp_reflects_dscp, 30, 1);
	echo_case(s, "half-close", half_close_flushes_then_closes, 60, 1);
	echo_case(s, "1000 connections", thousand_concurrent_connections, 60, 1);
	echo_case(s, "non-reading client", non_reading_client_is_bounded, 60, 1);
	echo_case(s, "reload adds", reload_adds_port_and_keeps_connections, 30, 1);
	echo_case(s, "reload removes", reload_removes_port, 30, 1);
	echo_case(s, "bad reload", bad_reload_keeps_running_config, 30, 1);
	echo_case(s, "idle timeout", idle_connections_are_closed, 30, 1);
	echo_case(s, "max_connections", max_connections_refuses_extra, 30, 1);
	echo_case(s, "EMFILE", descriptor_exhaustion_does_not_spin, 30, 1);
	echo_case(s, "signals", sigint_and_sigterm_exit_zero, 30, 1);
	echo_case(s, "status", status_reports_counts, 60, 1);
	tc = harness_tcase(s, "command line", 30);
	tcase_add_test(tc, command_line_exit_codes);
	tcase_add_test(tc, listener_in_use_exits_69);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(echo_suite());
	struct rlimit rl;
	int failed;

	/* 1000 client sockets plus the harness's own. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return harness_exit_status(failed, false);
}
