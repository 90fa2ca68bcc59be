/* SPDX-License-Identifier: MIT */
/* check_plan: the reload plan and listener views, as pure functions (no socket is opened). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "addr.h"
#include "config.h"
#include "plan.h"
#include "view_build.h"

/* A configuration from text, through the real loader. */
static struct echod_config *
cfg_from(const char *text)
{
	char path[] = "/tmp/check_plan.XXXXXX";
	struct config_errors errs = { 0 };
	struct echod_config *cfg;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	cfg = config_load(path, &errs);
	unlink(path);
	ck_assert_msg(cfg != NULL, "%s", errs.count > 0 ? errs.lines[0] : "?");
	return cfg;
}

/* A socket open now, described like a listener spec: "tcp 127.0.0.1 7", "udp * 7" (dual). */
static struct listener_spec
sock(const char *proto, const char *address, int port)
{
	struct listener_spec s = { 0 };

	s.proto = strcmp(proto, "tcp") == 0 ? PROTO_TCP : strcmp(proto, "udp") == 0 ?
	    PROTO_UDP : PROTO_UNIX;
	s.port = port;
	s.where = (char *)"test";
	if (s.proto == PROTO_UNIX) {
		s.path = (char *)address;
	} else if (strcmp(address, "*") == 0) {
		s.any_address = true;
		addr_wildcard(AF_INET6, port, &s.addr, &s.addrlen);
	} else {
		ck_assert_int_eq(addr_parse(address, port, &s.addr, &s.addrlen), 0);
	}
	return s;
}

struct fixture {
	struct echod_config *cfg;
	struct listener_spec specs[4];
	struct plan_socket cur[4];
	size_t ncur;
	struct plan plan;
};

static void
plan_with(struct fixture *f, const char *conf, bool have_ipv6)
{
	f->cfg = cfg_from(conf);
	for (size_t i = 0; i < f->ncur; i++)
		f->cur[i].spec = &f->specs[i];
	ck_assert_int_eq(plan_make(f->cur, f->ncur, f->cfg, have_ipv6, &f->plan), 0);
}

static void
fixture_add(struct fixture *f, struct listener_spec spec, bool passed)
{
	f->specs[f->ncur] = spec;
	f->cur[f->ncur].passed = passed;
	f->ncur++;
}

static void
fixture_free(struct fixture *f)
{
	plan_free(&f->plan);
	config_free(f->cfg);
}

START_TEST(nothing_changed_keeps_everything)
{
	struct fixture f = { 0 };

	fixture_add(&f, sock("tcp", "*", 7007), false);
	fixture_add(&f, sock("udp", "127.0.0.1", 7007), false);
	fixture_add(&f, sock("unix", "/run/x.sock", 0), false);
	plan_with(&f, "listeners = ( { protocol = \"tcp\"; port = 7007; },\n"
	    "{ protocol = \"udp\"; port = 7007; address = \"127.0.0.1\"; },\n"
	    "{ protocol = \"unix\"; path = \"/run/x.sock\"; } );\n", true);
	for (size_t i = 0; i < 3; i++) {
		ck_assert_int_eq(f.plan.fate[i], PLAN_KEEP);
		ck_assert_int_eq(f.plan.how[i], PLAN_SERVED);
	}
	fixture_free(&f);
}
END_TEST

START_TEST(address_narrowed_on_same_port_rebinds)
{
	struct fixture f = { 0 };

	fixture_add(&f, sock("tcp", "*", 7007), false);
	plan_with(&f, "listeners = ( { protocol = \"tcp\"; port = 7007; address = \"127.0.0.1\"; "
	    "} );\n", true);
	ck_assert_int_eq(f.plan.how[0], PLAN_REBIND);
	ck_assert(plan_overlaps(&f.plan, 0, 0));
	ck_assert_int_eq(f.plan.fate[0], PLAN_REPLACE);
	fixture_free(&f);
}
END_TEST

START_TEST(address_widened_on_same_port_rebinds)
{
	struct fixture f = { 0 };

	fixture_add(&f, sock("udp", "127.0.0.1", 7007), false);
	fixture_add(&f, sock("udp", "::1", 7007), false);
	plan_with(&f, "listeners = ( { protocol = \"udp\"; port = 7007; } );\n", true);
	ck_assert_int_eq(f.plan.how[0], PLAN_REBIND);
	ck_assert(plan_overlaps(&f.plan, 0, 0));
	ck_assert(plan_overlaps(&f.plan, 0, 1));
	/* Still the kernel's first choice for their addresses: kept, never reset. */
	ck_assert_int_eq(f.plan.fate[0], PLAN_KEEP);
	ck_assert_int_eq(f.plan.fate[1], PLAN_KEEP);
	fixture_free(&f);
}
END_TEST

