/* SPDX-License-Identifier: MIT */
/* check_stream_accept: a listener paused out of descriptors comes back, even after a failure. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "guard_conf.h"
#include "log.h"
#include "loop.h"
#include "rig-generation.h"
#include "stream.h"

/* The script: the next `fails` calls of stream_watch_resume()'s loop_add() fail. */
static struct script {
	int calls, fails;
} script;

static int
fake_loop_add(struct loop *loop, struct watcher *w, int fd, uint32_t events, loop_cb *cb,
    void *arg)
{
	script.calls++;
	if (script.fails > 0) {
		script.fails--;
		errno = ENOMEM;
		return -1;
	}
	return loop_add(loop, w, fd, events, cb, arg);
}

struct rig {
	struct loop *loop;
	struct guard guard;
	struct stream_shared shared;
	struct echo_stats stats;
	struct listener_stats *ls;
	struct stream_worker sw;
	struct stream_watch watch;
	struct listener_spec spec;
	struct generation_slot slot;	/* what the worker serves by */
	int server, port;
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
	atomic_init(&r->shared.max_connections, 16);
	atomic_init(&r->shared.buffer_size, 4096);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->server = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(r->server, 0);
	ck_assert_int_eq(bind(r->server, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(r->server, 16), 0);
	ck_assert_int_eq(getsockname(r->server, (struct sockaddr *)&sin, &len), 0);
	r->port = ntohs(sin.sin_port);
	rig_generation_publish(&r->slot, r, &r->spec, &cfg);
	r->ls = listener_stats_new("tcp test", "tcp", STATS_STREAM, 1);
	ck_assert_ptr_nonnull(r->ls);
	ck_assert_int_eq(stream_worker_init(&r->sw, r->loop, &r->shared, &r->guard, &r->slot,
	    &r->stats, 0), 0);
	ck_assert_int_eq(stream_watch_start(&r->watch, &r->sw, r->server, true, r, r->ls), 0);
}

static void
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

/* A client connected to the rig (in the backlog until accepted). */
static int
client(const struct rig *r)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(r->port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

/* accept() fails with EMFILE for as long as the limit is lowered: the worker pauses. */
static void
pause_out_of_descriptors(struct rig *r)
{
	struct rlimit saved, low;
	int lowest = dup(0);

	ck_assert_int_ge(lowest, 0);
	close(lowest);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);
	low = saved;
	/* The lowest free descriptor is the first one over the limit. */
	low.rlim_cur = (rlim_t)lowest;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	loop_run_once(r->loop, 1000);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);
	ck_assert(r->watch.paused);
	ck_assert_ptr_eq(r->sw.paused, &r->watch);
	ck_assert_uint_eq(stats_get(&r->stats, STAT_connections_accepted), 0);
}

/*
 * Issue 23: stream_watch_resume() marked the watch unpaused and took it off
 * the list before loop_add(); when that failed, no later tick tried again
 * and the worker never accepted on that listener again.
 */
START_TEST(failed_resume_stays_paused_and_retries)
{
	struct rig r;
	uint64_t next;
	int c;

	rig_open(&r);
	c = client(&r);
	pause_out_of_descriptors(&r);
	stream_resume_add_set(fake_loop_add);
	script = (struct script){ .fails = 1 };
	next = stream_worker_tick(&r.sw, r.sw.resume_at);
	ck_assert_int_eq(script.calls, 1);
	ck_assert(r.watch.paused);
	ck_assert_ptr_eq(r.sw.paused, &r.watch);
	/* Not at once (no spin), but surely: the tick asks to run again later. */
	ck_assert_uint_gt(next, loop_now(r.loop));
	ck_assert_uint_ne(next, UINT64_MAX);
	next = stream_worker_tick(&r.sw, next);
	ck_assert_int_eq(script.calls, 2);
	ck_assert(!r.watch.paused);
	ck_assert_ptr_null(r.sw.paused);
	/* In the loop again: the connection waiting in the backlog is accepted. */
	loop_run_once(r.loop, 1000);
	ck_assert_uint_eq(stats_get(&r.stats, STAT_connections_accepted), 1);
	close(c);
	rig_close(&r);
}
END_TEST

/* Without failures: resumed on the first tick after the pause, as before. */
START_TEST(resume_after_pause_accepts)
{
	struct rig r;
	int c;

	rig_open(&r);
	c = client(&r);
	pause_out_of_descriptors(&r);
	stream_worker_tick(&r.sw, r.sw.resume_at);
	ck_assert(!r.watch.paused);
	loop_run_once(r.loop, 1000);
	ck_assert_uint_eq(stats_get(&r.stats, STAT_connections_accepted), 1);
	close(c);
	rig_close(&r);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("stream_accept");
	TCase *tc = tcase_create("pause");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, resume_after_pause_accepts);
	tcase_add_test(tc, failed_resume_stays_paused_and_retries);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
