/* SPDX-License-Identifier: MIT */
/* check_loop: the epoll loop on pipes only: watchers, the hook, deadlines, stop, EINTR. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <check.h>

#include "clock.h"
#include "loop.h"

/* What a watcher's callback saw. */
struct seen {
	int calls;
	int fd;
	uint32_t events;
	struct loop *stop;		/* non-NULL: read a byte and loop_stop() it */
};

static void
seen_cb(int fd, uint32_t events, void *arg)
{
	struct seen *s = arg;
	char c;

	s->calls++;
	s->fd = fd;
	s->events = events;
	if (s->stop != NULL) {
		ck_assert_int_eq(read(fd, &c, 1), 1);
		loop_stop(s->stop);
	}
}

struct fixture {
	struct loop *loop;
	int fds[2];
	struct watcher w;
	struct seen seen;
};

static void
fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->loop = loop_new();
	ck_assert_ptr_nonnull(f->loop);
	ck_assert_int_eq(pipe(f->fds), 0);
}

static void
fixture_fini(struct fixture *f)
{
	close(f->fds[0]);
	close(f->fds[1]);
	loop_free(f->loop);
}

START_TEST(readable_watcher_fires_with_fd_events_and_arg)
{
	struct fixture f;

	fixture_init(&f);
	ck_assert_int_eq(loop_add(f.loop, &f.w, f.fds[0], EPOLLIN, seen_cb, &f.seen), 0);
	/* Nothing to read: nothing runs. */
	ck_assert_int_eq(loop_run_once(f.loop, 0), 0);
	ck_assert_int_eq(f.seen.calls, 0);
	ck_assert_int_eq(write(f.fds[1], "x", 1), 1);
	ck_assert_int_eq(loop_run_once(f.loop, 1000), 1);
	ck_assert_int_eq(f.seen.calls, 1);
	ck_assert_int_eq(f.seen.fd, f.fds[0]);
	ck_assert(f.seen.events & EPOLLIN);
	/* Level-triggered: still unread, so it fires again. */
	ck_assert_int_eq(loop_run_once(f.loop, 0), 1);
	ck_assert_int_eq(f.seen.calls, 2);
	fixture_fini(&f);
}
END_TEST

START_TEST(mod_changes_events_and_skips_unchanged)
{
	struct fixture f;

	fixture_init(&f);
	ck_assert_int_eq(loop_add(f.loop, &f.w, f.fds[1], EPOLLOUT, seen_cb, &f.seen), 0);
	ck_assert_int_eq(loop_run_once(f.loop, 1000), 1);
	ck_assert(f.seen.events & EPOLLOUT);
	/* Writable still, but no longer asked about. */
	ck_assert_int_eq(loop_mod(f.loop, &f.w, 0), 0);
	ck_assert_int_eq(f.w.events, 0);
	ck_assert_int_eq(loop_run_once(f.loop, 0), 0);
	ck_assert_int_eq(f.seen.calls, 1);
	ck_assert_int_eq(loop_mod(f.loop, &f.w, EPOLLOUT), 0);
	ck_assert_int_eq(loop_run_once(f.loop, 0), 1);
	ck_assert_int_eq(f.seen.calls, 2);
	/* Unchanged events: no system call, so even a stale fd is no error. */
	f.w.fd = -1;
	ck_assert_int_eq(loop_mod(f.loop, &f.w, EPOLLOUT), 0);
	f.w.fd = f.fds[1];
	fixture_fini(&f);
}
END_TEST

START_TEST(deleted_watcher_no_longer_fires)
{
	struct fixture f;

	fixture_init(&f);
	ck_assert_int_eq(loop_add(f.loop, &f.w, f.fds[0], EPOLLIN, seen_cb, &f.seen), 0);
	ck_assert_int_eq(loop_del(f.loop, &f.w), 0);
	ck_assert_int_eq(write(f.fds[1], "x", 1), 1);
	ck_assert_int_eq(loop_run_once(f.loop, 0), 0);
	ck_assert_int_eq(f.seen.calls, 0);
	/* Twice: the kernel says it is not there. */
	ck_assert_int_eq(loop_del(f.loop, &f.w), -1);
	ck_assert_int_eq(errno, ENOENT);
	/* Added twice: EEXIST, errno meaningful. */
	ck_assert_int_eq(loop_add(f.loop, &f.w, f.fds[0], EPOLLIN, seen_cb, &f.seen), 0);
	ck_assert_int_eq(loop_add(f.loop, &f.w, f.fds[0], EPOLLIN, seen_cb, &f.seen), -1);
	ck_assert_int_eq(errno, EEXIST);
	fixture_fini(&f);
}
END_TEST

