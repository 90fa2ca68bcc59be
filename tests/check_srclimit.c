/* SPDX-License-Identifier: MIT */
/* check_srclimit: per-source caps and token buckets, source grouping, bounded table, threads. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "addr.h"
#include "alloc-count.h"
#include "srclimit.h"

static struct sockaddr_storage
peer(const char *text)
{
	struct sockaddr_storage ss;
	socklen_t len;

	ck_assert_msg(addr_parse(text, 40000, &ss, &len) == 0, "peer %s", text);
	return ss;
}

/* The n-th of a stream of distinct spoofed sources: odd ones IPv6 /64s, even ones IPv4. */
static struct sockaddr_storage
spoofed(uint32_t n)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (n % 2 == 0) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(0x0a000000u + n / 2);	/* 10.x.y.z */
		sin->sin_port = htons(53);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		uint32_t be = htonl(n / 2);

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr.s6_addr[0] = 0x20;
		sin6->sin6_addr.s6_addr[1] = 0x01;
		sin6->sin6_addr.s6_addr[2] = 0x0d;
		sin6->sin6_addr.s6_addr[3] = 0xb8;
		memcpy(&sin6->sin6_addr.s6_addr[4], &be, 4);	/* 2001:db8:NNNN:NNNN::/64 */
		sin6->sin6_addr.s6_addr[15] = 1;
		sin6->sin6_port = htons(53);
	}
	return ss;
}

#define SA(ss) ((const struct sockaddr *)&(ss))

static struct srclimit *
make(size_t capacity, uint32_t max, uint32_t conn_rate, uint32_t udp_rate, uint32_t bytes)
{
	struct srclimit_conf conf = {
		.max_connections_per_source = max,
		.connection_rate = conn_rate,
		.udp_rate = udp_rate,
		.udp_max_reply_bytes_per_second = bytes,
	};
	struct srclimit *sl = srclimit_new(capacity, &conf);

	ck_assert_ptr_nonnull(sl);
	return sl;
}

static uint64_t
refused(struct srclimit *sl, enum srclimit_reason r)
{
	struct srclimit_stats st;

	srclimit_get_stats(sl, &st);
	return st.refused[r];
}

START_TEST(test_new_bad_capacity)
{
	struct srclimit_conf conf = { 0 };
	struct srclimit_stats st;
	struct srclimit *sl;

	errno = 0;
	ck_assert_ptr_null(srclimit_new(0, &conf));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(srclimit_new((1u << 24) + 1, &conf));
	ck_assert_int_eq(errno, EINVAL);
	sl = srclimit_new(13, &conf);
	ck_assert_ptr_nonnull(sl);
	srclimit_get_stats(sl, &st);
	ck_assert_uint_eq(st.capacity, 16);
	ck_assert_uint_eq(st.entries, 0);
	srclimit_free(sl);
	srclimit_free(NULL);
}
END_TEST

START_TEST(test_conn_cap)
{
	struct srclimit *sl = make(1024, 3, 0, 0, 0);
	struct sockaddr_storage a = peer("192.0.2.1"), b = peer("192.0.2.2");

	for (int i = 0; i < 3; i++)
		ck_assert(srclimit_conn_open(sl, SA(a), 0));
	ck_assert(!srclimit_conn_open(sl, SA(a), 0));
	ck_assert(!srclimit_conn_open(sl, SA(a), 99999));
	ck_assert_uint_eq(refused(sl, SRCLIMIT_CONNECTIONS), 2);
	/* IPv4 is per address, not per network. */
	ck_assert(srclimit_conn_open(sl, SA(b), 0));
	ck_assert_uint_eq(srclimit_connections(sl, SA(a)), 3);
	srclimit_conn_close(sl, SA(a));
	ck_assert(srclimit_conn_open(sl, SA(a), 100000));
	for (int i = 0; i < 3; i++)
		srclimit_conn_close(sl, SA(a));
	srclimit_conn_close(sl, SA(b));
	ck_assert_uint_eq(srclimit_connections(sl, SA(a)), 0);
	ck_assert_uint_eq(srclimit_connections(sl, SA(b)), 0);
	ck_assert_uint_eq(refused(sl, SRCLIMIT_CONNECTION_RATE), 0);
	srclimit_free(sl);
}
END_TEST

