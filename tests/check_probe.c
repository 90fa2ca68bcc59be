/* SPDX-License-Identifier: MIT */
/* The probe engine (src/probe/) over real loopback sockets: against a real echod (STAMP and
 * UDP echo listeners), the test reflector that drops one way or the other, and a socket
 * that never answers; and its histograms and recent window as plain functions. */
#include <arpa/inet.h>
#include <check.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "probe.h"
#include "client-servers.h"
#include "stamp-client-reflector.h"

#define TEST_TIMEOUT_S	30

/* echod with a stateful STAMP listener and UDP and TCP echo listeners on 127.0.0.1. */
struct rig {
	struct echod_proc p;
	int stamp_port, udp_port;
};

static void
rig_start(struct rig *r)
{
	char v6[96];

	for (int attempt = 0; attempt < 3; attempt++) {
		harness_init(&r->p);
		r->stamp_port = harness_free_port();
		r->udp_port = harness_free_port();
		/* UDP on ::1 too, where there is one (harness_free_port() is free there). */
		snprintf(v6, sizeof(v6), ",\n  { protocol = \"udp\"; port = %d; "
		    "address = \"::1\"; }", r->udp_port);
		if (!harness_have_ipv6())
			v6[0] = '\0';
		harness_write_config(&r->p, "listeners = (\n"
		    "  { protocol = \"stamp\"; port = %d; address = \"127.0.0.1\"; "
		    "stamp_mode = \"stateful\"; },\n"
		    "  { protocol = \"udp\"; port = %d; address = \"127.0.0.1\"; },\n"
		    "  { protocol = \"tcp\"; port = %d; address = \"127.0.0.1\"; }%s\n);\n",
		    r->stamp_port, r->udp_port, r->udp_port, v6);
		if (r->stamp_port != r->udp_port && harness_start(&r->p, NULL, 0) == 0)
			return;
		harness_cleanup(&r->p);
	}
	ck_abort_msg("echod with stamp and udp listeners did not start");
}

static void
rig_stop(struct rig *r)
{
	ck_assert_int_eq(harness_stop(&r->p), 0);
	harness_cleanup(&r->p);
}

