/* SPDX-License-Identifier: MIT */
/* stamp-golden: the STAMP tests' golden data (tests/data/stamp-*.hex), read the same way. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stamp-golden.h"

const char *
golden_path(const char *name)
{
	static char path[4096];
	const char *dir = getenv("TEST_DATA");

	snprintf(path, sizeof(path), "%s/%s", dir != NULL ? dir : "tests/data", name);
	return path;
}

size_t
golden_hex(const char *name, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(golden_path(name), "r");
	char line[512];
	size_t n = 0;

	ck_assert_msg(f != NULL, "%s: %s", golden_path(name), strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		char *hash = strchr(line, '#'), *p = line;
		unsigned v;
		int used;

		if (hash != NULL)
			*hash = '\0';
		while (sscanf(p, "%2x%n", &v, &used) == 1) {
			ck_assert_uint_lt(n, cap);
			buf[n++] = (uint8_t)v;
			p += used;
		}
	}
	fclose(f);
	return n;
}

void
golden_key(struct stamp_key *k)
{
	char path[] = "/tmp/stamp_golden_keyXXXXXX";
	uint8_t text[256];
	FILE *f = fopen(golden_path("stamp-key.hex"), "r");
	int fd = mkstemp(path);
	size_t n;

	ck_assert(f != NULL && fd != -1);
	n = fread(text, 1, sizeof(text), f);
	fclose(f);
	ck_assert_int_eq(write(fd, text, n), (ssize_t)n);
	close(fd);
	ck_assert_int_eq(stamp_key_load(path, k), 0);
	unlink(path);
	ck_assert_uint_eq(k->len, 32);
}