START_TEST(test_conn_rate_burst)
{
	struct srclimit *sl = make(1024, 0, 10, 0, 0);
	struct sockaddr_storage a = peer("2001:db8::1");

	/* Burst: one second's worth, available at once to a new source. */
	for (int i = 0; i < 10; i++)
		ck_assert(srclimit_conn_open(sl, SA(a), 1000));
	ck_assert(!srclimit_conn_open(sl, SA(a), 1000));
	/* One token per 100 ms. */
	ck_assert(!srclimit_conn_open(sl, SA(a), 1099));
	ck_assert(srclimit_conn_open(sl, SA(a), 1100));
	ck_assert(!srclimit_conn_open(sl, SA(a), 1100));
	/* A refusal costs nothing: the next token still arrives on time. */
	ck_assert(srclimit_conn_open(sl, SA(a), 1200));
	/* Refill stops at the burst. */
	for (int i = 0; i < 10; i++)
		ck_assert(srclimit_conn_open(sl, SA(a), 60000));
	ck_assert(!srclimit_conn_open(sl, SA(a), 60000));
	ck_assert_uint_eq(refused(sl, SRCLIMIT_CONNECTION_RATE), 4);
	ck_assert_uint_eq(srclimit_connections(sl, SA(a)), 22);
	srclimit_free(sl);
}
END_TEST

START_TEST(test_conn_rate_floor)
{
	struct srclimit *sl = make(1024, 0, 1, 0, 0);
	struct sockaddr_storage a = peer("198.51.100.4");

	for (int i = 0; i < SRCLIMIT_MIN_BURST; i++)
		ck_assert(srclimit_conn_open(sl, SA(a), 5));
	ck_assert(!srclimit_conn_open(sl, SA(a), 5));
	ck_assert(!srclimit_conn_open(sl, SA(a), 1004));
	ck_assert(srclimit_conn_open(sl, SA(a), 1005));
	srclimit_free(sl);
}
END_TEST

/* A cap refusal does not spend a rate token. */
START_TEST(test_conn_cap_before_rate)
{
	struct srclimit *sl = make(1024, 2, 5, 0, 0);
	struct sockaddr_storage a = peer("198.51.100.5");

	ck_assert(srclimit_conn_open(sl, SA(a), 0));
	ck_assert(srclimit_conn_open(sl, SA(a), 0));
	for (int i = 0; i < 100; i++)
		ck_assert(!srclimit_conn_open(sl, SA(a), 0));
	ck_assert_uint_eq(refused(sl, SRCLIMIT_CONNECTIONS), 100);
	srclimit_conn_close(sl, SA(a));
	srclimit_conn_close(sl, SA(a));
	ck_assert(srclimit_conn_open(sl, SA(a), 0));
	ck_assert(srclimit_conn_open(sl, SA(a), 0));
	ck_assert_uint_eq(refused(sl, SRCLIMIT_CONNECTION_RATE), 0);
	srclimit_free(sl);
}
END_TEST

/* Offer 4x the rate for 60 simulated seconds, one attempt per ms. */
START_TEST(test_conn_rate_holds)
{
	const uint32_t rate = 50, seconds = 60;
	struct srclimit *sl = make(1024, 0, rate, 0, 0);
	struct sockaddr_storage a = peer("203.0.113.50");
	uint64_t ok = 0, want = (uint64_t)rate * seconds;

	for (uint64_t t = 0; t < seconds * 1000; t += 5) {
		if (srclimit_conn_open(sl, SA(a), t)) {
			ok++;
			srclimit_conn_close(sl, SA(a));
		}
	}
	/* Exact bounds of a token bucket, and the 10%. */
	ck_assert_uint_ge(ok, want);
	ck_assert_uint_le(ok, want + rate);
	ck_assert_uint_le(ok, want * 11 / 10);
	ck_assert_uint_eq(refused(sl, SRCLIMIT_CONNECTION_RATE), seconds * 200 - ok);
	srclimit_free(sl);
}
END_TEST

START_TEST(test_udp_rate_holds)
{
	const uint32_t rate = 100, seconds = 100;
	struct srclimit *sl = make(1024, 0, 0, rate, 0);
	struct sockaddr_storage a = peer("::ffff:203.0.113.7");
	uint64_t ok = 0, want = (uint64_t)rate * seconds;

	/* 1000 datagrams a second, 10x the rate. */
	for (uint64_t t = 0; t < seconds * 1000; t++)
		ok += srclimit_udp(sl, SA(a), 64, t);
	ck_assert_uint_ge(ok, want);
	ck_assert_uint_le(ok, want + rate);
	ck_assert_uint_le(ok, want * 11 / 10);
	ck_assert_uint_eq(refused(sl, SRCLIMIT_UDP_RATE), seconds * 1000 - ok);
	ck_assert_uint_eq(refused(sl, SRCLIMIT_UDP_BYTES), 0);
	srclimit_free(sl);
}
END_TEST

