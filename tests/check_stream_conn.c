/* SPDX-License-Identifier: MIT */
/* check_stream_conn: stream echo (order, back-pressure, half-close, idle, limits) and budget.c. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "budget.h"
#include "stream-rig.h"

/*
 * Rounds of the loop (10 ms each at most) with no event and no byte moved:
 * after QUIET_ROUNDS, peers that never read have stalled the worker; after
 * STUCK_ROUNDS, what a test waits for is not coming (the test fails). Loopback
 * needs no timer but TCP's delayed ACK (40 ms to 200 ms).
 */
#define QUIET_ROUNDS	30
#define STUCK_ROUNDS	200
/* What the tests ask of the kernel for the worker's side: small, so buffering starts early. */
#define SMALL_SNDBUF	4096

/* The byte at offset off of every stream: no short period, so a reordering shows. */
static uint8_t
pattern_at(size_t off)
{
	uint32_t x = (uint32_t)off * 2654435761u;

	return (uint8_t)((x >> 24) ^ (x >> 11));
}

/* One peer's traffic: bytes sent and echoed so far. */
struct flow {
	int fd;
	size_t sent, got;
	bool eof;
};

/* Send up to n more bytes of the pattern; returns what the socket took (0: it is full). */
static size_t
flow_send(struct flow *f, size_t n)
{
	uint8_t buf[8192];
	size_t done = 0;

	while (done < n) {
		size_t k = n - done < sizeof(buf) ? n - done : sizeof(buf);
		ssize_t w;

		for (size_t i = 0; i < k; i++)
			buf[i] = pattern_at(f->sent + i);
		w = send(f->fd, buf, k, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w == -1) {
			ck_assert_msg(errno == EAGAIN, "send: %s", strerror(errno));
			break;
		}
		f->sent += (size_t)w;
		done += (size_t)w;
	}
	return done;
}

/* Take the echo that is there; each byte must be the next one sent. Returns bytes read. */
static size_t
flow_recv(struct flow *f)
{
	uint8_t buf[8192];
	size_t total = 0;

	for (;;) {
		ssize_t n = recv(f->fd, buf, sizeof(buf), MSG_DONTWAIT), i = 0;

		if (n == -1) {
			ck_assert_msg(errno == EAGAIN, "recv: %s", strerror(errno));
			return total;
		}
		if (n == 0) {
			f->eof = true;
			return total;
		}
		/* One assertion per read, not per byte: Check records each one that passes. */
		while (i < n && buf[i] == pattern_at(f->got + (size_t)i))
			i++;
		ck_assert_msg(i == n, "echo byte %zu out of order", f->got + (size_t)i);
		f->got += (size_t)n;
		total += (size_t)n;
		ck_assert_uint_le(f->got, f->sent);
	}
}

/*
 * One round of the worker. Every round of every test also checks the
 * promise of max_buffered_bytes: what all connections hold never exceeds it.
 */
static int
turn(struct rig *r)
{
	long max = atomic_load(&r->shared.budget.max);
	int n = loop_run_once(r->loop, 10);

	ck_assert_int_ge(n, 0);
	if (max > 0)
		ck_assert_int_le(budget_used(&r->shared.budget), max);
	return n;
}

static uint64_t
count(const struct rig *r, enum stat_id id)
{
	return stats_get(&r->stats, id);
}

static uint64_t
refused(const struct rig *r, enum refusal_reason why)
{
	return count(r, (enum stat_id)(STAT_refused + why));
}

/* Run the loop until a counter reaches want, or the worker has gone quiet. */
static void
turn_until(struct rig *r, enum stat_id id, uint64_t want)
{
	for (int quiet = 0; count(r, id) < want && quiet < STUCK_ROUNDS; )
		quiet = turn(r) == 0 ? quiet + 1 : 0;
	ck_assert_uint_eq(count(r, id), want);
}

static void
rig_limits(struct rig *r, long buffer_size, long max_buffered, long idle, long max_connections)
{
	struct stream_limits l = {
		.max_connections = max_connections,
		.idle_timeout = idle,
		.buffer_size = buffer_size,
		.max_buffered_bytes = max_buffered,
	};

	stream_shared_set_limits(&r->shared, &l);
}

/*
 * A peer served from one end of a socketpair, admitted as an accepted Unix
 * client is. The worker's end sends little at a time, so echo the peer does
 * not read piles up in the worker (the case the budget is for) within a few KiB.
 */
