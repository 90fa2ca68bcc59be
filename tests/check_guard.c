/* SPDX-License-Identifier: MIT */
/* check_guard: the guard's verdicts on connections and datagrams, from a configuration's policy. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "addr.h"
#include "config.h"
#include "guard.h"
#include "guard_conf.h"

/* The port of the datagram socket a test's datagrams arrive on. */
#define LOCAL_PORT	7007
/* A configured udp listener's port: datagrams from it are never answered (echo loops). */
#define LISTENER_PORT	7777
/* A fake clock: the tests pass time, they never wait for it. */
#define T0		1000000

#define DENIED_NET	"192.0.2.0/24"
#define EXEMPT_NET	"198.51.100.0/24"
#define CLIENT		"203.0.113.5"
#define OTHER		"203.0.113.6"
#define EXEMPT		"198.51.100.9"

struct fixture {
	struct echod_config cfg;
	struct listener_spec udp;
	struct cidr exempt;
	uint16_t drop[2];
	struct acl deny;		/* deny DENIED_NET */
	struct guard guard;
	struct guard_policy *policy;	/* what the generation in force would hold */
};

static void
cidr(const char *text, struct cidr *out)
{
	char err[128];

	ck_assert_msg(acl_parse(text, out, err, sizeof(err)) == 0, "%s: %s", text, err);
}

static void
acl_add(struct cidr **list, size_t *n, const char *text)
{
	char err[128];

	ck_assert_msg(acl_list_append(list, n, text, err, sizeof(err)) == 0, "%s: %s", text, err);
}

/*
 * A configuration as config.c leaves it: exempt EXEMPT_NET, drop source
 * ports 19 and 1900, udp_min_source_port 1024, one udp listener on
 * LISTENER_PORT; the guard built from it as echod builds it, with a table of
 * capacity sources (0: as many as echod would take).
 */
static void
fixture_open(struct fixture *f, const struct echod_limits *limits, size_t capacity)
{
	struct srclimit_conf conf;

	memset(f, 0, sizeof(*f));
	f->cfg.limits = *limits;
	cidr(EXEMPT_NET, &f->exempt);
	f->cfg.exempt = &f->exempt;
	f->cfg.nexempt = 1;
	f->drop[0] = 19;
	f->drop[1] = 1900;
	f->cfg.drop_ports = f->drop;
	f->cfg.ndrop_ports = 2;
	f->cfg.udp_min_source_port = 1024;
	f->udp.proto = PROTO_UDP;
	f->udp.port = LISTENER_PORT;
	f->cfg.listeners = &f->udp;
	f->cfg.nlisteners = 1;
	acl_add(&f->deny.deny, &f->deny.ndeny, DENIED_NET);
	guard_conf_limits(&f->cfg.limits, &conf);
	/* What a generation holds: the policy; the guard keeps the per-source table. */
	f->policy = guard_conf_policy(&f->cfg);
	ck_assert_ptr_nonnull(f->policy);
	if (capacity == 0)
		capacity = guard_conf_capacity(&f->cfg);
	ck_assert_int_eq(guard_init(&f->guard, capacity, &conf), 0);
}

static void
fixture_close(struct fixture *f)
{
	guard_fini(&f->guard);
	guard_policy_free(f->policy);
	acl_free(&f->deny);
}

static struct sockaddr_storage
peer(const char *text, int port)
{
	struct sockaddr_storage ss;
	socklen_t len;

	ck_assert_msg(addr_parse(text, port, &ss, &len) == 0, "peer %s", text);
	return ss;
}

/*
 * The only calls of guard_connection(), guard_connection_closed() and
 * guard_datagram*(): where the guard's API changes, only these change.
 */
static enum guard_verdict
conn_sa(struct fixture *f, const struct acl *acl, const struct sockaddr *sa, uint64_t now_ms)
{
	return guard_connection(&f->guard, f->policy, acl, sa, now_ms);
}

static enum guard_verdict
conn(struct fixture *f, const struct acl *acl, const char *text, uint64_t now_ms)
{
	struct sockaddr_storage ss = peer(text, 40000);

	return conn_sa(f, acl, (struct sockaddr *)&ss, now_ms);
}