START_TEST(test_udp_bytes_hold)
{
	const uint32_t rate = 10000, seconds = 100, size = 512;
	struct srclimit *sl = make(1024, 0, 0, 0, rate);
	struct sockaddr_storage a = peer("2001:db8:77::1");
	uint64_t sent = 0, want = (uint64_t)rate * seconds;

	/* 200 datagrams of 512 bytes a second: about 10x the byte rate. */
	for (uint64_t t = 0; t < seconds * 1000; t += 5)
		if (srclimit_udp(sl, SA(a), size, t))
			sent += size;
	/* Burst plus at most one datagram of debt above the rate. */
	ck_assert_uint_ge(sent, want);
	ck_assert_uint_le(sent, want + rate + size);
	ck_assert_uint_le(sent, want * 11 / 10);
	ck_assert_uint_eq(refused(sl, SRCLIMIT_UDP_RATE), 0);
	srclimit_free(sl);
}
END_TEST

/* A reply bigger than a second's budget goes out, then the source waits it off. */
START_TEST(test_udp_bytes_debt)
{
	struct srclimit *sl = make(1024, 0, 0, 0, 1000);
	struct sockaddr_storage a = peer("192.0.2.9");

	ck_assert(srclimit_udp(sl, SA(a), 5000, 0));
	ck_assert(!srclimit_udp(sl, SA(a), 1, 1));
	ck_assert(!srclimit_udp(sl, SA(a), 1, 4000));
	ck_assert(srclimit_udp(sl, SA(a), 1, 4001));
	ck_assert_uint_eq(refused(sl, SRCLIMIT_UDP_BYTES), 2);
	srclimit_free(sl);
}
END_TEST

/* A datagram refused for its rate is not charged bytes, and the other way round. */
START_TEST(test_udp_both)
{
	struct srclimit *sl = make(1024, 0, 0, 4, 4000);
	struct srclimit_conf conf = { 0 };
	struct sockaddr_storage a = peer("192.0.2.10");

	for (int i = 0; i < 4; i++)
		ck_assert(srclimit_udp(sl, SA(a), 1000, 0));
	ck_assert(!srclimit_udp(sl, SA(a), 1000, 0));
	ck_assert_uint_eq(refused(sl, SRCLIMIT_UDP_RATE), 1);
	/* 250 ms later: one datagram token and 1000 bytes back. */
	ck_assert(srclimit_udp(sl, SA(a), 1000, 250));
	ck_assert(!srclimit_udp(sl, SA(a), 1, 250));
	ck_assert_uint_eq(refused(sl, SRCLIMIT_UDP_RATE), 2);
	srclimit_free(sl);
	sl = make(1024, 0, 0, 100, 1000);
	ck_assert(srclimit_udp(sl, SA(a), 1000, 0));
	for (int i = 0; i < 50; i++)
		ck_assert(!srclimit_udp(sl, SA(a), 10, 0));
	ck_assert_uint_eq(refused(sl, SRCLIMIT_UDP_BYTES), 50);
	/* None of the 50 spent a datagram token: with bytes unlimited, 99 remain. */
	conf.udp_rate = 100;
	srclimit_set_conf(sl, &conf);
	for (int i = 0; i < 99; i++)
		ck_assert(srclimit_udp(sl, SA(a), 0, 0));
	ck_assert(!srclimit_udp(sl, SA(a), 0, 0));
	ck_assert_uint_eq(refused(sl, SRCLIMIT_UDP_RATE), 1);
	srclimit_free(sl);
}
END_TEST

/* Both limits of a pair set: the _why variants name the one that refused. */
START_TEST(test_why_names_the_limit)
{
	struct srclimit *sl = make(1024, 2, 100, 4, 1000);
	struct sockaddr_storage a = peer("192.0.2.20"), b = peer("192.0.2.21");
	enum srclimit_reason why = SRCLIMIT_TABLE_FULL;
	int opened = 0;

	ck_assert(srclimit_conn_open_why(sl, SA(a), 0, &why));
	ck_assert(srclimit_conn_open_why(sl, SA(a), 0, &why));
	ck_assert(!srclimit_conn_open_why(sl, SA(a), 0, &why));
	ck_assert_int_eq(why, SRCLIMIT_CONNECTIONS);
	/* Connections closed at once: the cap never refuses, the rate's burst runs out. */
	why = SRCLIMIT_TABLE_FULL;
	while (opened < 1000 && srclimit_conn_open_why(sl, SA(b), 0, &why)) {
		srclimit_conn_close(sl, SA(b));
		opened++;
	}
	ck_assert_int_lt(opened, 1000);
	ck_assert_int_eq(why, SRCLIMIT_CONNECTION_RATE);
	/* UDP: 1000 bytes spent in one datagram; the datagram rate has tokens left. */
	ck_assert(srclimit_udp_why(sl, SA(b), 1000, 0, &why));
	ck_assert(!srclimit_udp_why(sl, SA(b), 10, 0, &why));
	ck_assert_int_eq(why, SRCLIMIT_UDP_BYTES);
	srclimit_free(sl);
	sl = make(1024, 0, 0, 4, 1000000);
	for (int i = 0; i < 4; i++)
		ck_assert(srclimit_udp_why(sl, SA(b), 10, 0, &why));
	ck_assert(!srclimit_udp_why(sl, SA(b), 10, 0, &why));
	ck_assert_int_eq(why, SRCLIMIT_UDP_RATE);
	srclimit_free(sl);
}
END_TEST

