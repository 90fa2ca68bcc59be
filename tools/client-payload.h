/* SPDX-License-Identifier: MIT */
/* Probe payloads: a fixed message, or random bytes that name their own sequence number. */
#ifndef ECHOD_CLIENT_PAYLOAD_H
#define ECHOD_CLIENT_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

/* Generated payloads of at least this size start with a header: a per-run nonce and the
 * sequence number, both big-endian 32-bit, so a late or corrupted UDP reply can be told
 * apart from the current one. From PAYLOAD_STAMPED bytes on, the send time follows
 * (big-endian 64-bit nanoseconds of CLOCK_REALTIME), so a reply carries its own send time.
 * The rest is pseudo-random, derived from nonce and sequence, or the --pattern repeated. */
#define PAYLOAD_HEADER	8
#define PAYLOAD_STAMPED	16

struct payload {
	size_t size;
	const char *message;	/* fixed payload, or NULL to generate one per sequence */
	const unsigned char *pattern;	/* fill after the header, or NULL for random bytes */
	size_t pattern_len;
	uint32_t nonce;
	unsigned char *scratch;	/* size bytes, for regenerating an expected payload */
};

/* Returns 0, or -1 with errno (ENOMEM). */
int payload_init(struct payload *p, const char *message, size_t size);
void payload_free(struct payload *p);

/* Fill payloads with pattern[0..len) repeated after the header (the caller keeps it). */
void payload_set_pattern(struct payload *p, const unsigned char *pattern, size_t len);

/* Write sequence seq's payload (p->size bytes), sent at stamp, into buf. */
void payload_fill(const struct payload *p, uint32_t seq, uint64_t stamp, unsigned char *buf);

/* Put the send time into an already filled payload (no-op below PAYLOAD_STAMPED bytes), so
 * that it is read from the clock after the payload was generated, right before sending. */
void payload_restamp(const struct payload *p, uint64_t stamp, unsigned char *buf);

/* The send time a stamped payload of this run carries, or 0 (too short, foreign). */
uint64_t payload_stamp(const struct payload *p, const unsigned char *buf, size_t n);

/* The sequence number buf claims to answer, or 0 when it carries no header of this run
 * (fixed messages, payloads shorter than PAYLOAD_HEADER, foreign or corrupted data). */
uint32_t payload_seq(const struct payload *p, const unsigned char *buf, size_t n);

/*
 * Compare the n bytes at buf with sequence seq's payload. Returns -1 when they are the same,
 * else the offset of the first difference (n or p->size when one is a prefix of the other).
 */
long payload_diff(struct payload *p, uint32_t seq, uint64_t stamp, const unsigned char *buf,
    size_t n);

/* Same as payload_diff(), against an already filled expected buffer of p->size bytes. */
long payload_cmp(const struct payload *p, const unsigned char *expected,
    const unsigned char *buf, size_t n);

#endif