static void
conn_closed(struct fixture *f, const char *text)
{
	struct sockaddr_storage ss = peer(text, 40000);

	guard_connection_closed(&f->guard, (struct sockaddr *)&ss);
}

/* A datagram as udp.c asks about it: min_source_port -1 is the policy's (no listener known). */
static enum guard_verdict
dgram_class(struct fixture *f, const struct acl *acl, int min_source_port, const char *text,
    int port, size_t len, bool truncated, enum srclimit_class cls, uint64_t now_ms)
{
	const struct guard_policy *p = f->policy;
	struct sockaddr_storage ss = peer(text, port);
	uint16_t min = min_source_port < 0 ? p->min_source_port : (uint16_t)min_source_port;

	if (cls == SRCLIMIT_ECHO)
		return guard_datagram(&f->guard, p, acl, min, LOCAL_PORT, (struct sockaddr *)&ss,
		    len, truncated, now_ms);
	return guard_datagram_class(&f->guard, p, acl, min, LOCAL_PORT, (struct sockaddr *)&ss,
	    len, truncated, cls, len, now_ms);
}

/* The common case: no ACL, the policy's minimum port, an echo datagram of len bytes. */
static enum guard_verdict
dgram(struct fixture *f, const char *text, int port, size_t len, uint64_t now_ms)
{
	return dgram_class(f, NULL, -1, text, port, len, false, SRCLIMIT_ECHO, now_ms);
}

static struct srclimit_stats
stats(struct fixture *f)
{
	struct srclimit_stats st;

	guard_get_stats(&f->guard, &st);
	return st;
}

START_TEST(acl_deny_refuses_connections_and_datagrams)
{
	struct echod_limits none = { 0 };
	struct fixture f;

	fixture_open(&f, &none, 0);
	ck_assert_int_eq(conn(&f, &f.deny, "192.0.2.7", T0), GUARD_DENIED);
	ck_assert_int_eq(conn(&f, &f.deny, CLIENT, T0), GUARD_PASS);
	/* No ACL where the listener has none. */
	ck_assert_int_eq(conn(&f, NULL, "192.0.2.7", T0), GUARD_PASS);
	ck_assert_int_eq(dgram_class(&f, &f.deny, -1, "192.0.2.7", 40000, 100, false,
	    SRCLIMIT_ECHO, T0), GUARD_DENIED);
	ck_assert_int_eq(dgram_class(&f, &f.deny, -1, CLIENT, 40000, 100, false, SRCLIMIT_ECHO,
	    T0), GUARD_PASS);
	ck_assert_int_eq(dgram_class(&f, &f.deny, -1, "192.0.2.7", 40000, 100, false,
	    SRCLIMIT_STAMP, T0), GUARD_DENIED);
	ck_assert_int_eq(guard_verdict_reason(GUARD_DENIED), REFUSAL_ACL);
	fixture_close(&f);
}
END_TEST

/* An allow list refuses everyone else; exempt lifts rate limits, not the ACL. */
START_TEST(acl_allow_list_refuses_the_rest)
{
	struct echod_limits none = { 0 };
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct acl allow = { 0 };
	struct fixture f;

	fixture_open(&f, &none, 0);
	acl_add(&allow.allow, &allow.nallow, "203.0.113.0/24");
	ck_assert_int_eq(conn(&f, &allow, CLIENT, T0), GUARD_PASS);
	ck_assert_int_eq(conn(&f, &allow, EXEMPT, T0), GUARD_DENIED);
	ck_assert_int_eq(conn(&f, &allow, "2001:db8::1", T0), GUARD_DENIED);
	/* Unix peers have no address an ACL could name: always served. */
	ck_assert_int_eq(conn_sa(&f, &allow, (struct sockaddr *)&un, T0), GUARD_PASS);
	acl_free(&allow);
	fixture_close(&f);
}
END_TEST