/* Workers read the clock before taking the lock, so time may seem to step back. */
START_TEST(test_time_steps_back)
{
	struct srclimit *sl = make(1024, 0, 10, 10, 0);
	struct sockaddr_storage a = peer("192.0.2.13");

	for (int i = 0; i < 10; i++) {
		ck_assert(srclimit_udp(sl, SA(a), 1, 5000));
		ck_assert(srclimit_conn_open(sl, SA(a), 5000));
	}
	ck_assert(!srclimit_udp(sl, SA(a), 1, 4000));
	ck_assert(!srclimit_conn_open(sl, SA(a), 4000));
	ck_assert(!srclimit_udp(sl, SA(a), 1, 0));
	/* ...and the refill still counts from the latest time seen. */
	ck_assert(!srclimit_udp(sl, SA(a), 1, 5099));
	ck_assert(srclimit_udp(sl, SA(a), 1, 5100));
	srclimit_free(sl);
}
END_TEST

START_TEST(test_zero_is_off)
{
	struct srclimit *sl = make(1024, 0, 0, 0, 0);
	struct srclimit_conf conf = { .max_connections_per_source = 10 };
	struct sockaddr_storage a = peer("192.0.2.11");
	struct srclimit_stats st;

	for (int i = 0; i < 1000; i++)
		ck_assert(srclimit_conn_open(sl, SA(a), 0));
	for (int i = 0; i < 100000; i++)
		ck_assert(srclimit_udp(sl, SA(a), 65507, 0));
	/* Counted while off, so a reload that turns the cap on sees 1000 open. */
	ck_assert_uint_eq(srclimit_connections(sl, SA(a)), 1000);
	srclimit_set_conf(sl, &conf);
	ck_assert(!srclimit_conn_open(sl, SA(a), 0));
	for (int i = 0; i < 991; i++)
		srclimit_conn_close(sl, SA(a));
	ck_assert(srclimit_conn_open(sl, SA(a), 0));
	ck_assert(!srclimit_conn_open(sl, SA(a), 0));
	srclimit_get_stats(sl, &st);
	ck_assert_uint_eq(st.refused[SRCLIMIT_CONNECTIONS], 2);
	ck_assert_uint_eq(st.entries, 1);
	srclimit_free(sl);
}
END_TEST

START_TEST(test_reload_rates)
{
	struct srclimit *sl = make(1024, 0, 0, 100, 0);
	struct srclimit_conf conf = { .udp_rate = 10 };
	struct sockaddr_storage a = peer("192.0.2.12");
	int ok = 0;

	for (int i = 0; i < 50; i++)
		ck_assert(srclimit_udp(sl, SA(a), 1, 0));
	/* 50 used of a burst that is now 10: nothing until the debt is paid at 10/s. */
	srclimit_set_conf(sl, &conf);
	ck_assert(!srclimit_udp(sl, SA(a), 1, 3999));
	ck_assert(srclimit_udp(sl, SA(a), 1, 4100));
	for (int i = 0; i < 100; i++)
		ok += srclimit_udp(sl, SA(a), 1, 100000);
	ck_assert_int_eq(ok, 10);
	/*
	 * A limit switched off forgives debts as sources are seen: here the byte
	 * limit keeps the table consulted while the datagram limit is off.
	 */
	conf.udp_rate = 0;
	conf.udp_max_reply_bytes_per_second = 1000000;
	srclimit_set_conf(sl, &conf);
	ck_assert(srclimit_udp(sl, SA(a), 1, 100001));
	conf.udp_rate = 10;
	srclimit_set_conf(sl, &conf);
	ok = 0;
	for (int i = 0; i < 100; i++)
		ok += srclimit_udp(sl, SA(a), 1, 100001);
	ck_assert_int_eq(ok, 10);
	srclimit_free(sl);
}
END_TEST

