/* SPDX-License-Identifier: MIT */
/*
 * check_view: which local addresses a listening socket serves under a
 * configuration, whole or narrowed, on IPv4, IPv6 and IPv4-mapped addresses.
 * Pure: no socket is opened (the configuration goes through a temporary file).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include <check.h>

#include "addr.h"
#include "config.h"
#include "view_build.h"

/* A configuration from text, through the real loader. */
static struct echod_config *
cfg_from(const char *text)
{
	char path[] = "/tmp/check_view.XXXXXX";
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

/* A socket described like a listener spec: address "*" is the dual-stack wildcard. */
static struct listener_spec
sock(enum proto proto, const char *address, int port)
{
	struct listener_spec s = { 0 };

	s.proto = proto;
	s.port = port;
	s.where = (char *)"test";
	if (strcmp(address, "*") == 0) {
		s.any_address = true;
		addr_wildcard(AF_INET6, port, &s.addr, &s.addrlen);
	} else {
		ck_assert_int_eq(addr_parse(address, port, &s.addr, &s.addrlen), 0);
	}
	return s;
}

/* Does v serve a peer at local address text, and through which listener? */
static bool
allows(const struct listener_view *v, const char *text, const struct listener_spec **served)
{
	struct sockaddr_storage ss;
	socklen_t len;

	ck_assert_int_eq(addr_parse(text, 7, &ss, &len), 0);
	*served = NULL;
	return view_allows(v, (struct sockaddr *)&ss, served);
}

START_TEST(listener_spanning_the_socket_makes_a_whole_view)
{
	struct echod_config *cfg = cfg_from("listeners = (\n"
	    "{ protocol = \"udp\"; port = 7; address = \"127.0.0.1\"; } );\n");
	struct listener_spec s = sock(PROTO_UDP, "127.0.0.1", 7);
	struct listener_view *v = view_build(&s, cfg);
	const struct listener_spec *served = NULL;

	ck_assert_ptr_nonnull(v);
	ck_assert(v->all);
	ck_assert(!view_is_narrowed(v));
	ck_assert(view_spanned(&s, cfg));
	ck_assert_ptr_eq(v->whole.listener, &cfg->listeners[0]);
	/* Whole: no address needed, every one served by the listener. */
	ck_assert(view_allows(v, NULL, &served));
	ck_assert_ptr_eq(served, &cfg->listeners[0]);
	ck_assert(allows(v, "::1", &served));
	ck_assert_ptr_eq(served, &cfg->listeners[0]);
	ck_assert(view_serves(v, PROTO_UDP));
	ck_assert(!view_serves(v, PROTO_TCP));
	free(v);
	config_free(cfg);
}
END_TEST

START_TEST(wildcard_listener_serves_both_families)
{
	struct echod_config *cfg = cfg_from("listeners = (\n"
	    "{ protocol = \"tcp\"; port = 7; } );\n");
	struct listener_spec s = sock(PROTO_TCP, "*", 7);
	struct listener_view *v = view_build(&s, cfg);
	const struct listener_spec *served;

	ck_assert_ptr_nonnull(v);
	ck_assert(!view_is_narrowed(v));
	ck_assert(allows(v, "192.0.2.1", &served));
	ck_assert_ptr_eq(served, &cfg->listeners[0]);
	ck_assert(allows(v, "2001:db8::1", &served));
	ck_assert(allows(v, "::ffff:192.0.2.1", &served));
	ck_assert_ptr_eq(served, &cfg->listeners[0]);
	free(v);
	config_free(cfg);
}
END_TEST

/* A dual-stack socket that the file narrowed to one address per family. */
START_TEST(narrowed_view_serves_only_listed_addresses)
{
	struct echod_config *cfg = cfg_from("listeners = (\n"
	    "{ protocol = \"tcp\"; port = 7; address = \"127.0.0.1\"; },\n"
	    "{ protocol = \"tcp\"; port = 7; address = \"::1\"; } );\n");
	struct listener_spec s = sock(PROTO_TCP, "*", 7);
	struct listener_view *v = view_build(&s, cfg);
	const struct listener_spec *served;
	struct sockaddr_un un = { .sun_family = AF_UNIX };

	ck_assert_ptr_nonnull(v);
	ck_assert(view_is_narrowed(v));
	ck_assert(!view_spanned(&s, cfg));
	ck_assert_uint_eq(v->n, 2);
	ck_assert(allows(v, "127.0.0.1", &served));
	ck_assert_ptr_eq(served, &cfg->listeners[0]);
	/* An IPv4 peer of the dual-stack socket dialled the IPv4 address. */
	ck_assert(allows(v, "::ffff:127.0.0.1", &served));
	ck_assert_ptr_eq(served, &cfg->listeners[0]);
	ck_assert(allows(v, "::1", &served));
	ck_assert_ptr_eq(served, &cfg->listeners[1]);
	ck_assert(!allows(v, "127.0.0.2", &served));
	ck_assert(!allows(v, "::ffff:127.0.0.2", &served));
	ck_assert(!allows(v, "::2", &served));
	/* Not IP, or unknown: not served. */
	ck_assert(!view_allows(v, (struct sockaddr *)&un, &served));
	ck_assert(!view_allows(v, NULL, &served));
	free(v);
	config_free(cfg);
}
END_TEST

/* "0.0.0.0" on a dual-stack socket: every IPv4 address, mapped or not, and no IPv6 one. */
START_TEST(narrowed_to_one_family)
{
	struct echod_config *cfg = cfg_from("listeners = (\n"
	    "{ protocol = \"udp\"; port = 7; address = \"0.0.0.0\"; } );\n");
	struct listener_spec s = sock(PROTO_UDP, "*", 7);
	struct listener_view *v = view_build(&s, cfg);
	const struct listener_spec *served;
	char buf[64];

	ck_assert_ptr_nonnull(v);
	ck_assert(view_is_narrowed(v));
	ck_assert_uint_eq(v->n, 1);
	ck_assert_str_eq(local_part_format(&v->entry[0].part, buf, sizeof(buf)),
	    "every IPv4 address");
	ck_assert(allows(v, "198.51.100.7", &served));
	ck_assert_ptr_eq(served, &cfg->listeners[0]);
	ck_assert(allows(v, "::ffff:198.51.100.7", &served));
	ck_assert(!allows(v, "::1", &served));
	ck_assert(!allows(v, "2001:db8::7", &served));
	free(v);
	config_free(cfg);
}
END_TEST

/* A socket no listener of the file names any more: kept, serves nothing. */
START_TEST(socket_no_longer_listed_serves_nothing)
{
	struct echod_config *cfg = cfg_from("listeners = (\n"
	    "{ protocol = \"tcp\"; port = 9; } );\n");
	struct listener_spec s = sock(PROTO_TCP, "*", 7);
	struct listener_view *v = view_build(&s, cfg);
	const struct listener_spec *served;

	ck_assert_ptr_nonnull(v);
	ck_assert(view_is_narrowed(v));
	ck_assert_uint_eq(v->n, 0);
	ck_assert(!allows(v, "127.0.0.1", &served));
	ck_assert(!allows(v, "::1", &served));
	ck_assert(!view_serves(v, PROTO_TCP));
	ck_assert(!allows(&view_nothing, "127.0.0.1", &served));
	/* No view at all (not built yet): everything, through no listener. */
	served = &cfg->listeners[0];
	ck_assert(view_allows(NULL, NULL, &served));
	ck_assert_ptr_null(served);
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

START_TEST(allows_local_maps_ipv4_and_asks_only_when_narrowed)
{
	struct echod_config *cfg = cfg_from("listeners = (\n"
	    "{ protocol = \"udp\"; port = 7; address = \"127.0.0.1\"; } );\n");
	struct listener_spec wide = sock(PROTO_UDP, "*", 7);
	struct listener_spec whole = sock(PROTO_UDP, "127.0.0.1", 7);
	struct listener_view *narrowed = view_build(&wide, cfg), *all = view_build(&whole, cfg);
	const struct listener_spec *served = NULL;
	struct sockaddr_storage ss;
	socklen_t len;

	ck_assert_ptr_nonnull(narrowed);
	ck_assert_ptr_nonnull(all);
	local_calls = 0;
	ck_assert(view_allows_local(all, local_from, NULL, &served));
	ck_assert_ptr_eq(served, &cfg->listeners[0]);
	ck_assert_int_eq(local_calls, 0);
	ck_assert_int_eq(addr_parse("::ffff:127.0.0.1", 7, &ss, &len), 0);
	served = NULL;
	ck_assert(view_allows_local(narrowed, local_from, &ss, &served));
	ck_assert_ptr_eq(served, &cfg->listeners[0]);
	ck_assert_int_eq(addr_parse("::ffff:127.0.0.9", 7, &ss, &len), 0);
	ck_assert(!view_allows_local(narrowed, local_from, &ss, &served));
	ck_assert_int_eq(addr_parse("::1", 7, &ss, &len), 0);
	ck_assert(!view_allows_local(narrowed, local_from, &ss, &served));
	ck_assert(!view_allows_local(narrowed, local_from, NULL, &served));
	ck_assert_int_eq(local_calls, 4);
	free(narrowed);
	free(all);
	config_free(cfg);
}
END_TEST

START_TEST(local_part_of_families)
{
	struct sockaddr_storage ss;
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct local_part p, any4 = { .family = AF_INET, .any = true };
	socklen_t len;
	char buf[64];

	ck_assert_int_eq(addr_parse("::ffff:10.1.2.3", 7, &ss, &len), 0);
	ck_assert_int_eq(local_part_of((struct sockaddr *)&ss, &p), 0);
	ck_assert_int_eq(p.family, AF_INET);
	ck_assert(!p.any);
	ck_assert_str_eq(local_part_format(&p, buf, sizeof(buf)), "10.1.2.3");
	ck_assert(local_part_within(&p, &any4));
	ck_assert(!local_part_within(&any4, &p));
	ck_assert_int_eq(addr_parse("2001:db8::5", 7, &ss, &len), 0);
	ck_assert_int_eq(local_part_of((struct sockaddr *)&ss, &p), 0);
	ck_assert_int_eq(p.family, AF_INET6);
	ck_assert_str_eq(local_part_format(&p, buf, sizeof(buf)), "2001:db8::5");
	ck_assert(!local_part_within(&p, &any4));
	ck_assert_int_eq(local_part_of((struct sockaddr *)&un, &p), -1);
}
END_TEST

static Suite *
view_suite(void)
{
	Suite *s = suite_create("view");
	TCase *tc = tcase_create("view");

	tcase_add_test(tc, listener_spanning_the_socket_makes_a_whole_view);
	tcase_add_test(tc, wildcard_listener_serves_both_families);
	tcase_add_test(tc, narrowed_view_serves_only_listed_addresses);
	tcase_add_test(tc, narrowed_to_one_family);
	tcase_add_test(tc, socket_no_longer_listed_serves_nothing);
	tcase_add_test(tc, allows_local_maps_ipv4_and_asks_only_when_narrowed);
	tcase_add_test(tc, local_part_of_families);
	tcase_set_timeout(tc, 10);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(view_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
