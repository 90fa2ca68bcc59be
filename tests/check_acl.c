/* SPDX-License-Identifier: MIT */
/* check_acl: CIDR parsing and messages, IPv4/IPv6/mapped matching, allow/deny semantics. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "acl.h"
#include "addr.h"

/* A peer as recvfrom() would fill it in; port 7 is arbitrary. */
static struct sockaddr_storage
peer(const char *text)
{
	struct sockaddr_storage ss;
	socklen_t len;

	ck_assert_msg(addr_parse(text, 7, &ss, &len) == 0, "peer %s", text);
	return ss;
}

#define SA(ss) ((const struct sockaddr *)&(ss))

static const struct {
	const char *text;
	const char *canonical;
	int family;
	int prefix;
} good[] = {
	{ "10.0.0.0/8", "10.0.0.0/8", AF_INET, 8 },
	{ "192.0.2.1", "192.0.2.1/32", AF_INET, 32 },
	{ "192.0.2.1/32", "192.0.2.1/32", AF_INET, 32 },
	{ "0.0.0.0/0", "0.0.0.0/0", AF_INET, 0 },
	{ "172.16.0.0/12", "172.16.0.0/12", AF_INET, 12 },
	{ "::1", "::1/128", AF_INET6, 128 },
	{ "::1/128", "::1/128", AF_INET6, 128 },
	{ "::/0", "::/0", AF_INET6, 0 },
	{ "2001:db8::/32", "2001:db8::/32", AF_INET6, 32 },
	{ "2001:DB8:0:0:8000::/65", "2001:db8:0:0:8000::/65", AF_INET6, 65 },
	{ "fe80::/10", "fe80::/10", AF_INET6, 10 },
	/* Mapped networks become the IPv4 network that dual-stack peers match. */
	{ "::ffff:10.0.0.0/104", "10.0.0.0/8", AF_INET, 8 },
	{ "::ffff:192.0.2.7", "192.0.2.7/32", AF_INET, 32 },
	{ "::ffff:0:0/96", "0.0.0.0/0", AF_INET, 0 },
	/* Shorter than /96 also covers non-mapped space: stays IPv6. */
	{ "::fffe:0:0/95", "::fffe:0:0/95", AF_INET6, 95 },
};

START_TEST(test_parse_good)
{
	struct cidr c;
	char err[128] = "", buf[ACL_CIDR_STRLEN];
	int r = acl_parse(good[_i].text, &c, err, sizeof(err));

	ck_assert_msg(r == 0, "%s: %s", good[_i].text, err);
	ck_assert_int_eq(c.family, good[_i].family);
	ck_assert_int_eq(c.prefix, good[_i].prefix);
	ck_assert_str_eq(acl_format(&c, buf, sizeof(buf)), good[_i].canonical);
}
END_TEST

static const struct {
	const char *text;
	const char *message;
} bad[] = {
	{ "", "\"\" is not an IPv4 or IPv6 address" },
	{ "10.0.0/8", "\"10.0.0/8\" is not an IPv4 or IPv6 address" },
	{ " 10.0.0.0/8", "is not an IPv4 or IPv6 address" },
	{ "host.example", "is not an IPv4 or IPv6 address" },
	{ "fe80::1%eth0", "is not an IPv4 or IPv6 address" },
	{ "10.0.0.256", "is not an IPv4 or IPv6 address" },
	{ "/8", "is not an IPv4 or IPv6 address" },
	{ "10.0.0.0/", "\"10.0.0.0/\": the prefix length after '/' must be 0 to 32 for IPv4" },
	{ "10.0.0.0/33", "must be 0 to 32 for IPv4" },
	{ "10.0.0.0/-1", "must be 0 to 32 for IPv4" },
	{ "10.0.0.0/+8", "must be 0 to 32 for IPv4" },
	{ "10.0.0.0/8 ", "must be 0 to 32 for IPv4" },
	{ "10.0.0.0/8/8", "must be 0 to 32 for IPv4" },
	{ "10.0.0.0/0008", "must be 0 to 32 for IPv4" },
	{ "::/129", "\"::/129\": the prefix length after '/' must be 0 to 128 for IPv6" },
	{ "::/1x", "must be 0 to 128 for IPv6" },
	{ "10.0.0.1/8", "\"10.0.0.1/8\": host bits set beyond the /8 prefix "
	    "(the network would be 10.0.0.0/8)" },
	{ "192.168.1.1/16", "(the network would be 192.168.0.0/16)" },
	{ "10.0.0.1/0", "(the network would be 0.0.0.0/0)" },
	{ "2001:db8::1/32", "host bits set beyond the /32 prefix "
	    "(the network would be 2001:db8::/32)" },
	{ "2001:db8::1/127", "(the network would be 2001:db8::/127)" },
	{ "2001:db8:0:0:4000::/65", "(the network would be 2001:db8::/65)" },
	{ "::ffff:0:0/95", "(the network would be ::fffe:0:0/95)" },
	{ "::ffff:10.0.0.1/104", "host bits set beyond the /104 prefix "
	    "(the network would be 10.0.0.0/8)" },
};

