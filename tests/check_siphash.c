/* SPDX-License-Identifier: MIT */
/* check_siphash: SipHash-2-4 against the reference vectors, and its dependence on the key. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "siphash.h"

/* Key 00..0f, message 00 01 02 ... of the given length (the paper's appendix A and the
 * reference implementation's vectors). */
static const struct {
	size_t len;
	uint64_t hash;
} vectors[] = {
	{ 0, UINT64_C(0x726fdb47dd0e0e31) },
	{ 1, UINT64_C(0x74f839c593dc67fd) },
	{ 2, UINT64_C(0x0d6c8009d9a94f5a) },
	{ 3, UINT64_C(0x85676696d7fb7e2d) },
	{ 4, UINT64_C(0xcf2794e0277187b7) },
	{ 8, UINT64_C(0x93f5f5799a932462) },
	{ 15, UINT64_C(0xa129ca6149be45e5) },
};

START_TEST(test_vectors)
{
	uint8_t key[SIPHASH_KEYLEN], msg[64];

	for (int i = 0; i < SIPHASH_KEYLEN; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < (int)sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	ck_assert_uint_eq(siphash24(key, msg, vectors[_i].len), vectors[_i].hash);
}
END_TEST

/* The point of a keyed hash: another key, another bucket layout. */
START_TEST(test_key_matters)
{
	uint8_t k1[SIPHASH_KEYLEN] = { 0 }, k2[SIPHASH_KEYLEN] = { 0 };
	uint8_t msg[16] = { [10] = 0xff, [11] = 0xff, [12] = 192, [15] = 1 };
	int same = 0;

	k2[15] = 1;
	ck_assert_uint_ne(siphash24(k1, msg, sizeof(msg)), siphash24(k2, msg, sizeof(msg)));
	/* Low bits (bucket index material) of 256 addresses rarely agree under two keys. */
	for (int i = 0; i < 256; i++) {
		msg[15] = (uint8_t)i;
		same += (siphash24(k1, msg, sizeof(msg)) & 0xff) ==
		    (siphash24(k2, msg, sizeof(msg)) & 0xff);
	}
	ck_assert_int_lt(same, 16);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("siphash");
	TCase *tc = tcase_create("siphash");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_vectors, 0, sizeof(vectors) / sizeof(vectors[0]));
	tcase_add_test(tc, test_key_matters);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