static struct flow
pair_peer(struct rig *r)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int sv[2], small = SMALL_SNDBUF;
	uint64_t accepted = count(r, STAT_connections_accepted);

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv),
	    0);
	ck_assert_int_eq(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	/* A Unix peer: the guard asks nothing of it, the policy is never read. */
	stream_admit(&r->watch, sv[1], (struct sockaddr *)&un, NULL, NULL);
	ck_assert_uint_eq(count(r, STAT_connections_accepted), accepted + 1);
	return (struct flow){ .fd = sv[0] };
}

/*
 * A TCP client through the rig's listener, once the worker has accepted it.
 * small: small kernel buffers on both sides (accepted sockets inherit the
 * listener's), so that echo the client does not read piles up in the worker
 * soon; each buffer's worth then waits for a delayed ACK: keep it to a few.
 */
static struct flow
tcp_peer(struct rig *r, bool small)
{
	uint64_t accepted = count(r, STAT_connections_accepted);
	int size = small ? SMALL_SNDBUF : 0;
	struct flow f;

	if (small) {
		ck_assert_int_eq(setsockopt(r->server, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)),
		    0);
		ck_assert_int_eq(setsockopt(r->server, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)),
		    0);
	}
	f = (struct flow){ .fd = rig_client_buffers(r, size) };
	turn_until(r, STAT_connections_accepted, accepted + 1);
	return f;
}

/* Send n bytes, reading echo and running the worker whenever the socket is full. */
static void
flow_push(struct rig *r, struct flow *f, size_t n)
{
	for (int quiet = 0; n > 0 && quiet < STUCK_ROUNDS; ) {
		size_t k = flow_send(f, n), got;

		n -= k;
		if (n == 0)
			break;
		/* Read first: a worker waiting for the peer to read has nothing to do. */
		got = flow_recv(f);
		quiet = turn(r) == 0 && k == 0 && got == 0 ? quiet + 1 : 0;
	}
	ck_assert_uint_eq(n, 0);
}

/* Read until every byte sent has come back (the worker stalls: the test fails). */
static void
flow_drain(struct rig *r, struct flow *f)
{
	for (int quiet = 0; f->got < f->sent && quiet < STUCK_ROUNDS; ) {
		size_t got = flow_recv(f);

		quiet = turn(r) == 0 && got == 0 ? quiet + 1 : 0;
	}
	ck_assert_uint_eq(f->got, f->sent);
}

/* Peers that write and never read: write until no socket takes more and the worker is quiet. */
static void
flows_stall(struct rig *r, struct flow *f, size_t n)
{
	for (int quiet = 0; quiet < QUIET_ROUNDS; ) {
		size_t k = 0;

		for (size_t i = 0; i < n; i++)
			k += flow_send(&f[i], 1 << 20);
		quiet = turn(r) == 0 && k == 0 ? quiet + 1 : 0;
	}
}

/* Writes of many sizes, back to back, over TCP: every byte comes back once and in order. */
START_TEST(echo_of_several_writes_in_order)
{
	static const size_t sizes[] = { 1, 7, 1000, 4096, 4097, 65536, 300000, 3 };
	struct rig r;
	struct flow f;
	size_t total = 0;

	rig_open(&r);
	f = tcp_peer(&r, false);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		flow_push(&r, &f, sizes[i]);
		total += sizes[i];
	}
	flow_drain(&r, &f);
	ck_assert_uint_eq(f.got, total);
	ck_assert_uint_eq(count(&r, STAT_echoed_bytes), total);
	close(f.fd);
	rig_close(&r);
}
END_TEST

/* A peer that reads late: echo goes through the worker's pending buffer, still in order. */
START_TEST(echo_through_pending_buffer_in_order)
{
	struct rig r;
	struct flow f;

	rig_open(&r);
	rig_limits(&r, 16384, 0, 0, 16);
	f = pair_peer(&r);
	flow_push(&r, &f, 1 << 20);
	flow_drain(&r, &f);
	/* Else this test proved nothing about the buffered path. */
	ck_assert_int_gt(stream_shared_buffered_peak(&r.shared), 0);
	ck_assert_int_eq(stream_shared_buffered(&r.shared), 0);
	close(f.fd);
	rig_close(&r);
}
END_TEST

/* buffer_size alone: one peer that never reads holds at most that much of ours. */
START_TEST(never_reading_peer_holds_at_most_buffer_size)
{
	struct rig r;
	struct flow f;

	rig_open(&r);
	rig_limits(&r, 8192, 0, 0, 16);
	f = pair_peer(&r);
	flows_stall(&r, &f, 1);
	ck_assert_int_gt(budget_used(&r.shared.budget), 0);
	ck_assert_int_le(budget_used(&r.shared.budget), 8192);
	ck_assert_uint_eq(refused(&r, REFUSAL_MAX_BUFFERED), 0);
	/* Echo stopped, not lost: the peer reads, and every byte it sent comes back. */
	flow_drain(&r, &f);
	flow_push(&r, &f, 100000);
	flow_drain(&r, &f);
	close(f.fd);
	rig_close(&r);
}
END_TEST