static struct sockaddr_in
lo(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* A conf for 127.0.0.1:port (a fresh address each call: the engine copies it). */
static struct probe_target_conf
conf(const char *name, int port, enum probe_proto proto, unsigned long count)
{
	static struct sockaddr_in a[16];
	static int n;
	struct probe_target_conf c = {
		.name = name, .proto = proto, .interval = 0.01, .timeout = 1.0,
		.size = proto == PROBE_STAMP ? 44 : 64, .dscp = -1, .count = count,
	};

	a[n % 16] = lo(port);
	c.addr = (const struct sockaddr *)&a[n++ % 16];
	c.addrlen = sizeof(struct sockaddr_in);
	return c;
}

/* The caller's event loop: poll the engine's sockets until it is done or limit seconds. */
static void
drive(struct probe_engine *e, double limit)
{
	double end = probe_now() + limit, next, now;
	struct pollfd pfd[16];
	int n, i, ms;

	while (!probe_engine_done(e) && (now = probe_now()) < end) {
		n = probe_engine_pollfds(e, pfd, 16);
		ck_assert_int_le(n, 16);
		next = fmin(probe_engine_next(e), end);
		ms = next <= now ? 0 : (int)ceil((next - now) * 1000);
		if (poll(pfd, (nfds_t)n, ms) > 0)
			for (i = 0; i < n; i++)
				if (pfd[i].revents != 0)
					probe_engine_ready(e, pfd[i].fd, pfd[i].revents, probe_now());
		probe_engine_tick(e, probe_now());
	}
}

static struct probe_figures
figs(const struct probe_target *t)
{
	struct probe_figures f;

	probe_target_figures(t, probe_now(), &f);
	return f;
}

/* 64 bytes of junk, with the UDP probe's magic, to each of the engine's n sockets in pfd. */
static void
stranger(struct probe_engine *e, struct pollfd *pfd, int n)
{
	uint8_t junk[64] = { 0x45, 0x50, 0x52, 0x31 };
	int fd = harness_socket(SOCK_DGRAM, "127.0.0.1", 0), i;

	for (i = 0; i < n; i++) {
		struct sockaddr_in to = lo(harness_socket_port(pfd[i].fd));

		ck_assert_int_eq(sendto(fd, junk, sizeof(junk), 0, (struct sockaddr *)&to,
		    sizeof(to)), sizeof(junk));
		ck_assert_int_eq(poll(&pfd[i], 1, 5000), 1);
		probe_engine_ready(e, pfd[i].fd, pfd[i].revents, probe_now());
	}
	close(fd);
}

/* Several targets on one engine and its two sockets: two STAMP sessions to the same
 * reflector told apart by SSID, UDP echo to another port, and a port nothing listens on.
 * Each gets exactly its own replies. */
START_TEST(test_match_targets)
{
	struct rig r;
	struct probe_engine *e = probe_engine_new();
	struct probe_target_conf c1, c2, c3, c4;
	struct probe_target *t1, *t2, *t3, *t4;
	struct probe_figures f;
	struct pollfd pfd[PROBE_MAX_FDS];
	int closed = harness_free_port();

	rig_start(&r);
	ck_assert_ptr_nonnull(e);
	c1 = conf("s1", r.stamp_port, PROBE_STAMP, 5);
	c1.ssid = 1;
	c1.up_intervals = 1000;	/* up for 10 s after its last reply: still, at the end */
	c2 = conf("s2", r.stamp_port, PROBE_STAMP, 7);
	c2.ssid = 2;
	c2.cos = true;
	c2.dscp = 46;
	c2.size = 64;		/* room for the CoS TLV */
	c3 = conf("u", r.udp_port, PROBE_UDP, 9);
	c4 = conf("closed", closed, PROBE_UDP, 3);
	c4.timeout = 0.3;
	ck_assert_ptr_nonnull(t1 = probe_target_add(e, &c1));
	ck_assert_ptr_nonnull(t2 = probe_target_add(e, &c2));
	ck_assert_ptr_nonnull(t3 = probe_target_add(e, &c3));
	ck_assert_ptr_nonnull(t4 = probe_target_add(e, &c4));
	/* The same session twice is refused; a STAMP and a UDP socket, shared by all. */
	ck_assert_ptr_null(probe_target_add(e, &c1));
	ck_assert_int_eq(probe_engine_pollfds(e, pfd, PROBE_MAX_FDS), 2);
	drive(e, 10);
	ck_assert(probe_engine_done(e));
	f = figs(t1);
	ck_assert_uint_eq(f.sent, 5);
	ck_assert_uint_eq(f.received, 5);
	ck_assert_uint_eq(f.lost, 0);
	ck_assert_uint_eq(f.rtt.count, 5);
	ck_assert_uint_eq(f.dwell.count, 5);
	ck_assert_int_eq(f.hops, 0);		/* sent with TTL 255, seen as 255 */
	ck_assert(f.up);
	ck_assert(f.last_reply_age >= 0 && f.last_reply_age < 5);
	f = figs(t2);
	ck_assert_uint_eq(f.sent, 7);
	ck_assert_uint_eq(f.received, 7);
	ck_assert_int_eq(f.reflector_dscp, 46);	/* echod's CoS TLV: what it received */
	ck_assert(!f.up);	/* 3 intervals (30 ms) are long over: the others went on */
	f = figs(t3);
	ck_assert_uint_eq(f.sent, 9);
	ck_assert_uint_eq(f.received, 9);
	ck_assert_str_eq(f.reflector, "unknown");
	f = figs(t4);
	ck_assert_uint_eq(f.sent, 3);
	ck_assert_uint_eq(f.received, 0);
	ck_assert_uint_eq(f.lost, 3);
	ck_assert_uint_eq(f.lost_unknown, 3);
	ck_assert(!f.up);
	ck_assert(f.last_reply_age < 0);
	ck_assert(probe_target_recent(t3, probe_now(), 50) > 0);
	ck_assert(probe_target_recent(t4, probe_now(), 50) < 0);
	/* A datagram from a stranger to each shared socket: unmatched, no target's. */
	ck_assert_uint_eq(probe_engine_unmatched(e), 0);
	stranger(e, pfd, 2);
	ck_assert_uint_eq(probe_engine_unmatched(e), 2);
	ck_assert_uint_eq(figs(t1).received + figs(t2).received + figs(t3).received, 21);
	probe_engine_free(e);
	rig_stop(&r);
}
END_TEST

/* The test reflector, stateful, loses packets 2 and 9 on the way there (f) and the replies
 * to 5 and 12 on the way back (b): echo-client's rule splits the four exactly. */
START_TEST(test_loss_direction)
{
	struct refl_spec spec = { .stateful = true, .script = "eefeebe" };
	struct test_server s;
	struct probe_engine *e = probe_engine_new();
	struct probe_target_conf c;
	struct probe_target *t;
	struct probe_figures f;

	ck_assert_int_eq(refl_start(&s, AF_INET, &spec), 0);
	c = conf("refl", atoi(s.port), PROBE_STAMP, 14);
	c.timeout = 0.5;
	ck_assert_ptr_nonnull(t = probe_target_add(e, &c));
	drive(e, 10);
	f = figs(t);
	ck_assert_uint_eq(f.sent, 14);
	ck_assert_uint_eq(f.received, 10);
	ck_assert_uint_eq(f.lost, 4);
	ck_assert_str_eq(f.reflector, "stateful");
	ck_assert_uint_eq(f.lost_forward, 2);
	ck_assert_uint_eq(f.lost_backward, 2);
	ck_assert_uint_eq(f.lost_unknown, 0);
	probe_engine_free(e);
	server_stop(&s);
}
END_TEST

/* One direction at a time, 10 probes, every third one lost: forward only, a stateful
 * reflector's count falls behind ours, so all three are known forward; backward only, its
 * count keeps up with ours as a stateless reflector's copy would, so the rule cannot tell
 * the two apart and says unknown (echo-client(1) "LOSS PER DIRECTION"). */
static struct probe_figures
one_way(const char *script)
{
	struct refl_spec spec = { .stateful = true, .script = script };
	struct test_server s;
	struct probe_engine *e = probe_engine_new();
	struct probe_target_conf c;
	struct probe_target *t;
	struct probe_figures f;

	ck_assert_int_eq(refl_start(&s, AF_INET, &spec), 0);
	c = conf("refl", atoi(s.port), PROBE_STAMP, 10);	/* 2, 5 and 8 lost */
	c.timeout = 0.5;
	ck_assert_ptr_nonnull(t = probe_target_add(e, &c));
	drive(e, 10);
	f = figs(t);
	probe_engine_free(e);
	server_stop(&s);
	ck_assert_uint_eq(f.lost, 3);
	ck_assert_uint_eq(f.received, 7);
	return f;
}

START_TEST(test_loss_one_way)
{
	struct probe_figures f = one_way("eef");

	ck_assert_str_eq(f.reflector, "stateful");
	ck_assert_uint_eq(f.lost_forward, 3);
	ck_assert_uint_eq(f.lost_backward, 0);
	ck_assert_uint_eq(f.lost_unknown, 0);
	f = one_way("eeb");
	ck_assert_str_eq(f.reflector, "unknown");
	ck_assert_uint_eq(f.lost_forward + f.lost_backward, 0);
	ck_assert_uint_eq(f.lost_unknown, 3);
}
END_TEST

/* A fake UDP echo server that holds every other datagram until the next one comes (h), and
 * corrupts one (c): the held replies come after the timeout, late: received and late, and
 * still lost (lost only grows, a counter); the corrupted one is bad, not received. */
START_TEST(test_late_and_bad)
{
	struct fake_spec spec = { .socktype = SOCK_DGRAM, .script = "hecee" };
	struct test_server s;
	struct probe_engine *e = probe_engine_new();
	struct probe_target_conf c;
	struct probe_target *t;
	struct probe_figures f;

	ck_assert_int_eq(fake_start(&s, AF_INET, &spec), 0);
	c = conf("fake", atoi(s.port), PROBE_UDP, 5);
	c.interval = 0.15;
	c.timeout = 0.1;
	ck_assert_ptr_nonnull(t = probe_target_add(e, &c));
	drive(e, 10);
	f = figs(t);
	ck_assert_uint_eq(f.sent, 5);
	ck_assert_uint_eq(f.received, 4);	/* 0 (late), 1, 3, 4 */
	ck_assert_uint_eq(f.late, 1);
	ck_assert_uint_eq(f.bad, 1);
	ck_assert_uint_eq(f.lost, 2);		/* 0 late, 2 corrupted */
	ck_assert_uint_eq(f.lost_unknown, 2);
	ck_assert_uint_eq(f.rtt.count, 3);	/* in time only */
	probe_engine_free(e);
	server_stop(&s);
}
END_TEST

/* An authenticated reflector (RFC 8762 4.2.2), two sessions to the same address told apart
 * by SSID, each reply read with its target's key; then one whose every reply has its HMAC
 * spoilt (t): bad, never received. */
static void
auth_run(const char *script, const char *key_path, unsigned long long *got,
    unsigned long long *bad)
{
	struct refl_spec spec = { .stateful = false, .key_path = key_path, .script = script };
	struct test_server s;
	struct probe_engine *e = probe_engine_new();
	struct probe_target_conf c[2];
	struct probe_target *t[2];
	struct stamp_key key;
	int i;

	ck_assert_int_eq(stamp_key_load(key_path, &key), 0);
	ck_assert_int_eq(refl_start(&s, AF_INET, &spec), 0);
	for (i = 0; i < 2; i++) {
		c[i] = conf(i ? "b" : "a", atoi(s.port), PROBE_STAMP, 4);
		c[i].ssid = (uint16_t)(30 + i);
		c[i].key = &key;
		c[i].size = 112;
		c[i].timeout = 0.3;
		ck_assert_ptr_nonnull(t[i] = probe_target_add(e, &c[i]));
	}
	drive(e, 10);
	for (i = 0; i < 2; i++) {
		got[i] = figs(t[i]).received;
		bad[i] = figs(t[i]).bad;
		ck_assert_uint_eq(figs(t[i]).sent, 4);
	}
	probe_engine_free(e);
	server_stop(&s);
}

START_TEST(test_stamp_auth)
{
	char dir[] = "/tmp/check-probe.XXXXXX", path[64];
	unsigned long long got[2], bad[2];
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/key", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, 0600), 0);
	auth_run("e", path, got, bad);
	ck_assert_uint_eq(got[0], 4);
	ck_assert_uint_eq(got[1], 4);
	ck_assert_uint_eq(bad[0] + bad[1], 0);
	auth_run("t", path, got, bad);
	ck_assert_uint_eq(got[0] + got[1], 0);
	ck_assert_uint_eq(bad[0] + bad[1], 8);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* A target that never answers (a socket the test holds and never reads): at most
 * PROBE_WINDOW probes are outstanding, the rest counted lost as their slots are reused. */
START_TEST(test_bounded_window)
{
	int sink = harness_socket(SOCK_DGRAM, "127.0.0.1", 0);
	struct probe_engine *e = probe_engine_new();
	struct probe_target_conf c = conf("sink", harness_socket_port(sink), PROBE_UDP, 300);
	struct probe_target *t;
	struct probe_figures f;

	c.interval = 0.001;
	c.timeout = 60;
	ck_assert_ptr_nonnull(t = probe_target_add(e, &c));
	drive(e, 3);
	f = figs(t);
	ck_assert_uint_eq(f.sent, 300);
	ck_assert_uint_eq(f.pending, PROBE_WINDOW);
	ck_assert_uint_eq(f.lost, 300 - PROBE_WINDOW);
	ck_assert_uint_eq(f.received, 0);
	probe_engine_free(e);
	close(sink);
}
END_TEST

/* TCP: a connection per target, made with the first probe; probes pipelined on it and
 * matched by their header. A refused connection loses its probes, and is tried again. */
START_TEST(test_tcp_targets)
{
	struct rig r;
	struct probe_engine *e = probe_engine_new();
	struct probe_target_conf ca, cb;
	struct probe_target *a, *b;
	struct probe_figures f;
	struct pollfd pfd[8];

	rig_start(&r);
	ca = conf("tcp", r.udp_port, PROBE_TCP, 20);
	ca.interval = 0.005;
	cb = conf("refused", harness_free_port(), PROBE_TCP, 3);
	cb.timeout = 0.3;
	ck_assert_ptr_nonnull(a = probe_target_add(e, &ca));
	ck_assert_ptr_nonnull(b = probe_target_add(e, &cb));
	ck_assert_int_eq(probe_engine_pollfds(e, pfd, 8), 0);	/* no connection yet */
	drive(e, 10);
	ck_assert(probe_engine_done(e));
	f = figs(a);
	ck_assert_uint_eq(f.sent, 20);
	ck_assert_uint_eq(f.received, 20);
	ck_assert_uint_eq(f.bad, 0);
	ck_assert_uint_eq(f.rtt.count, 20);
	/* Still connected: one socket to watch, the refused one's closed. */
	ck_assert_int_eq(probe_engine_pollfds(e, pfd, 8), 1);
	f = figs(b);
	ck_assert_uint_eq(f.sent, 3);
	ck_assert_uint_eq(f.lost, 3);
	probe_engine_free(e);
	rig_stop(&r);
}
END_TEST

/* IPv6: a socket of its own, shared by the IPv6 targets; replies matched by address and
 * port, two targets on one address told apart by the target id. */
START_TEST(test_ipv6)
{
	struct rig r;
	struct probe_engine *e = probe_engine_new();
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct probe_target_conf c;
	struct probe_target *t[2];
	struct pollfd pfd[4];

	if (!harness_have_ipv6())
		return;		/* recorded as a skip by harness_have_ipv6() */
	rig_start(&r);
	c = conf("v6", r.udp_port, PROBE_UDP, 5);
	a.sin6_port = htons((uint16_t)r.udp_port);
	c.addr = (struct sockaddr *)&a;
	c.addrlen = sizeof(a);
	ck_assert_ptr_nonnull(t[0] = probe_target_add(e, &c));
	c.size = 100;
	ck_assert_ptr_nonnull(t[1] = probe_target_add(e, &c));
	ck_assert_int_eq(probe_engine_pollfds(e, pfd, 4), 1);
	drive(e, 10);
	ck_assert_uint_eq(figs(t[0]).received, 5);
	ck_assert_uint_eq(figs(t[1]).received, 5);
	ck_assert_uint_eq(figs(t[0]).bad + figs(t[1]).bad, 0);	/* each got its own size */
	probe_engine_free(e);
	rig_stop(&r);
}
END_TEST

/* Removing a target and adding another leaves the rest counting where they were. */
START_TEST(test_add_remove)
{
	struct rig r;
	struct probe_engine *e = probe_engine_new();
	struct probe_target_conf ca, cb, cc;
	struct probe_target *a, *b, *c;
	struct probe_figures f;

	rig_start(&r);
	ca = conf("a", r.udp_port, PROBE_UDP, 40);
	ca.interval = 0.02;
	cb = conf("b", r.stamp_port, PROBE_STAMP, 0);
	ck_assert_ptr_nonnull(a = probe_target_add(e, &ca));
	ck_assert_ptr_nonnull(b = probe_target_add(e, &cb));
	drive(e, 0.3);
	ck_assert(figs(b).received > 0);
	probe_target_remove(e, b);
	cc = conf("c", r.stamp_port, PROBE_STAMP, 5);
	ck_assert_ptr_nonnull(c = probe_target_add(e, &cc));
	drive(e, 10);
	f = figs(a);
	ck_assert_uint_eq(f.sent, 40);
	ck_assert_uint_eq(f.received, 40);
	f = figs(c);
	ck_assert_uint_eq(f.sent, 5);
	ck_assert_uint_eq(f.received, 5);
	probe_engine_free(e);
	rig_stop(&r);
}
END_TEST

/* Prometheus' le: a value on a bound is in that bound's bucket; past 10 s, +Inf. */
START_TEST(test_hist_buckets)
{
	struct probe_hist h;

	ck_assert_int_eq(probe_hist_bucket(0), 0);
	ck_assert_int_eq(probe_hist_bucket(25e-6), 0);
	ck_assert_int_eq(probe_hist_bucket(26e-6), 1);
	ck_assert_int_eq(probe_hist_bucket(1e-3), 5);
	ck_assert_int_eq(probe_hist_bucket(10.0), PROBE_BUCKETS - 1);
	ck_assert_int_eq(probe_hist_bucket(10.001), PROBE_BUCKETS);
	ck_assert(probe_bucket_le[0] == 25e-6 && probe_bucket_le[PROBE_BUCKETS - 1] == 10.0);
	memset(&h, 0, sizeof(h));
	probe_hist_add(&h, 25e-6);
	probe_hist_add(&h, 0.003);
	probe_hist_add(&h, 11);
	probe_hist_add(&h, -1);		/* clocks apart: counted as 0 */
	ck_assert_uint_eq(h.count, 4);
	ck_assert_uint_eq(probe_hist_cumulative(&h, 0), 2);
	ck_assert_uint_eq(probe_hist_cumulative(&h, 6), 2);	/* le 2.5 ms */
	ck_assert_uint_eq(probe_hist_cumulative(&h, 7), 3);	/* le 5 ms */
	ck_assert_uint_eq(probe_hist_cumulative(&h, PROBE_BUCKETS - 1), 3);
	ck_assert_uint_eq(probe_hist_cumulative(&h, PROBE_BUCKETS), 4);
	ck_assert(h.min == 0 && h.max == 11);
}
END_TEST

/* The recent window: nearest-rank percentiles of the last minute, of PROBE_RECENT at most. */
START_TEST(test_recent_window)
{
	struct probe_recent *r = calloc(1, sizeof(*r));
	int i;

	ck_assert(probe_recent_percentile(r, 100, 50) < 0);
	for (i = 1; i <= 100; i++)
		probe_recent_add(r, 1000, i);
	ck_assert(probe_recent_percentile(r, 1000, 50) == 50);
	ck_assert(probe_recent_percentile(r, 1000, 99) == 99);
	ck_assert(probe_recent_percentile(r, 1000, 100) == 100);
	/* A minute later, those are gone; newer ones count alone. */
	probe_recent_add(r, 1061, 7);
	ck_assert(probe_recent_percentile(r, 1061, 50) == 7);
	ck_assert(probe_recent_percentile(r, 1200, 50) < 0);
	/* Bounded: only the last PROBE_RECENT samples are kept. */
	for (i = 0; i < PROBE_RECENT + 10; i++)
		probe_recent_add(r, 2000, i < 10 ? 1e6 : 1);
	ck_assert_uint_eq(r->n, PROBE_RECENT);
	ck_assert(probe_recent_percentile(r, 2000, 100) == 1);
	free(r);
}
END_TEST

static Suite *
probe_suite(void)
{
	Suite *s = suite_create("probe");
	TCase *tc;

	tc = harness_tcase(s, "engine", TEST_TIMEOUT_S);
	tcase_add_test(tc, test_match_targets);
	tcase_add_test(tc, test_loss_direction);
	tcase_add_test(tc, test_loss_one_way);
	tcase_add_test(tc, test_bounded_window);
	tcase_add_test(tc, test_late_and_bad);
	tcase_add_test(tc, test_stamp_auth);
	tcase_add_test(tc, test_add_remove);
	tcase_add_test(tc, test_tcp_targets);
	tcase_add_test(tc, test_ipv6);
	tc = harness_tcase(s, "figures", TEST_TIMEOUT_S);
	tcase_add_test(tc, test_hist_buckets);
	tcase_add_test(tc, test_recent_window);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(probe_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return harness_exit_status(failed, false);
}