/* A peer on a dual-stack socket, ::ffff:a.b.c.d, is a.b.c.d to the ACL and the limits. */
START_TEST(ipv4_mapped_peers_are_ipv4)
{
	struct echod_limits lim = { .max_connections_per_source = 1, .udp_rate = 4 };
	struct fixture f;

	fixture_open(&f, &lim, 0);
	ck_assert_int_eq(conn(&f, &f.deny, "::ffff:192.0.2.7", T0), GUARD_DENIED);
	ck_assert_int_eq(dgram_class(&f, &f.deny, -1, "::ffff:192.0.2.7", 40000, 10, false,
	    SRCLIMIT_ECHO, T0), GUARD_DENIED);
	/* One source whichever form it comes in: the second connection is over the limit. */
	ck_assert_int_eq(conn(&f, NULL, CLIENT, T0), GUARD_PASS_COUNTED);
	ck_assert_int_eq(conn(&f, NULL, "::ffff:" CLIENT, T0), GUARD_SOURCE_CONNECTIONS);
	conn_closed(&f, "::ffff:" CLIENT);
	ck_assert_int_eq(conn(&f, NULL, CLIENT, T0), GUARD_PASS_COUNTED);
	conn_closed(&f, CLIENT);
	/* One datagram bucket too. */
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(dgram(&f, CLIENT, 40000, 10, T0), GUARD_PASS);
		ck_assert_int_eq(dgram(&f, "::ffff:" CLIENT, 40000, 10, T0), GUARD_PASS);
	}
	ck_assert_int_eq(dgram(&f, CLIENT, 40000, 10, T0), GUARD_DATAGRAM_RATE);
	ck_assert_int_eq(dgram(&f, "::ffff:" CLIENT, 40000, 10, T0), GUARD_DATAGRAM_RATE);
	/* The exempt list, written as IPv4, covers the mapped form. */
	ck_assert_int_eq(conn(&f, NULL, "::ffff:" EXEMPT, T0), GUARD_PASS);
	ck_assert_int_eq(conn(&f, NULL, "::ffff:" EXEMPT, T0), GUARD_PASS);
	fixture_close(&f);
}
END_TEST

/* Port 0, udp_drop_source_ports, udp_min_source_port, our own ports: for every peer. */
START_TEST(source_port_rules)
{
	static const int refused[] = { 0, 19, 1900, 1023, 53, LISTENER_PORT, LOCAL_PORT };
	static const char *const peers[] = { CLIENT, EXEMPT, "::ffff:" CLIENT, "2001:db8::1" };
	struct echod_limits lim = { .udp_rate = 1000 };
	struct fixture f;

	fixture_open(&f, &lim, 0);
	for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++) {
		for (size_t j = 0; j < sizeof(refused) / sizeof(refused[0]); j++)
			ck_assert_msg(dgram(&f, peers[i], refused[j], 10, T0) == GUARD_SOURCE_PORT,
			    "%s port %d", peers[i], refused[j]);
		ck_assert_int_eq(dgram(&f, peers[i], 1024, 10, T0), GUARD_PASS);
		ck_assert_int_eq(dgram(&f, peers[i], 40000, 10, T0), GUARD_PASS);
	}
	/* A listener's own udp_min_source_port replaces the top level's. */
	ck_assert_int_eq(dgram_class(&f, NULL, 2000, CLIENT, 1500, 10, false, SRCLIMIT_ECHO, T0),
	    GUARD_SOURCE_PORT);
	ck_assert_int_eq(dgram_class(&f, NULL, 0, CLIENT, 1500, 10, false, SRCLIMIT_ECHO, T0),
	    GUARD_PASS);
	/* ... but never lets port 0 or the drop list through. */
	ck_assert_int_eq(dgram_class(&f, NULL, 0, CLIENT, 0, 10, false, SRCLIMIT_ECHO, T0),
	    GUARD_SOURCE_PORT);
	ck_assert_int_eq(dgram_class(&f, NULL, 0, CLIENT, 1900, 10, false, SRCLIMIT_STAMP, T0),
	    GUARD_SOURCE_PORT);
	ck_assert_int_eq(guard_verdict_reason(GUARD_SOURCE_PORT), REFUSAL_SOURCE_PORT);
	fixture_close(&f);
}
END_TEST