START_TEST(protocol_added_and_removed)
{
	struct fixture f = { 0 };

	fixture_add(&f, sock("tcp", "*", 7007), false);
	plan_with(&f, "listeners = ( { protocol = \"udp\"; port = 7007; } );\n", true);
	/* TCP and UDP never share a port: open the one, close the other. */
	ck_assert_int_eq(f.plan.how[0], PLAN_OPEN);
	ck_assert(!plan_overlaps(&f.plan, 0, 0));
	ck_assert_int_eq(f.plan.fate[0], PLAN_CLOSE);
	fixture_free(&f);
}
END_TEST

START_TEST(port_moved_opens_and_closes)
{
	struct fixture f = { 0 };

	fixture_add(&f, sock("tcp", "127.0.0.1", 7007), false);
	plan_with(&f, "listeners = ( { protocol = \"tcp\"; port = 7008; address = \"127.0.0.1\"; "
	    "} );\n", true);
	ck_assert_int_eq(f.plan.how[0], PLAN_OPEN);
	ck_assert_int_eq(f.plan.fate[0], PLAN_CLOSE);
	fixture_free(&f);
}
END_TEST

START_TEST(unix_path_changed_opens_and_closes)
{
	struct fixture f = { 0 };

	fixture_add(&f, sock("unix", "/run/a.sock", 0), false);
	plan_with(&f, "listeners = ( { protocol = \"unix\"; path = \"/run/b.sock\"; } );\n", true);
	ck_assert_int_eq(f.plan.how[0], PLAN_OPEN);
	ck_assert_int_eq(f.plan.fate[0], PLAN_CLOSE);
	fixture_free(&f);
}
END_TEST

START_TEST(passed_wildcard_narrowed_is_kept_and_serves)
{
	struct fixture f = { 0 };
	struct listener_view *v;

	fixture_add(&f, sock("tcp", "*", 7), true);
	plan_with(&f, "listeners = ( { protocol = \"tcp\"; port = 7; address = \"127.0.0.1\"; },\n"
	    "{ protocol = \"tcp\"; port = 7; address = \"::1\"; } );\n", true);
	/* systemd's socket spans both: nothing to bind (port 7 needs no privilege then). */
	ck_assert_int_eq(f.plan.how[0], PLAN_SERVED);
	ck_assert_int_eq(f.plan.how[1], PLAN_SERVED);
	ck_assert_int_eq(f.plan.fate[0], PLAN_KEEP);
	v = view_build(&f.specs[0], f.cfg);
	ck_assert_ptr_nonnull(v);
	ck_assert(view_is_narrowed(v));
	ck_assert_uint_eq(v->n, 2);
	free(v);
	fixture_free(&f);
}
END_TEST

START_TEST(passed_socket_no_longer_listed_is_kept_unserved)
{
	struct fixture f = { 0 };
	struct listener_view *v;

	fixture_add(&f, sock("udp", "*", 9), true);
	plan_with(&f, "listeners = ( { protocol = \"udp\"; port = 7007; } );\n", true);
	ck_assert_int_eq(f.plan.fate[0], PLAN_KEEP);
	ck_assert_int_eq(f.plan.how[0], PLAN_OPEN);
	v = view_build(&f.specs[0], f.cfg);
	ck_assert(view_is_narrowed(v));
	ck_assert_uint_eq(v->n, 0);
	free(v);
	fixture_free(&f);
}
END_TEST

START_TEST(passed_split_wildcards_serve_a_listener_without_address)
{
	struct fixture f = { 0 };
	struct listener_view *v;

	fixture_add(&f, sock("tcp", "0.0.0.0", 7), true);
	fixture_add(&f, sock("tcp", "::", 7), true);
	plan_with(&f, "listeners = ( { protocol = \"tcp\"; port = 7; } );\n", true);
	ck_assert_int_eq(f.plan.how[0], PLAN_SERVED);
	for (size_t i = 0; i < 2; i++) {
		v = view_build(&f.specs[i], f.cfg);
		ck_assert(!view_is_narrowed(v));
		ck_assert_ptr_eq(v->whole.listener, &f.cfg->listeners[0]);
		free(v);
	}
	fixture_free(&f);
}
END_TEST