START_TEST(test_parse_bad)
{
	struct cidr c = { .prefix = 99 };
	char err[160] = "";

	errno = 0;
	ck_assert_int_eq(acl_parse(bad[_i].text, &c, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_msg(strstr(err, bad[_i].message) != NULL, "\"%s\": got \"%s\", want \"%s\"",
	    bad[_i].text, err, bad[_i].message);
	ck_assert_int_eq(c.prefix, 99);		/* out untouched on error */
}
END_TEST

START_TEST(test_parse_small_errbuf)
{
	struct cidr c;
	char err[8];

	memset(err, 'x', sizeof(err));
	ck_assert_int_eq(acl_parse("10.0.0.1/8", &c, err, 4), -1);
	ck_assert_str_eq(err, "\"10");
	ck_assert_int_eq(err[4], 'x');
}
END_TEST

/* list, peer, expected */
static const struct {
	const char *cidr;
	const char *peer;
	bool in;
} match[] = {
	{ "10.0.0.0/8", "10.0.0.0", true },
	{ "10.0.0.0/8", "10.255.255.255", true },
	{ "10.0.0.0/8", "11.0.0.0", false },
	{ "10.0.0.0/8", "9.255.255.255", false },
	{ "192.0.2.1", "192.0.2.1", true },
	{ "192.0.2.1", "192.0.2.2", false },
	{ "0.0.0.0/0", "203.0.113.9", true },
	/* Dual-stack sockets report IPv4 peers as mapped addresses. */
	{ "10.0.0.0/8", "::ffff:10.1.2.3", true },
	{ "10.0.0.0/8", "::ffff:11.1.2.3", false },
	{ "0.0.0.0/0", "::ffff:198.51.100.1", true },
	{ "::ffff:10.0.0.0/104", "10.9.9.9", true },
	{ "127.0.0.0/8", "::ffff:127.0.0.1", true },
	/* The families do not leak into each other. */
	{ "0.0.0.0/0", "2001:db8::a00:1", false },
	{ "10.0.0.0/8", "::a00:1", false },
	{ "::/0", "10.0.0.1", false },
	{ "::/0", "::ffff:10.0.0.1", false },
	{ "::/0", "2001:db8::1", true },
	{ "::1/128", "::1", true },
	{ "::1/128", "::2", false },
	{ "::1/128", "127.0.0.1", false },
	{ "2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true },
	{ "2001:db8::/32", "2001:db9::", false },
	{ "2001:db8:1:2::/64", "2001:db8:1:2:ffff::1", true },
	{ "2001:db8:1:2::/64", "2001:db8:1:3::1", false },
	{ "2001:db8::8000:0:0:0/65", "2001:db8::8000:0:0:1", true },
	{ "2001:db8::8000:0:0:0/65", "2001:db8::7fff:0:0:1", false },
	{ "2001:db8::/127", "2001:db8::1", true },
	{ "2001:db8::/127", "2001:db8::2", false },
	{ "fe80::/10", "febf::1", true },
	{ "fe80::/10", "fec0::1", false },
};

START_TEST(test_contains)
{
	struct cidr c;
	char err[128] = "";
	struct sockaddr_storage p = peer(match[_i].peer);

	ck_assert_msg(acl_parse(match[_i].cidr, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(acl_list_contains(&c, 1, SA(p)) == match[_i].in, "%s in %s: want %d",
	    match[_i].peer, match[_i].cidr, match[_i].in);
}
END_TEST

static void
fill(struct cidr **list, size_t *n, const char *const *texts)
{
	char err[128] = "";

	for (; *texts != NULL; texts++)
		ck_assert_msg(acl_list_append(list, n, *texts, err, sizeof(err)) == 0, "%s", err);
}

START_TEST(test_list_many)
{
	static const char *const texts[] = {
		"192.0.2.0/24", "2001:db8::/48", "198.51.100.7", "::1", NULL,
	};
	struct cidr *list = NULL;
	size_t n = 0;
	char err[128];
	struct sockaddr_storage p;

	fill(&list, &n, texts);
	ck_assert_uint_eq(n, 4);
	/* A bad entry leaves the list as it was. */
	ck_assert_int_eq(acl_list_append(&list, &n, "10.0.0.1/8", err, sizeof(err)), -1);
	ck_assert_uint_eq(n, 4);
	p = peer("198.51.100.7");
	ck_assert(acl_list_contains(list, n, SA(p)));
	p = peer("::ffff:192.0.2.200");
	ck_assert(acl_list_contains(list, n, SA(p)));
	p = peer("2001:db8:0:ffff::1");
	ck_assert(acl_list_contains(list, n, SA(p)));
	p = peer("::1");
	ck_assert(acl_list_contains(list, n, SA(p)));
	p = peer("2001:db8:1::1");
	ck_assert(!acl_list_contains(list, n, SA(p)));
	p = peer("198.51.100.8");
	ck_assert(!acl_list_contains(list, n, SA(p)));
	ck_assert(!acl_list_contains(list, 0, SA(p)));
	free(list);
}
END_TEST

START_TEST(test_permits_empty)
{
	struct acl acl = { 0 };
	struct sockaddr_storage v4 = peer("203.0.113.1"), v6 = peer("2001:db8::1");
	struct sockaddr_un un = { .sun_family = AF_UNIX };

	ck_assert(acl_permits(NULL, SA(v4)));
	ck_assert(acl_permits(&acl, SA(v4)));
	ck_assert(acl_permits(&acl, SA(v6)));
	ck_assert(acl_permits(&acl, (const struct sockaddr *)&un));
}
END_TEST

START_TEST(test_permits_deny_wins)
{
	static const char *const allow[] = { "10.0.0.0/8", "2001:db8::/32", NULL };
	static const char *const deny[] = { "10.1.0.0/16", "2001:db8:bad::/48", NULL };
	struct acl acl = { 0 };
	struct sockaddr_storage p;
	struct sockaddr_un un = { .sun_family = AF_UNIX };

	fill(&acl.allow, &acl.nallow, allow);
	fill(&acl.deny, &acl.ndeny, deny);
	p = peer("10.2.3.4");
	ck_assert(acl_permits(&acl, SA(p)));
	p = peer("::ffff:10.2.3.4");
	ck_assert(acl_permits(&acl, SA(p)));
	p = peer("10.1.3.4");
	ck_assert(!acl_permits(&acl, SA(p)));
	p = peer("::ffff:10.1.3.4");
	ck_assert(!acl_permits(&acl, SA(p)));
	p = peer("2001:db8:1::1");
	ck_assert(acl_permits(&acl, SA(p)));
	p = peer("2001:db8:bad::1");
	ck_assert(!acl_permits(&acl, SA(p)));
	/* Not in a non-empty allow list: refused. */
	p = peer("192.0.2.1");
	ck_assert(!acl_permits(&acl, SA(p)));
	p = peer("2001:db9::1");
	ck_assert(!acl_permits(&acl, SA(p)));
	ck_assert(!acl_permits(&acl, (const struct sockaddr *)&un));
	acl_free(&acl);
	ck_assert_ptr_null(acl.allow);
	ck_assert_uint_eq(acl.nallow + acl.ndeny, 0);
}
END_TEST

START_TEST(test_permits_deny_only)
{
	static const char *const deny[] = { "192.0.2.0/24", "::ffff:198.51.100.0/120", NULL };
	struct acl acl = { 0 };
	struct sockaddr_storage p;
	struct sockaddr_un un = { .sun_family = AF_UNIX };

	fill(&acl.deny, &acl.ndeny, deny);
	p = peer("192.0.2.77");
	ck_assert(!acl_permits(&acl, SA(p)));
	p = peer("198.51.100.1");
	ck_assert(!acl_permits(&acl, SA(p)));
	p = peer("::ffff:198.51.100.1");
	ck_assert(!acl_permits(&acl, SA(p)));
	p = peer("192.0.3.1");
	ck_assert(acl_permits(&acl, SA(p)));
	p = peer("2001:db8::1");
	ck_assert(acl_permits(&acl, SA(p)));
	ck_assert(acl_permits(&acl, (const struct sockaddr *)&un));
	acl_free(&acl);
}
END_TEST

static Suite *
acl_suite(void)
{
	Suite *s = suite_create("acl");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_parse_good, 0, sizeof(good) / sizeof(good[0]));
	tcase_add_loop_test(tc, test_parse_bad, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_parse_small_errbuf);
	suite_add_tcase(s, tc);
	tc = tcase_create("match");
	tcase_add_loop_test(tc, test_contains, 0, sizeof(match) / sizeof(match[0]));
	tcase_add_test(tc, test_list_many);
	suite_add_tcase(s, tc);
	tc = tcase_create("permits");
	tcase_add_test(tc, test_permits_empty);
	tcase_add_test(tc, test_permits_deny_wins);
	tcase_add_test(tc, test_permits_deny_only);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(acl_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