/* Over max_datagram, or cut by the kernel: dropped, not answered short; exempt peers too. */
START_TEST(oversize_and_truncated)
{
	struct echod_limits lim = { .max_datagram = 512 };
	struct fixture f;

	fixture_open(&f, &lim, 0);
	ck_assert_int_eq(dgram(&f, CLIENT, 40000, 512, T0), GUARD_PASS);
	ck_assert_int_eq(dgram(&f, CLIENT, 40000, 513, T0), GUARD_OVERSIZE);
	ck_assert_int_eq(dgram(&f, EXEMPT, 40000, 513, T0), GUARD_OVERSIZE);
	ck_assert_int_eq(dgram_class(&f, NULL, -1, CLIENT, 40000, 100, true, SRCLIMIT_ECHO, T0),
	    GUARD_OVERSIZE);
	/* Size is checked first: an oversize datagram from port 0 is refused as oversize. */
	ck_assert_int_eq(dgram(&f, CLIENT, 0, 513, T0), GUARD_OVERSIZE);
	ck_assert_int_eq(guard_verdict_reason(GUARD_OVERSIZE), REFUSAL_OVERSIZE);
	fixture_close(&f);
	/* max_datagram 0: any size, but a truncated datagram still is not answered. */
	lim.max_datagram = 0;
	fixture_open(&f, &lim, 0);
	ck_assert_int_eq(dgram(&f, CLIENT, 40000, 65507, T0), GUARD_PASS);
	ck_assert_int_eq(dgram_class(&f, NULL, -1, CLIENT, 40000, 65507, true, SRCLIMIT_ECHO, T0),
	    GUARD_OVERSIZE);
	fixture_close(&f);
}
END_TEST

START_TEST(connections_per_source)
{
	struct echod_limits lim = { .max_connections_per_source = 2 };
	struct fixture f;

	fixture_open(&f, &lim, 0);
	ck_assert_int_eq(conn(&f, NULL, CLIENT, T0), GUARD_PASS_COUNTED);
	ck_assert_int_eq(conn(&f, NULL, CLIENT, T0), GUARD_PASS_COUNTED);
	ck_assert_int_eq(conn(&f, NULL, CLIENT, T0), GUARD_SOURCE_CONNECTIONS);
	ck_assert_uint_eq(stats(&f).refused[SRCLIMIT_CONNECTIONS], 1);
	/* Another source is not charged for the first one's connections. */
	ck_assert_int_eq(conn(&f, NULL, OTHER, T0), GUARD_PASS_COUNTED);
	/* One closes: room for exactly one more. */
	conn_closed(&f, CLIENT);
	ck_assert_int_eq(conn(&f, NULL, CLIENT, T0), GUARD_PASS_COUNTED);
	ck_assert_int_eq(conn(&f, NULL, CLIENT, T0), GUARD_SOURCE_CONNECTIONS);
	/* An IPv6 source is its /64. */
	ck_assert_int_eq(conn(&f, NULL, "2001:db8::1", T0), GUARD_PASS_COUNTED);
	ck_assert_int_eq(conn(&f, NULL, "2001:db8::ffff", T0), GUARD_PASS_COUNTED);
	ck_assert_int_eq(conn(&f, NULL, "2001:db8::5", T0), GUARD_SOURCE_CONNECTIONS);
	ck_assert_int_eq(conn(&f, NULL, "2001:db8:0:1::1", T0), GUARD_PASS_COUNTED);
	/* Exempt: never counted, never refused. */
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(conn(&f, NULL, EXEMPT, T0), GUARD_PASS);
	ck_assert_int_eq(guard_verdict_reason(GUARD_SOURCE_CONNECTIONS),
	    REFUSAL_SOURCE_CONNECTIONS);
	fixture_close(&f);
}
END_TEST

/* connection_rate 5: a burst of 5, then one every 200 ms. */
START_TEST(connection_rate)
{
	struct echod_limits lim = { .connection_rate = 5 };
	struct fixture f;

	fixture_open(&f, &lim, 0);
	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(conn(&f, NULL, CLIENT, T0), GUARD_PASS_COUNTED);
		conn_closed(&f, CLIENT);
	}
	ck_assert_int_eq(conn(&f, NULL, CLIENT, T0), GUARD_CONNECTION_RATE);
	ck_assert_int_eq(conn(&f, NULL, OTHER, T0), GUARD_PASS_COUNTED);
	conn_closed(&f, OTHER);
	ck_assert_int_eq(conn(&f, NULL, CLIENT, T0 + 200), GUARD_PASS_COUNTED);
	conn_closed(&f, CLIENT);
	ck_assert_int_eq(conn(&f, NULL, CLIENT, T0 + 200), GUARD_CONNECTION_RATE);
	ck_assert_uint_eq(stats(&f).refused[SRCLIMIT_CONNECTION_RATE], 2);
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(conn(&f, NULL, EXEMPT, T0), GUARD_PASS);
	ck_assert_int_eq(guard_verdict_reason(GUARD_CONNECTION_RATE), REFUSAL_CONNECTION_RATE);
	fixture_close(&f);
}
END_TEST