/*
 * max_buffered_bytes below two connections' buffer_size: two peers that never
 * read stop being read once the budget is spent (turn() checks it is never
 * exceeded); one that reads again goes on; what a closed one held is given back.
 */
START_TEST(never_reading_peers_stop_at_budget)
{
	enum { BUFFER = 65536, BUDGET = 10000 };
	struct rig r;
	struct flow f[2];
	long held;

	rig_open(&r);
	rig_limits(&r, BUFFER, BUDGET, 0, 16);
	f[0] = pair_peer(&r);
	f[1] = pair_peer(&r);
	flows_stall(&r, f, 2);
	held = budget_used(&r.shared.budget);
	ck_assert_int_gt(held, 0);
	ck_assert_uint_ge(refused(&r, REFUSAL_MAX_BUFFERED), 1);
	/* The first peer reads: its echo is whole, and it is served again. */
	flow_drain(&r, &f[0]);
	flow_push(&r, &f[0], 200000);
	flow_drain(&r, &f[0]);
	/* Now all that is held is the second peer's; closing it gives it back. */
	ck_assert_int_gt(budget_used(&r.shared.budget), 0);
	close(f[1].fd);
	turn_until(&r, STAT_connections_closed, 1);
	ck_assert_int_eq(budget_used(&r.shared.budget), 0);
	close(f[0].fd);
	turn_until(&r, STAT_connections_closed, 2);
	ck_assert_int_eq(budget_used(&r.shared.budget), 0);
	ck_assert_int_eq(atomic_load(&r.shared.open), 0);
	rig_close(&r);
}
END_TEST

/*
 * One peer holds its whole buffer_size (7000) of a 10000-byte budget: the
 * next peer that stops reading may be given what is left (3000), not the
 * 4096 a first buffer gets when the budget has room for it.
 */
START_TEST(budget_remainder_smaller_than_first_buffer)
{
	struct rig r;
	struct flow f[2];

	rig_open(&r);
	rig_limits(&r, 7000, 10000, 0, 16);
	f[0] = pair_peer(&r);
	flows_stall(&r, &f[0], 1);
	ck_assert_int_eq(budget_used(&r.shared.budget), 7000);
	f[1] = pair_peer(&r);
	flows_stall(&r, &f[1], 1);
	ck_assert_int_eq(budget_used(&r.shared.budget), 10000);
	for (int i = 0; i < 2; i++) {
		flow_drain(&r, &f[i]);
		close(f[i].fd);
	}
	turn_until(&r, STAT_connections_closed, 2);
	ck_assert_int_eq(budget_used(&r.shared.budget), 0);
	rig_close(&r);
}
END_TEST

/*
 * The peer half-closes with echo still held by the worker: all of it is
 * delivered, then EOF, and the connection is gone. _i: 0 socketpair, 1 TCP.
 */
START_TEST(half_close_delivers_pending_then_eof)
{
	struct rig r;
	struct flow f;

	rig_open(&r);
	rig_limits(&r, 16384, 0, 0, 16);
	if (_i == 0)
		f = pair_peer(&r);
	else
		f = tcp_peer(&r, true);
	flows_stall(&r, &f, 1);
	ck_assert_int_gt(budget_used(&r.shared.budget), 0);
	ck_assert_int_eq(shutdown(f.fd, SHUT_WR), 0);
	for (int quiet = 0; !f.eof && quiet < STUCK_ROUNDS; ) {
		size_t got = flow_recv(&f);

		quiet = !f.eof && turn(&r) == 0 && got == 0 ? quiet + 1 : 0;
	}
	ck_assert(f.eof);
	ck_assert_uint_eq(f.got, f.sent);
	ck_assert_uint_eq(count(&r, STAT_connections_closed), 1);
	ck_assert_int_eq(budget_used(&r.shared.budget), 0);
	close(f.fd);
	rig_close(&r);
}
END_TEST

/* The worker closed the connection: the peer reads EOF (or a reset) within a second. */
static void
assert_closed_by_worker(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	ck_assert_int_eq(poll(&p, 1, 1000), 1);
	ck_assert_int_le(recv(fd, &c, 1, MSG_DONTWAIT), 0);
}

