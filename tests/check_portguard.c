/* SPDX-License-Identifier: MIT */
/* check_portguard: the UDP source-port rules (set, port 0, minimum, own port), ports and peers. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "portguard.h"

static const uint16_t defaults[] = { 7, 13, 17, 19, 37, 53, 123, 161, 1900, 11211 };

START_TEST(test_defaults)
{
	struct portguard pg;
	int dropped = 0;

	portguard_init(&pg, defaults, sizeof(defaults) / sizeof(defaults[0]));
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		ck_assert_msg(portguard_drops(&pg, defaults[i]), "port %u", defaults[i]);
	ck_assert(portguard_drops(&pg, 0));
	for (unsigned p = 0; p <= 65535; p++)
		dropped += portguard_drops(&pg, (uint16_t)p);
	/* Exactly the list and port 0: no neighbour bits set by an off-by-one. */
	ck_assert_int_eq(dropped, 11);
	ck_assert(!portguard_drops(&pg, 6));
	ck_assert(!portguard_drops(&pg, 8));
	ck_assert(!portguard_drops(&pg, 65535));
}
END_TEST

START_TEST(test_empty_still_drops_zero)
{
	struct portguard pg;

	portguard_init(&pg, NULL, 0);
	ck_assert(portguard_drops(&pg, 0));
	ck_assert(!portguard_drops(&pg, 7));
	ck_assert(!portguard_drops(&pg, 19));
}
END_TEST

START_TEST(test_edges)
{
	static const uint16_t ports[] = { 63, 64, 65535, 65535 };
	struct portguard pg;

	portguard_init(&pg, ports, 4);
	ck_assert(portguard_drops(&pg, 63));
	ck_assert(portguard_drops(&pg, 64));
	ck_assert(portguard_drops(&pg, 65535));
	ck_assert(!portguard_drops(&pg, 62));
	ck_assert(!portguard_drops(&pg, 65));
	ck_assert(!portguard_drops(&pg, 65534));
}
END_TEST

START_TEST(test_peer)
{
	static const uint16_t ports[] = { 19 };
	struct portguard pg;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(19) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(19) };
	struct sockaddr_un un = { .sun_family = AF_UNIX };

	portguard_init(&pg, ports, 1);
	ck_assert(portguard_drops_peer(&pg, (struct sockaddr *)&sin));
	ck_assert(portguard_drops_peer(&pg, (struct sockaddr *)&sin6));
	/* Network byte order really is converted: 19 is 0x1300 when swapped. */
	sin.sin_port = htons(0x1300);
	sin6.sin6_port = htons(4864);
	ck_assert(!portguard_drops_peer(&pg, (struct sockaddr *)&sin));
	ck_assert(!portguard_drops_peer(&pg, (struct sockaddr *)&sin6));
	sin.sin_port = 0;
	ck_assert(portguard_drops_peer(&pg, (struct sockaddr *)&sin));
	ck_assert(!portguard_drops_peer(&pg, (struct sockaddr *)&un));
}
END_TEST

static bool
refuses(const struct portguard *pg, int family, uint16_t src, uint16_t local, uint16_t min)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(src) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(src) };

	if (family == AF_INET)
		return portguard_refuses(pg, (struct sockaddr *)&sin, local, min);
	return portguard_refuses(pg, (struct sockaddr *)&sin6, local, min);
}

/* Below the minimum, the socket's own port, or in the set: each alone is enough. */
START_TEST(test_refuses)
{
	static const uint16_t ports[] = { 19, 11211 };
	static const int families[] = { AF_INET, AF_INET6 };
	struct portguard pg;
	struct sockaddr_un un = { .sun_family = AF_UNIX };

	portguard_init(&pg, ports, 2);
	for (size_t f = 0; f < 2; f++) {
		int fam = families[f];

		ck_assert(refuses(&pg, fam, 0, 7007, 1024));
		ck_assert(refuses(&pg, fam, 19, 7007, 1024));
		ck_assert(refuses(&pg, fam, 1023, 7007, 1024));
		ck_assert(!refuses(&pg, fam, 1024, 7007, 1024));
		/* The same-service loop: another echo service on our port answers us. */
		ck_assert(refuses(&pg, fam, 7007, 7007, 1024));
		ck_assert(!refuses(&pg, fam, 7006, 7007, 1024));
		ck_assert(!refuses(&pg, fam, 7008, 7007, 1024));
		/* Above the minimum the set still holds. */
		ck_assert(refuses(&pg, fam, 11211, 7007, 1024));
		ck_assert(!refuses(&pg, fam, 65535, 7007, 1024));
		/* Minimum 0: only the set, port 0 and the own port. */
		ck_assert(!refuses(&pg, fam, 1, 7007, 0));
		ck_assert(!refuses(&pg, fam, 7, 7007, 0));
		ck_assert(refuses(&pg, fam, 0, 7007, 0));
		ck_assert(refuses(&pg, fam, 19, 7007, 0));
		ck_assert(refuses(&pg, fam, 7007, 7007, 0));
		/* Minimum 65535: that one port alone. */
		ck_assert(refuses(&pg, fam, 65534, 7007, 65535));
		ck_assert(!refuses(&pg, fam, 65535, 7007, 65535));
		ck_assert(refuses(&pg, fam, 65535, 65535, 65535));
	}
	/* A Unix peer has no port: nothing to judge. */
	ck_assert(!portguard_refuses(&pg, (struct sockaddr *)&un, 7007, 1024));
}
END_TEST

START_TEST(test_add)
{
	struct portguard pg;

	portguard_init(&pg, NULL, 0);
	portguard_add(&pg, 7007);
	portguard_add(&pg, 65535);
	ck_assert(portguard_drops(&pg, 7007));
	ck_assert(portguard_drops(&pg, 65535));
	ck_assert(portguard_drops(&pg, 0));
	ck_assert(!portguard_drops(&pg, 7006));
	ck_assert(!portguard_drops(&pg, 7008));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("portguard");
	TCase *tc = tcase_create("portguard");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_empty_still_drops_zero);
	tcase_add_test(tc, test_edges);
	tcase_add_test(tc, test_peer);
	tcase_add_test(tc, test_refuses);
	tcase_add_test(tc, test_add);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
