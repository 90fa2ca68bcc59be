/* SPDX-License-Identifier: MIT */
/* siphash: SipHash-2-4, a keyed hash that spoofed sources cannot steer into one bucket. */
#ifndef ECHOD_SIPHASH_H
#define ECHOD_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEYLEN 16

/* SipHash-2-4 (Aumasson and Bernstein, 2012) of len bytes with a 16-byte key. */
uint64_t siphash24(const uint8_t key[SIPHASH_KEYLEN], const void *data, size_t len);

#endif