/*
 * Time is handed to the tick as a parameter: no test waits for the clock.
 * The last traffic was at loop time t, first <= t <= last: a connection is
 * never closed less than idle_timeout after t, and surely one second later.
 */
START_TEST(idle_timeout_closes_idle_connection)
{
	struct rig r;
	struct flow f;
	uint64_t first, last, next;

	rig_open(&r);
	rig_limits(&r, 4096, 0, 1, 16);
	f = tcp_peer(&r, false);
	first = loop_now(r.loop);
	flow_push(&r, &f, 100);
	flow_drain(&r, &f);
	last = loop_now(r.loop);
	/* Within the timeout: kept, and the tick asks to run again within a second. */
	next = stream_worker_tick(&r.sw, first + 999);
	ck_assert_uint_eq(count(&r, STAT_connections_closed), 0);
	ck_assert_uint_le(next, first + 2000);
	/* Past it: closed, its admission given back. */
	stream_worker_tick(&r.sw, last + 2000);
	ck_assert_uint_eq(count(&r, STAT_connections_closed), 1);
	ck_assert_int_eq(atomic_load(&r.shared.open), 0);
	assert_closed_by_worker(f.fd);
	close(f.fd);
	rig_close(&r);
}
END_TEST

/* idle_timeout 0: never, however long. */
START_TEST(no_idle_timeout_keeps_connection)
{
	struct rig r;
	struct flow f;

	rig_open(&r);
	rig_limits(&r, 4096, 0, 0, 16);
	f = tcp_peer(&r, false);
	stream_worker_tick(&r.sw, loop_now(r.loop) + 86400000);
	ck_assert_uint_eq(count(&r, STAT_connections_closed), 0);
	flow_push(&r, &f, 10);
	flow_drain(&r, &f);
	close(f.fd);
	rig_close(&r);
}
END_TEST

/* max_connections 2: the third is refused and closed; once one leaves, a new one is served. */
START_TEST(max_connections_refuses_then_admits)
{
	struct rig r;
	struct flow f[2];
	int third, fourth;

	rig_open(&r);
	rig_limits(&r, 4096, 0, 0, 2);
	f[0] = tcp_peer(&r, false);
	f[1] = tcp_peer(&r, false);
	third = rig_client(&r);
	for (int quiet = 0; refused(&r, REFUSAL_MAX_CONNECTIONS) == 0 && quiet < STUCK_ROUNDS; )
		quiet = turn(&r) == 0 ? quiet + 1 : 0;
	ck_assert_uint_eq(refused(&r, REFUSAL_MAX_CONNECTIONS), 1);
	ck_assert_uint_eq(count(&r, STAT_connections_accepted), 2);
	ck_assert_int_eq(atomic_load(&r.shared.open), 2);
	assert_closed_by_worker(third);
	close(third);
	/* The two admitted ones are served. */
	flow_push(&r, &f[1], 1000);
	flow_drain(&r, &f[1]);
	close(f[0].fd);
	turn_until(&r, STAT_connections_closed, 1);
	fourth = rig_client(&r);
	turn_until(&r, STAT_connections_accepted, 3);
	ck_assert_uint_eq(refused(&r, REFUSAL_MAX_CONNECTIONS), 1);
	close(fourth);
	close(f[1].fd);
	rig_close(&r);
}
END_TEST

/* budget.c alone. */

START_TEST(budget_take_and_give_at_the_edges)
{
	struct budget b = { 0 };

	budget_set_max(&b, 100);
	ck_assert_uint_eq(budget_left(&b), 100);
	ck_assert(budget_take(&b, 60));
	/* One byte too many: refused whole, nothing taken. */
	ck_assert(!budget_take(&b, 41));
	ck_assert_int_eq(budget_used(&b), 60);
	ck_assert(budget_take(&b, 40));
	ck_assert_int_eq(budget_used(&b), 100);
	ck_assert_uint_eq(budget_left(&b), 0);
	ck_assert(!budget_take(&b, 1));
	budget_give(&b, 1);
	ck_assert_uint_eq(budget_left(&b), 1);
	ck_assert(budget_take(&b, 1));
	budget_give(&b, 100);
	ck_assert_int_eq(budget_used(&b), 0);
	/* More than the cap at once never fits. */
	ck_assert(!budget_take(&b, 101));
	ck_assert_int_eq(budget_used(&b), 0);
}
END_TEST

