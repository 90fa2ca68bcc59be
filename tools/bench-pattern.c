/* SPDX-License-Identifier: MIT */
/* The pseudo-random byte stream each connection sends, so that every echoed byte is checked. */
#include <string.h>

#include "bench.h"

/*
 * Connection k sends the bytes of one random block starting at its own offset, wrapping around.
 * The block length is prime and the per-connection offsets are distinct multiples, so two
 * connections never send the same sequence and a reply routed to the wrong connection, or a
 * stale or repeated chunk, fails the comparison. The block is stored twice over so that any
 * chunk of up to PATTERN_LEN bytes is contiguous: send and compare work in place, no copying.
 */
#define PATTERN_LEN	1048573u	/* prime, >= BENCH_MAX_CHUNK - a few */
#define PATTERN_STEP	104729u		/* prime, so k * STEP mod LEN is distinct for k < LEN */

static unsigned char pattern[2 * PATTERN_LEN];

void
pattern_init(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t i;

	/* xorshift64: cheap and good enough to make every offset look different. */
	for (i = 0; i < PATTERN_LEN; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		pattern[i] = (unsigned char)(x >> 32);
	}
	memcpy(pattern + PATTERN_LEN, pattern, PATTERN_LEN);
}

uint64_t
pattern_base(uint64_t conn)
{
	return conn % PATTERN_LEN * PATTERN_STEP % PATTERN_LEN;
}

/* Pointer to the stream of base at offset off; at least PATTERN_LEN bytes are readable. */
const unsigned char *
pattern_at(uint64_t base, uint64_t off)
{
	return pattern + (base + off) % PATTERN_LEN;
}

bool
pattern_match(uint64_t base, uint64_t off, const void *buf, size_t len)
{
	return memcmp(pattern_at(base, off), buf, len) == 0;
}