START_TEST(test_ipv6_per_64)
{
	struct srclimit *sl = make(1024, 2, 0, 0, 0);
	struct sockaddr_storage a = peer("2001:db8:1:2::1"), b = peer("2001:db8:1:2:ffff::9");
	struct sockaddr_storage c = peer("2001:db8:1:2:abcd:ef01:2345:6789");
	struct sockaddr_storage d = peer("2001:db8:1:3::1"), e = peer("2001:db8:1:1:ffff::1");

	ck_assert(srclimit_conn_open(sl, SA(a), 0));
	ck_assert(srclimit_conn_open(sl, SA(b), 0));
	ck_assert(!srclimit_conn_open(sl, SA(c), 0));
	ck_assert_uint_eq(srclimit_connections(sl, SA(c)), 2);
	ck_assert(srclimit_conn_open(sl, SA(d), 0));
	ck_assert(srclimit_conn_open(sl, SA(e), 0));
	/* Any address in the /64 may close: the count is the network's. */
	srclimit_conn_close(sl, SA(c));
	ck_assert(srclimit_conn_open(sl, SA(c), 0));
	srclimit_free(sl);
}
END_TEST

START_TEST(test_v4_mapped_is_v4)
{
	struct srclimit *sl = make(1024, 1, 0, 2, 0);
	struct sockaddr_storage v4 = peer("192.0.2.33"), mapped = peer("::ffff:192.0.2.33");
	struct sockaddr_storage compat = peer("::192.0.2.33");
	struct srclimit_stats st;

	ck_assert(srclimit_conn_open(sl, SA(v4), 0));
	ck_assert(!srclimit_conn_open(sl, SA(mapped), 0));
	/* ::192.0.2.33 is an IPv6 address in ::/64, not the IPv4 peer. */
	ck_assert(srclimit_conn_open(sl, SA(compat), 0));
	srclimit_conn_close(sl, SA(mapped));
	ck_assert_uint_eq(srclimit_connections(sl, SA(v4)), 0);
	/* One bucket of SRCLIMIT_MIN_BURST datagrams for both forms. */
	for (int i = 0; i < SRCLIMIT_MIN_BURST; i++)
		ck_assert(srclimit_udp(sl, i % 2 ? SA(v4) : SA(mapped), 1, 0));
	ck_assert(!srclimit_udp(sl, SA(v4), 1, 0));
	ck_assert(!srclimit_udp(sl, SA(mapped), 1, 0));
	srclimit_get_stats(sl, &st);
	ck_assert_uint_eq(st.entries, 2);
	ck_assert_uint_eq(st.unbalanced, 0);
	srclimit_free(sl);
}
END_TEST

START_TEST(test_non_ip_not_limited)
{
	struct srclimit *sl = make(8, 1, 1, 1, 1);
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	const struct sockaddr *sa = (const struct sockaddr *)&un;
	struct srclimit_stats st;

	for (int i = 0; i < 100; i++) {
		ck_assert(srclimit_conn_open(sl, sa, 0));
		ck_assert(srclimit_udp(sl, sa, 100000, 0));
	}
	for (int i = 0; i < 100; i++)
		srclimit_conn_close(sl, sa);
	ck_assert_uint_eq(srclimit_connections(sl, sa), 0);
	srclimit_get_stats(sl, &st);
	ck_assert_uint_eq(st.entries, 0);
	ck_assert_uint_eq(st.unbalanced, 0);
	srclimit_free(sl);
}
END_TEST

START_TEST(test_unbalanced_close)
{
	struct srclimit *sl = make(64, 0, 0, 0, 0);
	struct sockaddr_storage a = peer("192.0.2.44");
	struct srclimit_stats st;

	srclimit_conn_close(sl, SA(a));
	ck_assert(srclimit_conn_open(sl, SA(a), 0));
	srclimit_conn_close(sl, SA(a));
	srclimit_conn_close(sl, SA(a));
	srclimit_get_stats(sl, &st);
	ck_assert_uint_eq(st.unbalanced, 2);
	ck_assert_uint_eq(srclimit_connections(sl, SA(a)), 0);
	srclimit_free(sl);
}
END_TEST

/* One group of 8: who is evicted, and when nobody can be. */
START_TEST(test_eviction_order)
{
	struct srclimit *sl = make(8, 0, 0, 4, 0);
	struct sockaddr_storage s[10];
	struct srclimit_stats st;

	for (uint32_t i = 0; i < 10; i++)
		s[i] = spoofed(2 * i);
	/* Sources 0..7 each empty their bucket at time i. */
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 4; j++)
			ck_assert(srclimit_udp(sl, SA(s[i]), 1, (uint64_t)i));
	ck_assert(!srclimit_udp(sl, SA(s[1]), 1, 8));	/* s1 refilled at 8: now newer */
	/* New source 8 evicts the least recently refilled: s0. */
	ck_assert(srclimit_udp(sl, SA(s[8]), 1, 9));
	ck_assert(!srclimit_udp(sl, SA(s[2]), 1, 10));	/* still tracked, still empty */
	ck_assert(!srclimit_udp(sl, SA(s[1]), 1, 10));
	/* s0 was forgotten: it comes back with a full bucket and evicts s3. */
	for (int j = 0; j < 4; j++)
		ck_assert(srclimit_udp(sl, SA(s[0]), 1, 11));
	ck_assert(!srclimit_udp(sl, SA(s[0]), 1, 11));
	ck_assert(!srclimit_udp(sl, SA(s[4]), 1, 12));
	srclimit_get_stats(sl, &st);
	ck_assert_uint_eq(st.evicted, 2);
	ck_assert_uint_eq(st.entries, 8);
	ck_assert_uint_eq(st.refused[SRCLIMIT_TABLE_FULL], 0);
	srclimit_free(sl);
}
END_TEST