START_TEST(passed_ipv4_wildcard_is_whole_on_a_host_without_ipv6)
{
	struct fixture f = { 0 };

	fixture_add(&f, sock("udp", "0.0.0.0", 7), true);
	plan_with(&f, "listeners = ( { protocol = \"udp\"; port = 7; } );\n", false);
	ck_assert_int_eq(f.plan.how[0], PLAN_SERVED);
	plan_free(&f.plan);
	ck_assert_int_eq(plan_make(f.cur, f.ncur, f.cfg, true, &f.plan), 0);
	/* With IPv6 the listener spans more than systemd passed: the rest must be bound. */
	ck_assert_int_eq(f.plan.how[0], PLAN_REBIND);
	ck_assert_int_eq(f.plan.fate[0], PLAN_KEEP);
	fixture_free(&f);
}
END_TEST

START_TEST(passed_specific_widened_needs_a_socket_beside_it)
{
	struct fixture f = { 0 };
	struct listener_view *v;

	fixture_add(&f, sock("tcp", "127.0.0.1", 7), true);
	plan_with(&f, "listeners = ( { protocol = \"tcp\"; port = 7; } );\n", true);
	ck_assert_int_eq(f.plan.how[0], PLAN_REBIND);
	ck_assert(plan_overlaps(&f.plan, 0, 0));
	ck_assert_int_eq(f.plan.fate[0], PLAN_KEEP);
	/* What it has is all listed: it serves all of it meanwhile. */
	v = view_build(&f.specs[0], f.cfg);
	ck_assert(!view_is_narrowed(v));
	free(v);
	fixture_free(&f);
}
END_TEST

/*
 * Issue 23: a passed udp socket narrowed to 127.0.0.1, then made a stamp
 * listener: the same socket serves it (view.c builds its view so), where the
 * plan once compared protocols strictly and rebound (EACCES below port 1024
 * under the unit's empty capability set).
 */
START_TEST(passed_udp_socket_serves_a_stamp_listener)
{
	struct fixture f = { 0 };
	struct listener_view *v;

	fixture_add(&f, sock("udp", "0.0.0.0", 862), true);
	plan_with(&f, "listeners = ( { protocol = \"stamp\"; port = 862; "
	    "address = \"127.0.0.1\"; } );\n", true);
	ck_assert_int_eq(f.plan.how[0], PLAN_SERVED);
	ck_assert_int_eq(f.plan.fate[0], PLAN_KEEP);
	v = view_build(&f.specs[0], f.cfg);
	ck_assert_ptr_nonnull(v);
	ck_assert(view_serves(v, PROTO_STAMP));
	free(v);
	plan_free(&f.plan);
	config_free(f.cfg);
	/* Split wildcards spanning a stamp listener without address: served too. */
	f.ncur = 0;
	fixture_add(&f, sock("udp", "0.0.0.0", 862), true);
	fixture_add(&f, sock("udp", "::", 862), true);
	plan_with(&f, "listeners = ( { protocol = \"stamp\"; port = 862; } );\n", true);
	ck_assert_int_eq(f.plan.how[0], PLAN_SERVED);
	ck_assert_int_eq(f.plan.fate[0], PLAN_KEEP);
	ck_assert_int_eq(f.plan.fate[1], PLAN_KEEP);
	/* A tcp socket on that port is another kind: it serves no stamp listener. */
	plan_free(&f.plan);
	config_free(f.cfg);
	f.ncur = 0;
	fixture_add(&f, sock("tcp", "0.0.0.0", 862), true);
	plan_with(&f, "listeners = ( { protocol = \"stamp\"; port = 862; "
	    "address = \"127.0.0.1\"; } );\n", true);
	ck_assert_int_eq(f.plan.how[0], PLAN_OPEN);
	fixture_free(&f);
}
END_TEST

static void
sockaddr_of(const char *text, struct sockaddr_storage *ss)
{
	socklen_t len;

	ck_assert_int_eq(addr_parse(text, 7, ss, &len), 0);
}

