/* SPDX-License-Identifier: MIT */
/* check_mpsc_ring: the refusal queue; concurrent producers, one consumer, a full ring. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mpsc_ring.h"

#define PRODUCERS	4
#define EACH		50000

/* A record as a worker would push it: who, which, and filler to make copies torn if racy. */
struct rec {
	uint32_t producer;
	uint32_t n;
	uint64_t check;			/* a function of the two: a torn copy shows */
	char pad[40];
};

static uint64_t
rec_check(uint32_t producer, uint32_t n)
{
	return ((uint64_t)producer << 32 | n) * UINT64_C(0x9e3779b97f4a7c15);
}

struct producer {
	struct mpsc_ring *r;
	uint32_t id;
	bool retry;			/* retry a full push (below capacity it never is) */
	_Atomic uint64_t *pushed, *full;
};

static void *
producer_thread(void *arg)
{
	struct producer *p = arg;

	for (uint32_t i = 0; i < EACH; i++) {
		struct rec r = { .producer = p->id, .n = i, .check = rec_check(p->id, i) };

		memset(r.pad, (int)(i & 0xff), sizeof(r.pad));
		while (!mpsc_ring_push(p->r, &r)) {
			atomic_fetch_add(p->full, 1);
			if (!p->retry)
				goto next;
		}
		atomic_fetch_add(p->pushed, 1);
next:
		;
	}
	return NULL;
}

START_TEST(new_rejects_nonsense)
{
	struct mpsc_ring *r;

	errno = 0;
	ck_assert_ptr_null(mpsc_ring_new(0, 8));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(mpsc_ring_new(8, 0));
	ck_assert_int_eq(errno, EINVAL);
	r = mpsc_ring_new(5, 8);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(mpsc_ring_capacity(r), 8);
	mpsc_ring_free(r);
}
END_TEST

/* One thread: FIFO, full at capacity, room again after a pop, many laps. */
START_TEST(full_then_room)
{
	struct mpsc_ring *r = mpsc_ring_new(8, sizeof(uint64_t));
	uint64_t v, next = 0, want = 0;

	ck_assert_ptr_nonnull(r);
	ck_assert(!mpsc_ring_pop(r, &v));
	for (int lap = 0; lap < 100; lap++) {
		while (mpsc_ring_push(r, &next))
			next++;
		ck_assert_uint_eq(next - want, 8);
		ck_assert(mpsc_ring_pop(r, &v));
		ck_assert_uint_eq(v, want++);
		ck_assert(mpsc_ring_push(r, &next));
		next++;
		ck_assert(!mpsc_ring_push(r, &next));
		while (mpsc_ring_pop(r, &v))
			ck_assert_uint_eq(v, want++);
		ck_assert_uint_eq(want, next);
	}
	mpsc_ring_free(r);
}
END_TEST

static void
run_producers(struct mpsc_ring *r, bool retry, _Atomic uint64_t *pushed, _Atomic uint64_t *full,
    pthread_t tid[PRODUCERS], struct producer p[PRODUCERS])
{
	for (uint32_t i = 0; i < PRODUCERS; i++) {
		p[i] = (struct producer){ .r = r, .id = i, .retry = retry, .pushed = pushed,
		    .full = full };
		ck_assert_int_eq(pthread_create(&tid[i], NULL, producer_thread, &p[i]), 0);
	}
}

/*
 * Below capacity (the ring holds everything all producers push) while the
 * consumer pops concurrently: every record once, whole, each producer's in order.
 */
START_TEST(concurrent_nothing_lost_or_duplicated)
{
	struct mpsc_ring *r = mpsc_ring_new(PRODUCERS * EACH, sizeof(struct rec));
	static uint32_t next[PRODUCERS];
	_Atomic uint64_t pushed = 0, full = 0;
	struct producer p[PRODUCERS];
	pthread_t tid[PRODUCERS];
	uint64_t got = 0;
	struct rec rec;

	ck_assert_ptr_nonnull(r);
	memset(next, 0, sizeof(next));
	run_producers(r, false, &pushed, &full, tid, p);
	while (got < (uint64_t)PRODUCERS * EACH) {
		if (!mpsc_ring_pop(r, &rec)) {
			sched_yield();
			continue;
		}
		ck_assert_uint_lt(rec.producer, PRODUCERS);
		ck_assert_uint_eq(rec.check, rec_check(rec.producer, rec.n));
		ck_assert_uint_eq(rec.n, next[rec.producer]);
		next[rec.producer]++;
		got++;
	}
	for (int i = 0; i < PRODUCERS; i++)
		pthread_join(tid[i], NULL);
	ck_assert(!mpsc_ring_pop(r, &rec));
	ck_assert_uint_eq(atomic_load(&full), 0);
	ck_assert_uint_eq(atomic_load(&pushed), (uint64_t)PRODUCERS * EACH);
	mpsc_ring_free(r);
}
END_TEST