START_TEST(test_table_full)
{
	struct srclimit *sl = make(8, 0, 0, 1000, 0);
	struct sockaddr_storage s[9];
	struct srclimit_stats st;

	for (uint32_t i = 0; i < 9; i++)
		s[i] = spoofed(i);
	for (int i = 0; i < 8; i++)
		ck_assert(srclimit_conn_open(sl, SA(s[i]), 0));
	/* Every slot holds a connection: a new source is refused, nobody is forgotten. */
	ck_assert(!srclimit_conn_open(sl, SA(s[8]), 1));
	ck_assert(!srclimit_udp(sl, SA(s[8]), 1, 1));
	ck_assert(srclimit_udp(sl, SA(s[3]), 1, 1));
	srclimit_get_stats(sl, &st);
	ck_assert_uint_eq(st.refused[SRCLIMIT_TABLE_FULL], 2);
	ck_assert_uint_eq(st.evicted, 0);
	srclimit_conn_close(sl, SA(s[5]));
	ck_assert(srclimit_conn_open(sl, SA(s[8]), 2));
	ck_assert_uint_eq(srclimit_connections(sl, SA(s[5])), 0);
	for (int i = 0; i < 9; i++)
		ck_assert_uint_eq(srclimit_connections(sl, SA(s[i])), i == 5 ? 0 : 1);
	srclimit_free(sl);
}
END_TEST

#define FLOOD 1000000u

/*
 * The control for the zero-allocation checks below: srclimit_new(), linked
 * from libechod.a, is seen allocating through the wrappers. Without it those
 * checks would pass unnoticed if the --wrap ever stopped reaching the library.
 */
START_TEST(test_wrap_sees_library_allocations)
{
	struct srclimit *sl;

	alloc_count_start();
	sl = make(1024, 1, 0, 0, 0);
	ck_assert_int_gt(alloc_count_stop(), 0);
	srclimit_free(sl);
}
END_TEST

/*
 * A million distinct spoofed sources, one datagram each, into a table of
 * 65536: the table fills, stays full, and nothing is allocated on the way.
 */
START_TEST(test_flood_bounded)
{
	const size_t capacity = 65536;
	struct srclimit *sl = make(capacity, 0, 0, 10, 100000);
	struct srclimit_stats st;
	uint32_t passed = 0;

	alloc_count_start();
	for (uint32_t i = 0; i < FLOOD; i++) {
		struct sockaddr_storage ss = spoofed(i);

		passed += srclimit_udp(sl, SA(ss), 1400, 1000 + i / 1000);
	}
	ck_assert_int_eq(alloc_count_stop(), 0);
	srclimit_get_stats(sl, &st);
	ck_assert_uint_eq(st.capacity, capacity);
	ck_assert_uint_le(st.entries, st.capacity);
	/* Each group holds 8: the table is full before the flood is a tenth over. */
	ck_assert_uint_eq(st.entries, capacity);
	ck_assert_uint_eq(st.evicted, FLOOD - capacity);
	/* Every source is new, so every datagram is within its own limits. */
	ck_assert_uint_eq(passed, FLOOD);
	ck_assert_uint_eq(st.refused[SRCLIMIT_TABLE_FULL], 0);
	srclimit_free(sl);
}
END_TEST

