/* SPDX-License-Identifier: MIT */
/* Probe payloads: a fixed message, or random bytes that name their own sequence number. */
#ifndef ECHOD_CLIENT_PAYLOAD_H
#define ECHOD_CLIENT_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

/* Generated payloads of at least this size start with a header: a per-run nonce and the
 * sequence number, both big-endian 32-bit, so a late or corrupted UDP reply can be told
 * apart from the current one. The rest is pseudo-random, derived from nonce and sequence. */
#define PAYLOAD_HEADER	8

struct payload {
	size_t size;
	const char *message;	/* fixed payload, or NULL to generate one per sequence */
	uint32_t nonce;
	unsigned char *scratch;	/* size bytes, for regenerating an expected payload */
};

/* Returns 0, or -1 with errno (ENOMEM). */
int payload_init(struct payload *p, const char *message, size_t size);
void payload_free(struct payload *p);

/* Write sequence seq's payload (p->size bytes) into buf. */
void payload_fill(const struct payload *p, uint32_t seq, unsigned char *buf);

/* The sequence number buf claims to answer, or 0 when it carries no header of this run
 * (fixed messages, payloads shorter than PAYLOAD_HEADER, foreign or corrupted data). */
uint32_t payload_seq(const struct payload *p, const unsigned char *buf, size_t n);

/*
 * Compare the n bytes at buf with sequence seq's payload. Returns -1 when they are the same,
 * else the offset of the first difference (n or p->size when one is a prefix of the other).
 */
long payload_diff(struct payload *p, uint32_t seq, const unsigned char *buf, size_t n);

/* Same as payload_diff(), against an already filled expected buffer of p->size bytes. */
long payload_cmp(const struct payload *p, const unsigned char *expected,
    const unsigned char *buf, size_t n);

#endif