START_TEST(view_allows_what_is_listed_and_maps_ipv4_on_ipv6)
{
	struct echod_config *cfg = cfg_from("listeners = (\n"
	    "{ protocol = \"tcp\"; port = 7; address = \"127.0.0.1\"; allow = [ \"10.0.0.0/8\" ]; },\n"
	    "{ protocol = \"tcp\"; port = 7; address = \"::\"; } );\n");
	struct listener_spec s = sock("tcp", "*", 7);
	struct listener_view *v = view_build(&s, cfg);
	struct sockaddr_storage ss;
	const struct listener_spec *served = NULL;

	ck_assert(view_is_narrowed(v));
	sockaddr_of("127.0.0.1", &ss);
	ck_assert(view_allows(v, (struct sockaddr *)&ss, &served));
	ck_assert_ptr_eq(served, &cfg->listeners[0]);
	sockaddr_of("::ffff:127.0.0.1", &ss);
	ck_assert(view_allows(v, (struct sockaddr *)&ss, &served));
	ck_assert_ptr_eq(served, &cfg->listeners[0]);
	sockaddr_of("127.0.0.2", &ss);
	ck_assert(!view_allows(v, (struct sockaddr *)&ss, &served));
	sockaddr_of("::ffff:127.0.0.2", &ss);
	ck_assert(!view_allows(v, (struct sockaddr *)&ss, &served));
	sockaddr_of("::1", &ss);
	ck_assert(view_allows(v, (struct sockaddr *)&ss, &served));
	ck_assert_ptr_eq(served, &cfg->listeners[1]);
	ck_assert(!view_allows(v, NULL, &served));
	free(v);
	config_free(cfg);
}
END_TEST

/* A view_local_fn: the address in arg (NULL: unknown), counting the calls. */
static int local_calls;

static int
local_from(void *arg, struct sockaddr_storage *local)
{
	local_calls++;
	if (arg == NULL)
		return -1;
	*local = *(struct sockaddr_storage *)arg;
	return 0;
}

/* Stream and udp ask the same question: the local address only of a narrowed view. */
START_TEST(view_allows_local_asks_only_a_narrowed_view)
{
	struct echod_config *cfg = cfg_from("listeners = (\n"
	    "{ protocol = \"udp\"; port = 7; address = \"127.0.0.1\"; } );\n");
	struct listener_spec wide = sock("udp", "*", 7), whole = sock("udp", "127.0.0.1", 7);
	struct listener_view *narrowed = view_build(&wide, cfg), *all = view_build(&whole, cfg);
	const struct listener_spec *served = NULL;
	struct sockaddr_storage ss;

	ck_assert(view_is_narrowed(narrowed));
	ck_assert(!view_is_narrowed(all));
	local_calls = 0;
	ck_assert(view_allows_local(all, local_from, NULL, &served));
	ck_assert_ptr_eq(served, &cfg->listeners[0]);
	ck_assert_int_eq(local_calls, 0);
	sockaddr_of("127.0.0.1", &ss);
	served = NULL;
	ck_assert(view_allows_local(narrowed, local_from, &ss, &served));
	ck_assert_ptr_eq(served, &cfg->listeners[0]);
	sockaddr_of("::1", &ss);
	ck_assert(!view_allows_local(narrowed, local_from, &ss, &served));
	/* Unknown local address: not served. */
	ck_assert(!view_allows_local(narrowed, local_from, NULL, &served));
	ck_assert_int_eq(local_calls, 3);
	/* A view that serves nothing needs no address to say so. */
	ck_assert(!view_allows_local(&view_nothing, local_from, &ss, &served));
	ck_assert_int_eq(local_calls, 3);
	free(narrowed);
	free(all);
	config_free(cfg);
}
END_TEST

static Suite *
plan_suite(void)
{
	Suite *s = suite_create("plan");
	TCase *tc = tcase_create("plan");

	tcase_add_test(tc, nothing_changed_keeps_everything);
	tcase_add_test(tc, address_narrowed_on_same_port_rebinds);
	tcase_add_test(tc, address_widened_on_same_port_rebinds);
	tcase_add_test(tc, protocol_added_and_removed);
	tcase_add_test(tc, port_moved_opens_and_closes);
	tcase_add_test(tc, unix_path_changed_opens_and_closes);
	tcase_add_test(tc, passed_wildcard_narrowed_is_kept_and_serves);
	tcase_add_test(tc, passed_socket_no_longer_listed_is_kept_unserved);
	tcase_add_test(tc, passed_split_wildcards_serve_a_listener_without_address);
	tcase_add_test(tc, passed_ipv4_wildcard_is_whole_on_a_host_without_ipv6);
	tcase_add_test(tc, passed_specific_widened_needs_a_socket_beside_it);
	tcase_add_test(tc, passed_udp_socket_serves_a_stamp_listener);
	tcase_add_test(tc, view_allows_what_is_listed_and_maps_ipv4_on_ipv6);
	tcase_add_test(tc, view_allows_local_asks_only_a_narrowed_view);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(plan_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
