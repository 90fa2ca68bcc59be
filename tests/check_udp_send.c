/* SPDX-License-Identifier: MIT */
/* check_udp_send: what udp_cb() does when sendmmsg() fails, by kind of error. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "guard_conf.h"
#include "log.h"
#include "loop.h"
#include "rig-generation.h"
#include "udp.h"

/* One batch in udp.c: one recvmmsg() takes them all, one sendmmsg() should answer them. */
#define NDGRAM	16

/* udp.c's test seam; declared there, not in udp.h. */

/*
 * The script: the first call sends only `part` replies (0: it fails too);
 * then `fails` calls fail with `error` (-1: all of them); then sendmmsg().
 */
static struct script {
	int calls, part, fails, error;
} script;

static int
fake_sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	if (++script.calls == 1 && script.part > 0)
		return sendmmsg(fd, v, (unsigned)script.part, flags);
	if (script.fails == 0)
		return sendmmsg(fd, v, n, flags);
	if (script.fails > 0)
		script.fails--;
	errno = script.error;
	return -1;
}

struct rig {
	struct loop *loop;
	struct guard guard;
	struct echo_stats stats;
	struct listener_stats *ls;
	struct udp_worker uw;
	struct udp_watch port;
	struct listener_spec spec;
	struct generation_slot slot;	/* what the worker serves by */
	int server, client;
};

static void
rig_open(struct rig *r)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	struct echod_config cfg;

	memset(r, 0, sizeof(*r));
	memset(&cfg, 0, sizeof(cfg));
	log_init(LOG_TARGET_STDERR, LOG_ERR);
	r->loop = loop_new();
	ck_assert_ptr_nonnull(r->loop);
	ck_assert_int_eq(guard_conf_init(&r->guard, &cfg), 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->server = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	r->client = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ck_assert(r->server != -1 && r->client != -1);
	ck_assert_int_eq(bind(r->server, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(r->server, (struct sockaddr *)&sin, &len), 0);
	ck_assert_int_eq(connect(r->client, (struct sockaddr *)&sin, sizeof(sin)), 0);
	rig_generation_publish(&r->slot, r, &r->spec, &cfg);
	r->ls = listener_stats_new("udp test", "udp", STATS_DGRAM, 1);
	ck_assert_ptr_nonnull(r->ls);
	ck_assert_int_eq(udp_worker_init(&r->uw, r->loop, &r->guard, &r->slot, &r->stats, 0,
	    NULL), 0);
	ck_assert_int_eq(udp_watch_start(&r->port, &r->uw, r->server, ntohs(sin.sin_port),
	    r, r->ls), 0);
}

/* NDGRAM datagrams in, one readiness event; returns how many echoes came back. */
static int
rig_echo(struct rig *r)
{
	char buf[64];
	int got = 0;

	memset(buf, 'x', sizeof(buf));
	for (int i = 0; i < NDGRAM; i++)
		ck_assert_int_eq(send(r->client, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	r->port.w.cb(r->server, EPOLLIN, &r->port);
	while (recv(r->client, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf))
		got++;
	return got;
}

static void
rig_close(struct rig *r)
{
	udp_sendmmsg_set(NULL);
	udp_watch_stop(&r->port, false);
	udp_worker_fini(&r->uw);
	listener_stats_release(r->ls);
	guard_fini(&r->guard);
	rig_generation_free(&r->slot);
	close(r->server);
	close(r->client);
	loop_free(r->loop);
}

static void
expect(struct rig *r, int echoed, int failed)
{
	/* Nothing is refused here: every datagram dropped is a failed send. */
	ck_assert_uint_eq(stats_get(&r->stats, STAT_datagrams_echoed), (uint64_t)echoed);
	ck_assert_uint_eq(stats_get(&r->stats, STAT_datagrams_dropped), (uint64_t)failed);
	/* The listener's slot counts the same. */
	ck_assert_uint_eq(stats_get(&r->ls->slot[0], STAT_datagrams_echoed), (uint64_t)echoed);
	ck_assert_uint_eq(stats_get(&r->ls->slot[0], STAT_datagrams_dropped), (uint64_t)failed);
}

/* A full send buffer: one failing call drops the whole batch, not sixteen. */
START_TEST(test_eagain_drops_rest)
{
	static const int errors[] = { EAGAIN, ENOBUFS, ENOMEM };
	struct rig r;

	rig_open(&r);
	script = (struct script){ .fails = -1, .error = errors[_i] };
	udp_sendmmsg_set(fake_sendmmsg);
	ck_assert_int_eq(rig_echo(&r), 0);
	ck_assert_int_eq(script.calls, 1);
	expect(&r, 0, NDGRAM);
	rig_close(&r);
}
END_TEST

/* Out of room after part of the batch went: the rest is dropped by the next call alone. */
START_TEST(test_eagain_after_partial)
{
	struct rig r;

	rig_open(&r);
	script = (struct script){ .part = 4, .fails = -1, .error = EAGAIN };
	udp_sendmmsg_set(fake_sendmmsg);
	ck_assert_int_eq(rig_echo(&r), 4);
	ck_assert_int_eq(script.calls, 2);
	expect(&r, 4, NDGRAM - 4);
	rig_close(&r);
}
END_TEST

/* A firewall refusing one reply (EPERM) costs that reply only: the rest still go. */
START_TEST(test_eperm_skips_one)
{
	static const int errors[] = { EPERM, EHOSTUNREACH, EINVAL };
	struct rig r;

	rig_open(&r);
	script = (struct script){ .fails = 1, .error = errors[_i] };
	udp_sendmmsg_set(fake_sendmmsg);
	ck_assert_int_eq(rig_echo(&r), NDGRAM - 1);
	ck_assert_int_eq(script.calls, 2);
	expect(&r, NDGRAM - 1, 1);
	rig_close(&r);
}
END_TEST

/* A datagram-specific error every time: each reply is tried once, none twice. */
START_TEST(test_eperm_each)
{
	struct rig r;

	rig_open(&r);
	script = (struct script){ .fails = -1, .error = EPERM };
	udp_sendmmsg_set(fake_sendmmsg);
	ck_assert_int_eq(rig_echo(&r), 0);
	ck_assert_int_eq(script.calls, NDGRAM);
	expect(&r, 0, NDGRAM);
	rig_close(&r);
}
END_TEST

static Suite *
udp_send_suite(void)
{
	Suite *s = suite_create("udp_send");
	TCase *tc = tcase_create("send_errors");

	tcase_set_timeout(tc, 10);
	tcase_add_loop_test(tc, test_eagain_drops_rest, 0, 3);
	tcase_add_test(tc, test_eagain_after_partial);
	tcase_add_loop_test(tc, test_eperm_skips_one, 0, 3);
	tcase_add_test(tc, test_eperm_each);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(udp_send_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