/*
 * A small ring, producers that do not retry, the consumer popping meanwhile:
 * every push that failed is counted, every one that succeeded comes out once.
 */
START_TEST(concurrent_full_counted)
{
	struct mpsc_ring *r = mpsc_ring_new(64, sizeof(struct rec));
	static uint32_t last[PRODUCERS];
	_Atomic uint64_t pushed = 0, full = 0;
	struct producer p[PRODUCERS];
	pthread_t tid[PRODUCERS];
	uint64_t got = 0;
	struct rec rec;

	ck_assert_ptr_nonnull(r);
	memset(last, 0, sizeof(last));
	run_producers(r, false, &pushed, &full, tid, p);
	for (int i = 0; i < PRODUCERS; i++)
		pthread_join(tid[i], NULL);
	/* Joined with nobody popping: at least the ring's worth came in, the rest was full. */
	while (mpsc_ring_pop(r, &rec)) {
		ck_assert_uint_eq(rec.check, rec_check(rec.producer, rec.n));
		/* In order per producer, never twice (n + 1: 0 means none yet). */
		ck_assert_uint_gt(rec.n + 1, last[rec.producer]);
		last[rec.producer] = rec.n + 1;
		got++;
	}
	ck_assert_uint_eq(got, atomic_load(&pushed));
	ck_assert_uint_eq(got, 64);
	ck_assert_uint_eq(atomic_load(&pushed) + atomic_load(&full), (uint64_t)PRODUCERS * EACH);
	mpsc_ring_free(r);
}
END_TEST

/* Producers retry when full while the consumer pops: over many laps, still each once. */
START_TEST(concurrent_laps)
{
	struct mpsc_ring *r = mpsc_ring_new(16, sizeof(struct rec));
	static uint32_t next[PRODUCERS];
	_Atomic uint64_t pushed = 0, full = 0;
	struct producer p[PRODUCERS];
	pthread_t tid[PRODUCERS];
	uint64_t got = 0;
	struct rec rec;

	ck_assert_ptr_nonnull(r);
	memset(next, 0, sizeof(next));
	run_producers(r, true, &pushed, &full, tid, p);
	while (got < (uint64_t)PRODUCERS * EACH) {
		if (!mpsc_ring_pop(r, &rec)) {
			sched_yield();
			continue;
		}
		ck_assert_uint_eq(rec.check, rec_check(rec.producer, rec.n));
		ck_assert_uint_eq(rec.n, next[rec.producer]);
		next[rec.producer]++;
		got++;
	}
	for (int i = 0; i < PRODUCERS; i++)
		pthread_join(tid[i], NULL);
	ck_assert(!mpsc_ring_pop(r, &rec));
	ck_assert_uint_eq(atomic_load(&pushed), (uint64_t)PRODUCERS * EACH);
	mpsc_ring_free(r);
}
END_TEST

static Suite *
mpsc_ring_suite(void)
{
	Suite *s = suite_create("mpsc_ring");
	TCase *tc = tcase_create("ring");
	TCase *threads = tcase_create("threads");

	tcase_add_test(tc, new_rejects_nonsense);
	tcase_add_test(tc, full_then_room);
	suite_add_tcase(s, tc);
	tcase_set_timeout(threads, 60);
	tcase_add_test(threads, concurrent_nothing_lost_or_duplicated);
	tcase_add_test(threads, concurrent_full_counted);
	tcase_add_test(threads, concurrent_laps);
	suite_add_tcase(s, threads);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(mpsc_ring_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
