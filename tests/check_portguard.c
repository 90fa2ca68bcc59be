/* SPDX-License-Identifier: MIT */
/* check_portguard: the UDP source-port drop set, port 0 included, on raw ports and peers. */
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
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
