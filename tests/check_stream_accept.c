/* SPDX-License-Identifier: MIT */
/* check_stream_accept: a listener paused out of descriptors comes back, even after a failure. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stream-rig.h"

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
	c = rig_client(&r);
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
	c = rig_client(&r);
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