/* Bytes already read are kept over the cap; budget_left() then says 0, not a wrapped size. */
START_TEST(budget_force_overshoots_and_left_saturates)
{
	struct budget b = { 0 };

	budget_set_max(&b, 100);
	budget_force(&b, 150);
	ck_assert_int_eq(budget_used(&b), 150);
	ck_assert_uint_eq(budget_left(&b), 0);
	ck_assert(!budget_take(&b, 1));
	budget_give(&b, 150);
	ck_assert_uint_eq(budget_left(&b), 100);
}
END_TEST

/* A reload lowers the cap: what is held stays held, and nothing more is given. */
START_TEST(budget_lowered_cap_keeps_what_is_held)
{
	struct budget b = { 0 };

	budget_set_max(&b, 100);
	ck_assert(budget_take(&b, 80));
	budget_set_max(&b, 50);
	ck_assert_int_eq(budget_used(&b), 80);
	ck_assert_uint_eq(budget_left(&b), 0);
	ck_assert(!budget_take(&b, 1));
	budget_give(&b, 80);
	ck_assert(budget_take(&b, 50));
	ck_assert(!budget_take(&b, 1));
}
END_TEST

START_TEST(budget_zero_is_no_cap)
{
	struct budget b = { 0 };

	budget_set_max(&b, 0);
	ck_assert_uint_eq(budget_left(&b), SIZE_MAX);
	ck_assert(budget_take(&b, (size_t)1 << 40));
	ck_assert_uint_eq(budget_left(&b), SIZE_MAX);
}
END_TEST

/* Two workers take and give the same budget: each checks it never sees it exceeded. */
#define TAKER_ROUNDS	400000
#define TAKER_MAX	1000

struct taker {
	struct budget *b;
	long held;		/* what this thread holds at the end */
	long over;		/* times it saw more used than the cap */
	long taken;		/* successful takes: proof both threads competed */
};

static void *
taker_run(void *arg)
{
	struct taker *t = arg;

	for (unsigned i = 0; i < TAKER_ROUNDS; i++) {
		size_t n = 1 + i % 13;

		if (budget_take(t->b, n)) {
			t->held += (long)n;
			t->taken++;
		}
		if (budget_used(t->b) > TAKER_MAX)
			t->over++;
		/* Give all back now and then, so that the budget is full and empty by turns. */
		if (i % 97 == 0) {
			budget_give(t->b, (size_t)t->held);
			t->held = 0;
		}
	}
	return NULL;
}

START_TEST(budget_two_threads_never_exceed)
{
	struct budget b = { 0 };
	struct taker t[2] = { { .b = &b }, { .b = &b } };
	pthread_t th[2];

	budget_set_max(&b, TAKER_MAX);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, taker_run, &t[i]), 0);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
	ck_assert_int_eq(t[0].over + t[1].over, 0);
	ck_assert_int_gt(t[0].taken, 0);
	ck_assert_int_gt(t[1].taken, 0);
	/* No take or give was lost between the threads. */
	ck_assert_int_eq(budget_used(&b), t[0].held + t[1].held);
	ck_assert_int_le(budget_used(&b), TAKER_MAX);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("stream_conn");
	TCase *echo = tcase_create("echo");
	TCase *pressure = tcase_create("back-pressure");
	TCase *lifetime = tcase_create("lifetime");
	TCase *budget = tcase_create("budget");
	SRunner *sr;
	int failed;

	tcase_set_timeout(echo, 20);
	tcase_add_test(echo, echo_of_several_writes_in_order);
	tcase_add_test(echo, echo_through_pending_buffer_in_order);
	suite_add_tcase(s, echo);
	tcase_set_timeout(pressure, 20);
	tcase_add_test(pressure, never_reading_peer_holds_at_most_buffer_size);
	tcase_add_test(pressure, never_reading_peers_stop_at_budget);
	tcase_add_test(pressure, budget_remainder_smaller_than_first_buffer);
	tcase_add_loop_test(pressure, half_close_delivers_pending_then_eof, 0, 2);
	suite_add_tcase(s, pressure);
	tcase_set_timeout(lifetime, 10);
	tcase_add_test(lifetime, idle_timeout_closes_idle_connection);
	tcase_add_test(lifetime, no_idle_timeout_keeps_connection);
	tcase_add_test(lifetime, max_connections_refuses_then_admits);
	suite_add_tcase(s, lifetime);
	tcase_set_timeout(budget, 20);
	tcase_add_test(budget, budget_take_and_give_at_the_edges);
	tcase_add_test(budget, budget_force_overshoots_and_left_saturates);
	tcase_add_test(budget, budget_lowered_cap_keeps_what_is_held);
	tcase_add_test(budget, budget_zero_is_no_cap);
	tcase_add_test(budget, budget_two_threads_never_exceed);
	suite_add_tcase(s, budget);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