/* Sources holding connections survive a flood that evicts everything else, many times over. */
START_TEST(test_flood_keeps_connections)
{
	const int holders = 40;
	struct srclimit *sl = make(1024, 2, 0, 10, 0);
	struct sockaddr_storage h[40];
	struct srclimit_stats st;

	for (int i = 0; i < holders; i++) {
		h[i] = spoofed(0x40000000u + (uint32_t)i);
		ck_assert(srclimit_conn_open(sl, SA(h[i]), 0));
		ck_assert(srclimit_conn_open(sl, SA(h[i]), 0));
	}
	alloc_count_start();
	for (uint32_t i = 0; i < FLOOD; i++) {
		struct sockaddr_storage ss = spoofed(i);

		srclimit_udp(sl, SA(ss), 100, 1 + i / 100);
	}
	ck_assert_int_eq(alloc_count_stop(), 0);
	srclimit_get_stats(sl, &st);
	ck_assert_uint_le(st.entries, 1024);
	ck_assert_uint_ge(st.evicted, FLOOD - 1024);
	for (int i = 0; i < holders; i++) {
		ck_assert_uint_eq(srclimit_connections(sl, SA(h[i])), 2);
		/* The cap still holds: the count was not reset by an eviction. */
		ck_assert(!srclimit_conn_open(sl, SA(h[i]), 20000));
		srclimit_conn_close(sl, SA(h[i]));
		srclimit_conn_close(sl, SA(h[i]));
		ck_assert_uint_eq(srclimit_connections(sl, SA(h[i])), 0);
	}
	srclimit_get_stats(sl, &st);
	ck_assert_uint_eq(st.unbalanced, 0);
	ck_assert_uint_eq(st.refused[SRCLIMIT_CONNECTIONS], (uint64_t)holders);
	srclimit_free(sl);
}
END_TEST

/* Four workers hammer one table. */
#define THREADS		4
#define SOURCES		2	/* few sources, many threads: contention and the cap is hit */
#define CAP		8
#define ROUNDS		400000
#define HOLD		6

struct worker {
	pthread_t tid;
	struct srclimit *sl;
	int id;
	long violations;		/* times more than CAP were seen held at once */
	long opened;
	long udp_passed;
};

static struct sockaddr_storage hammer_src[SOURCES];
static atomic_int held[SOURCES];
static struct sockaddr_storage udp_src;
static pthread_barrier_t start;

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	int mine[HOLD], nmine = 0;

	/* All at once: a lost update needs two workers inside the table together. */
	pthread_barrier_wait(&start);
	for (int r = 0; r < ROUNDS; r++) {
		int s = (r * 7 + w->id * 5) % SOURCES;

		if (nmine < HOLD && srclimit_conn_open(w->sl, SA(hammer_src[s]), (uint64_t)r)) {
			w->opened++;
			if (atomic_fetch_add(&held[s], 1) + 1 > CAP)
				w->violations++;
			mine[nmine++] = s;
		}
		if (nmine == HOLD || (nmine > 0 && r % 3 == 0)) {
			s = mine[--nmine];
			atomic_fetch_sub(&held[s], 1);
			srclimit_conn_close(w->sl, SA(hammer_src[s]));
		}
		/* Time frozen at 5: exactly the burst may pass, whoever asks. */
		if (r < 1000)
			w->udp_passed += srclimit_udp(w->sl, SA(udp_src), 10, 5);
	}
	while (nmine > 0) {
		int s = mine[--nmine];

		atomic_fetch_sub(&held[s], 1);
		srclimit_conn_close(w->sl, SA(hammer_src[s]));
	}
	return NULL;
}

START_TEST(test_threads)
{
	struct srclimit *sl = make(4096, CAP, 0, 1000, 0);
	struct srclimit_conf conf = { .max_connections_per_source = CAP, .udp_rate = 1000 };
	struct worker w[THREADS];
	struct srclimit_stats st;
	long violations = 0, opened = 0, udp = 0;

	for (int i = 0; i < SOURCES; i++) {
		hammer_src[i] = spoofed((uint32_t)i * 977);
		atomic_store(&held[i], 0);
	}
	udp_src = peer("2001:db8:ffff::1");
	ck_assert_int_eq(pthread_barrier_init(&start, NULL, THREADS), 0);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .sl = sl, .id = i };
		ck_assert_int_eq(pthread_create(&w[i].tid, NULL, worker_run, &w[i]), 0);
	}
	/* Reloads and stats readers race the workers (same values, so results stay exact). */
	for (int i = 0; i < 200; i++) {
		srclimit_set_conf(sl, &conf);
		srclimit_get_stats(sl, &st);
	}
	for (int i = 0; i < THREADS; i++) {
		ck_assert_int_eq(pthread_join(w[i].tid, NULL), 0);
		violations += w[i].violations;
		opened += w[i].opened;
		udp += w[i].udp_passed;
	}
	pthread_barrier_destroy(&start);
	ck_assert_int_eq(violations, 0);
	ck_assert_int_gt(opened, ROUNDS);
	ck_assert_int_eq(udp, 1000);
	for (int i = 0; i < SOURCES; i++)
		ck_assert_uint_eq(srclimit_connections(sl, SA(hammer_src[i])), 0);
	srclimit_get_stats(sl, &st);
	ck_assert_uint_eq(st.unbalanced, 0);
	ck_assert_uint_eq(st.refused[SRCLIMIT_UDP_RATE], THREADS * 1000 - 1000);
	srclimit_free(sl);
}
END_TEST

