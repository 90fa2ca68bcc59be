/* SPDX-License-Identifier: MIT */
/* stamp-golden: the STAMP tests' golden data (tests/data/stamp-*.hex), read the same way. */
#ifndef ECHOD_TESTS_STAMP_GOLDEN_H
#define ECHOD_TESTS_STAMP_GOLDEN_H

#include <stddef.h>
#include <stdint.h>

#include "stamp.h"

/* tests/data/NAME, or $TEST_DATA/NAME (make check sets it); a static buffer. */
const char *golden_path(const char *name);
/* A hex file's octets: hex digit pairs, '#' to the end of a line is a comment. */
size_t	golden_hex(const char *name, uint8_t *buf, size_t cap);
/*
 * stamp-key.hex loaded as echod would: git checks it out 0644, which
 * stamp_key_load() refuses, so through a private 0600 copy.
 */
void	golden_key(struct stamp_key *k);

#endif