/* udp_rate 4, and stamp_rate 2 in a bucket of its own (burst: at least SRCLIMIT_MIN_BURST). */
START_TEST(datagram_rate)
{
	struct echod_limits lim = { .udp_rate = 4, .stamp_rate = 2 };
	struct fixture f;

	fixture_open(&f, &lim, 0);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(dgram(&f, CLIENT, 40000, 10, T0), GUARD_PASS);
	ck_assert_int_eq(dgram(&f, CLIENT, 40000, 10, T0), GUARD_DATAGRAM_RATE);
	ck_assert_int_eq(dgram(&f, OTHER, 40000, 10, T0), GUARD_PASS);
	/* 250 ms: one more token. */
	ck_assert_int_eq(dgram(&f, CLIENT, 40000, 10, T0 + 250), GUARD_PASS);
	ck_assert_int_eq(dgram(&f, CLIENT, 40000, 10, T0 + 250), GUARD_DATAGRAM_RATE);
	/* Echo's bucket is empty; STAMP's is not, and empties by its own rate. */
	for (int i = 0; i < SRCLIMIT_MIN_BURST; i++)
		ck_assert_int_eq(dgram_class(&f, NULL, -1, CLIENT, 40000, 44, false,
		    SRCLIMIT_STAMP, T0 + 250), GUARD_PASS);
	ck_assert_int_eq(dgram_class(&f, NULL, -1, CLIENT, 40000, 44, false, SRCLIMIT_STAMP,
	    T0 + 250), GUARD_DATAGRAM_RATE);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(dgram(&f, EXEMPT, 40000, 10, T0), GUARD_PASS);
	ck_assert_uint_eq(stats(&f).refused[SRCLIMIT_UDP_RATE], 3);
	ck_assert_int_eq(guard_verdict_reason(GUARD_DATAGRAM_RATE), REFUSAL_DATAGRAM_RATE);
	fixture_close(&f);
}
END_TEST

/* udp_max_reply_bytes_per_second: sent while the bucket is not empty, then refused a while. */
START_TEST(reply_bytes_rate)
{
	struct echod_limits lim = { .udp_max_reply_bytes_per_second = 1000 };
	struct fixture f;

	fixture_open(&f, &lim, 0);
	ck_assert_int_eq(dgram(&f, CLIENT, 40000, 600, T0), GUARD_PASS);
	ck_assert_int_eq(dgram(&f, CLIENT, 40000, 600, T0), GUARD_PASS);
	ck_assert_int_eq(dgram(&f, CLIENT, 40000, 600, T0), GUARD_REPLY_BYTES);
	ck_assert_int_eq(dgram(&f, EXEMPT, 40000, 60000, T0), GUARD_PASS);
	ck_assert_int_eq(dgram(&f, CLIENT, 40000, 600, T0 + 1000), GUARD_PASS);
	ck_assert_uint_eq(stats(&f).refused[SRCLIMIT_UDP_BYTES], 1);
	ck_assert_int_eq(guard_verdict_reason(GUARD_REPLY_BYTES), REFUSAL_REPLY_BYTES);
	fixture_close(&f);
}
END_TEST

/* Connection limits leave datagrams alone, and datagram limits connections. */
START_TEST(limits_apply_to_their_kind_only)
{
	struct echod_limits conn_only = { .max_connections_per_source = 1, .connection_rate = 1 };
	struct echod_limits udp_only = { .udp_rate = 1 };
	struct fixture f;

	fixture_open(&f, &conn_only, 0);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(dgram(&f, CLIENT, 40000, 10, T0), GUARD_PASS);
	fixture_close(&f);
	fixture_open(&f, &udp_only, 0);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(conn(&f, NULL, CLIENT, T0), GUARD_PASS);
	fixture_close(&f);
}
END_TEST