START_TEST(stop_from_a_callback_ends_run)
{
	struct fixture f;

	fixture_init(&f);
	f.seen.stop = f.loop;
	ck_assert_int_eq(loop_add(f.loop, &f.w, f.fds[0], EPOLLIN, seen_cb, &f.seen), 0);
	ck_assert_int_eq(write(f.fds[1], "x", 1), 1);
	ck_assert_int_eq(loop_run(f.loop), 0);
	ck_assert_int_eq(f.seen.calls, 1);
	/* loop_run() starts afresh: a stop before it is not carried over. */
	ck_assert_int_eq(write(f.fds[1], "y", 1), 1);
	ck_assert_int_eq(loop_run(f.loop), 0);
	ck_assert_int_eq(f.seen.calls, 2);
	fixture_fini(&f);
}
END_TEST

/* A hook that sets a deadline on its first call and stops the loop on its second. */
struct timed {
	int calls;
	uint64_t first_ms, second_ms;
	uint64_t far_ms, near_ms;	/* deadlines after the first call, relative */
};

static void
timed_hook(struct loop *loop, void *arg)
{
	struct timed *t = arg;

	if (++t->calls == 1) {
		t->first_ms = loop_now(loop);
		/* The earliest deadline wins, whatever the order. */
		loop_wake_at(loop, t->first_ms + t->far_ms);
		loop_wake_at(loop, t->first_ms + t->near_ms);
		loop_wake_at(loop, t->first_ms + t->far_ms);
		return;
	}
	t->second_ms = clock_monotonic_ms();
	loop_stop(loop);
}

START_TEST(wake_at_deadline_runs_the_hook)
{
	struct loop *loop = loop_new();
	struct timed t = { .far_ms = 10000, .near_ms = 30 };
	uint64_t start = clock_monotonic_ms();

	ck_assert_ptr_nonnull(loop);
	loop_set_hook(loop, timed_hook, &t);
	/* Nothing watched: the first batch (timeout 0) and then the deadline. */
	loop_wake_at(loop, 0);
	ck_assert_int_eq(loop_run(loop), 0);
	ck_assert_int_eq(t.calls, 2);
	ck_assert_uint_ge(t.second_ms, t.first_ms + t.near_ms);
	ck_assert_uint_lt(t.second_ms - start, t.far_ms);
	/* loop_now() moves with each batch. */
	ck_assert_uint_ge(loop_now(loop), t.first_ms + t.near_ms);
	loop_free(loop);
}
END_TEST

static int hook_calls;

static void
count_hook(struct loop *loop, void *arg)
{
	(void)loop;
	(void)arg;
	hook_calls++;
}

static void
alarm_handler(int sig)
{
	(void)sig;
}

/* A signal during epoll_wait() is flow control: no error, the hook still runs. */
START_TEST(eintr_is_not_an_error)
{
	struct fixture f;
	struct sigaction sa;
	struct itimerval it = { .it_value = { 0, 20000 } };

	fixture_init(&f);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = alarm_handler;	/* no SA_RESTART: epoll_wait() fails with EINTR */
	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	ck_assert_int_eq(loop_add(f.loop, &f.w, f.fds[0], EPOLLIN, seen_cb, &f.seen), 0);
	loop_set_hook(f.loop, count_hook, NULL);
	hook_calls = 0;
	ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	ck_assert_int_eq(loop_run_once(f.loop, 5000), 0);
	ck_assert_int_eq(f.seen.calls, 0);
	ck_assert_int_eq(hook_calls, 1);
	/* And the loop goes on serving afterwards. */
	ck_assert_int_eq(write(f.fds[1], "x", 1), 1);
	ck_assert_int_eq(loop_run_once(f.loop, 1000), 1);
	ck_assert_int_eq(f.seen.calls, 1);
	fixture_fini(&f);
}
END_TEST

static Suite *
loop_suite(void)
{
	Suite *s = suite_create("loop");
	TCase *tc = tcase_create("watchers");
	TCase *tt = tcase_create("time");

	tcase_add_test(tc, readable_watcher_fires_with_fd_events_and_arg);
	tcase_add_test(tc, mod_changes_events_and_skips_unchanged);
	tcase_add_test(tc, deleted_watcher_no_longer_fires);
	tcase_add_test(tc, stop_from_a_callback_ends_run);
	tcase_set_timeout(tc, 10);
	suite_add_tcase(s, tc);
	tcase_add_test(tt, wake_at_deadline_runs_the_hook);
	tcase_add_test(tt, eintr_is_not_an_error);
	tcase_set_timeout(tt, 10);
	suite_add_tcase(s, tt);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(loop_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
