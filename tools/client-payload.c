/* SPDX-License-Identifier: MIT */
/* Probe payloads: a fixed message, or random bytes that name their own sequence number. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "client-payload.h"

/* splitmix64: tiny, fast, and every (nonce, seq) seed gives an unrelated stream. Payloads
 * need to be unpredictable to a broken server, not to an attacker. */
static uint64_t
payload_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

int
payload_init(struct payload *p, const char *message, size_t size)
{
	memset(p, 0, sizeof(*p));
	p->message = message;
	p->size = size;
	if (getrandom(&p->nonce, sizeof(p->nonce), 0) != sizeof(p->nonce))
		p->nonce = (uint32_t)time(NULL) ^ (uint32_t)getpid() << 16;
	p->scratch = malloc(size > 0 ? size : 1);
	return p->scratch == NULL ? -1 : 0;
}

void
payload_free(struct payload *p)
{
	free(p->scratch);
	p->scratch = NULL;
}

static void
payload_put32(unsigned char *b, uint32_t v)
{
	b[0] = v >> 24;
	b[1] = v >> 16;
	b[2] = v >> 8;
	b[3] = v;
}

void
payload_set_pattern(struct payload *p, const unsigned char *pattern, size_t len)
{
	p->pattern = len > 0 ? pattern : NULL;
	p->pattern_len = len;
}

static uint32_t
payload_get32(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

void
payload_fill(const struct payload *p, uint32_t seq, uint64_t stamp, unsigned char *buf)
{
	uint64_t state = (uint64_t)p->nonce << 32 | seq, r;
	size_t i = 0, n;

	if (p->message != NULL) {
		memcpy(buf, p->message, p->size);
		return;
	}
	if (p->size >= PAYLOAD_HEADER) {
		payload_put32(buf, p->nonce);
		payload_put32(buf + 4, seq);
		i = PAYLOAD_HEADER;
	}
	if (p->size >= PAYLOAD_STAMPED) {
		payload_put32(buf + 8, (uint32_t)(stamp >> 32));
		payload_put32(buf + 12, (uint32_t)stamp);
		i = PAYLOAD_STAMPED;
	}
	for (size_t k = 0; p->pattern != NULL && i < p->size; i++, k++)
		buf[i] = p->pattern[k % p->pattern_len];
	while (i < p->size) {
		r = payload_next(&state);
		n = p->size - i < sizeof(r) ? p->size - i : sizeof(r);
		memcpy(buf + i, &r, n);
		i += n;
	}
}

uint32_t
payload_seq(const struct payload *p, const unsigned char *buf, size_t n)
{
	if (p->message != NULL || p->size < PAYLOAD_HEADER || n < PAYLOAD_HEADER)
		return 0;
	if (payload_get32(buf) != p->nonce)
		return 0;
	return payload_get32(buf + 4);
}

void
payload_restamp(const struct payload *p, uint64_t stamp, unsigned char *buf)
{
	if (p->message != NULL || p->size < PAYLOAD_STAMPED)
		return;
	payload_put32(buf + 8, (uint32_t)(stamp >> 32));
	payload_put32(buf + 12, (uint32_t)stamp);
}

uint64_t
payload_stamp(const struct payload *p, const unsigned char *buf, size_t n)
{
	if (payload_seq(p, buf, n) == 0 || p->size < PAYLOAD_STAMPED || n < PAYLOAD_STAMPED)
		return 0;
	return (uint64_t)payload_get32(buf + 8) << 32 | payload_get32(buf + 12);
}

long
payload_cmp(const struct payload *p, const unsigned char *expected, const unsigned char *buf,
    size_t n)
{
	size_t common = n < p->size ? n : p->size, i;

	if (n == p->size && memcmp(expected, buf, n) == 0)
		return -1;
	for (i = 0; i < common && expected[i] == buf[i]; i++)
		;
	return (long)i;
}

long
payload_diff(struct payload *p, uint32_t seq, uint64_t stamp, const unsigned char *buf,
    size_t n)
{
	payload_fill(p, seq, stamp, p->scratch);
	return payload_cmp(p, p->scratch, buf, n);
}