START_TEST(test_reason_names)
{
	ck_assert_str_eq(srclimit_reason_name(SRCLIMIT_CONNECTIONS), "connections");
	ck_assert_str_eq(srclimit_reason_name(SRCLIMIT_CONNECTION_RATE), "connection_rate");
	ck_assert_str_eq(srclimit_reason_name(SRCLIMIT_UDP_RATE), "udp_rate");
	ck_assert_str_eq(srclimit_reason_name(SRCLIMIT_UDP_BYTES), "udp_bytes");
	ck_assert_str_eq(srclimit_reason_name(SRCLIMIT_TABLE_FULL), "table_full");
	ck_assert_str_eq(srclimit_reason_name(SRCLIMIT_NREASONS), "?");
}
END_TEST

/*
 * Issue 22 item 15: STAMP test packets have buckets of their own, at their
 * own rates: 1 000 a second for 60 s pass under stamp_rate 2000 while the
 * same source's echo datagrams (udp_rate 100) are refused, and neither
 * spends the other's budget; the byte cap still bounds STAMP replies.
 */
START_TEST(test_stamp_class_own_buckets)
{
	struct srclimit_conf conf = {
		.udp_rate = 100, .udp_max_reply_bytes_per_second = 65536,
		.stamp_rate = 2000, .stamp_max_reply_bytes_per_second = 262144,
	};
	struct srclimit *sl = srclimit_new(1024, &conf);
	const char *peers[] = { "203.0.113.7", "::ffff:203.0.113.8", "2001:db8::1" };
	enum srclimit_reason why;

	ck_assert_ptr_nonnull(sl);
	for (size_t p = 0; p < 3; p++) {
		struct sockaddr_storage a = peer(peers[p]);
		uint64_t stamp_ok = 0, echo_ok = 0;

		/* One STAMP packet a millisecond, and one echo datagram. */
		for (uint64_t t = 0; t < 60000; t++) {
			stamp_ok += srclimit_datagram(sl, SA(a), SRCLIMIT_STAMP, 112,
			    p * 100000 + t, &why);
			echo_ok += srclimit_udp(sl, SA(a), 44, p * 100000 + t);
		}
		ck_assert_uint_eq(stamp_ok, 60000);
		ck_assert_uint_le(echo_ok, 100 * 60 + 100);
	}
	/* 2 000 a second of 1 000 octets: the byte cap (256 KiB/s) refuses most. */
	{
		struct sockaddr_storage b = peer("198.51.100.1");
		uint64_t ok = 0;

		for (uint64_t t = 0; t < 20000; t++)
			ok += srclimit_datagram(sl, SA(b), SRCLIMIT_STAMP, 1000, 500000 + t / 2,
			    &why);
		ck_assert_uint_le(ok, 262144 * 11 / 1000 + 1);
		ck_assert_uint_gt(refused(sl, SRCLIMIT_UDP_BYTES), 0);
	}
	srclimit_free(sl);
}
END_TEST

static Suite *
srclimit_suite(void)
{
	Suite *s = suite_create("srclimit");
	TCase *tc = tcase_create("limits");

	tcase_add_test(tc, test_new_bad_capacity);
	tcase_add_test(tc, test_wrap_sees_library_allocations);
	tcase_add_test(tc, test_conn_cap);
	tcase_add_test(tc, test_conn_rate_burst);
	tcase_add_test(tc, test_conn_rate_floor);
	tcase_add_test(tc, test_conn_cap_before_rate);
	tcase_add_test(tc, test_conn_rate_holds);
	tcase_add_test(tc, test_udp_rate_holds);
	tcase_add_test(tc, test_udp_bytes_hold);
	tcase_add_test(tc, test_udp_bytes_debt);
	tcase_add_test(tc, test_udp_both);
	tcase_add_test(tc, test_why_names_the_limit);
	tcase_add_test(tc, test_time_steps_back);
	tcase_add_test(tc, test_zero_is_off);
	tcase_add_test(tc, test_reload_rates);
	tcase_add_test(tc, test_reason_names);
	tcase_add_test(tc, test_stamp_class_own_buckets);
	suite_add_tcase(s, tc);
	tc = tcase_create("sources");
	tcase_add_test(tc, test_ipv6_per_64);
	tcase_add_test(tc, test_v4_mapped_is_v4);
	tcase_add_test(tc, test_non_ip_not_limited);
	tcase_add_test(tc, test_unbalanced_close);
	suite_add_tcase(s, tc);
	tc = tcase_create("table");
	/* A million lookups: generous for valgrind (CK_TIMEOUT_MULTIPLIER scales it further). */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_eviction_order);
	tcase_add_test(tc, test_table_full);
	tcase_add_test(tc, test_flood_bounded);
	tcase_add_test(tc, test_flood_keeps_connections);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(srclimit_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