/* A table of one group (8 sources): entries, full while all are pinned, evictions after. */
START_TEST(table_stats_move)
{
	struct echod_limits lim = { .max_connections_per_source = 1, .udp_rate = 1000 };
	char text[8][32];
	struct fixture f;

	fixture_open(&f, &lim, 8);
	ck_assert_uint_eq(stats(&f).entries, 0);
	ck_assert_uint_eq(stats(&f).capacity, 8);
	for (int i = 0; i < 8; i++) {
		snprintf(text[i], sizeof(text[i]), "203.0.113.%d", 10 + i);
		ck_assert_int_eq(conn(&f, NULL, text[i], T0), GUARD_PASS_COUNTED);
	}
	ck_assert_uint_eq(stats(&f).entries, 8);
	/* Every slot has a connection open: a new source has no room. */
	ck_assert_int_eq(conn(&f, NULL, "203.0.113.99", T0), GUARD_SOURCE_CONNECTIONS);
	ck_assert_int_eq(dgram(&f, "203.0.113.99", 40000, 10, T0), GUARD_DATAGRAM_RATE);
	ck_assert_uint_eq(stats(&f).refused[SRCLIMIT_TABLE_FULL], 2);
	ck_assert_uint_eq(stats(&f).evicted, 0);
	/* One source goes idle: the newcomer takes its slot. */
	conn_closed(&f, text[3]);
	ck_assert_int_eq(dgram(&f, "203.0.113.99", 40000, 10, T0 + 1), GUARD_PASS);
	ck_assert_uint_eq(stats(&f).evicted, 1);
	ck_assert_uint_eq(stats(&f).entries, 8);
	ck_assert_uint_eq(stats(&f).unbalanced, 0);
	fixture_close(&f);
}
END_TEST

/*
 * A reload brings a new policy (in the next generation) and new per-source
 * limits (guard_conf_update()): the next verdict follows both.
 */
START_TEST(reload_swaps_policy)
{
	struct echod_limits lim = { .max_datagram = 512 };
	struct fixture f;

	fixture_open(&f, &lim, 0);
	ck_assert_int_eq(dgram(&f, CLIENT, 40000, 1000, T0), GUARD_OVERSIZE);
	f.cfg.limits.max_datagram = 2000;
	f.cfg.limits.udp_rate = 1;
	guard_policy_free(f.policy);
	f.policy = guard_conf_policy(&f.cfg);
	ck_assert_ptr_nonnull(f.policy);
	guard_conf_update(&f.guard, &f.cfg.limits);
	ck_assert_int_eq(dgram(&f, CLIENT, 40000, 1000, T0), GUARD_PASS);
	for (int i = 1; i < SRCLIMIT_MIN_BURST; i++)
		ck_assert_int_eq(dgram(&f, CLIENT, 40000, 1000, T0), GUARD_PASS);
	ck_assert_int_eq(dgram(&f, CLIENT, 40000, 1000, T0), GUARD_DATAGRAM_RATE);
	fixture_close(&f);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("guard");
	TCase *who = tcase_create("who");
	TCase *limits = tcase_create("limits");
	SRunner *sr;
	int failed;

	tcase_set_timeout(who, 10);
	tcase_add_test(who, acl_deny_refuses_connections_and_datagrams);
	tcase_add_test(who, acl_allow_list_refuses_the_rest);
	tcase_add_test(who, ipv4_mapped_peers_are_ipv4);
	tcase_add_test(who, source_port_rules);
	tcase_add_test(who, oversize_and_truncated);
	suite_add_tcase(s, who);
	tcase_set_timeout(limits, 10);
	tcase_add_test(limits, connections_per_source);
	tcase_add_test(limits, connection_rate);
	tcase_add_test(limits, datagram_rate);
	tcase_add_test(limits, reply_bytes_rate);
	tcase_add_test(limits, limits_apply_to_their_kind_only);
	tcase_add_test(limits, table_stats_move);
	tcase_add_test(limits, reload_swaps_policy);
	suite_add_tcase(s, limits);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
