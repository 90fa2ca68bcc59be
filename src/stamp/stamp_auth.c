/* SPDX-License-Identifier: MIT */
/* stamp_auth: STAMP's HMAC-SHA-256 (RFC 8762 4.4) and the key file it is keyed from. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/hmac.h>
#include <nettle/memops.h>

#include "stamp.h"

/* Room for 128 hex digits, a newline and some trailing blanks; more is not a key. */
#define KEYFILE_MAX	160

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One line of hex digits, trailing whitespace allowed. 0, or -1 (EINVAL). */
static int
key_decode(const char *text, size_t n, struct stamp_key *k)
{
	while (n > 0 && isspace((unsigned char)text[n - 1]))
		n--;
	if (n % 2 != 0 || n < 2 * STAMP_KEY_MIN || n > 2 * STAMP_KEY_MAX)
		goto bad;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hexval(text[i]), lo = hexval(text[i + 1]);

		if (hi < 0 || lo < 0)
			goto bad;
		k->key[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	k->len = n / 2;
	return 0;
bad:
	explicit_bzero(k, sizeof(*k));
	errno = EINVAL;
	return -1;
}

int
stamp_key_load(const char *path, struct stamp_key *k)
{
	char text[KEYFILE_MAX + 1];
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd, ret = -1, saved;

	memset(k, 0, sizeof(*k));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto done;
	/* Group may read (root:echod 0640); nobody else may read, nobody but the owner write. */
	if (!S_ISREG(st.st_mode) || (st.st_mode & (S_IRWXO | S_IWGRP))) {
		errno = S_ISREG(st.st_mode) ? EPERM : EINVAL;
		goto done;
	}
	while (got < sizeof(text) && (n = read(fd, text + got, sizeof(text) - got)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			goto done;
		}
		got += (size_t)n;
	}
	if (got > KEYFILE_MAX) {
		errno = EINVAL;
		goto done;
	}
	ret = key_decode(text, got, k);
done:
	saved = errno;
	explicit_bzero(text, sizeof(text));
	close(fd);
	errno = saved;
	return ret;
}

void
stamp_hmac(const struct stamp_key *k, const uint8_t *a, size_t alen, const uint8_t *b,
    size_t blen, uint8_t out[STAMP_HMAC_LEN])
{
	struct hmac_sha256_ctx ctx;

	hmac_sha256_set_key(&ctx, k->len, k->key);
	hmac_sha256_update(&ctx, alen, a);
	if (b != NULL && blen > 0)
		hmac_sha256_update(&ctx, blen, b);
	/* nettle truncates to the length asked for: the first 128 bits, as RFC 8762 says. */
	hmac_sha256_digest(&ctx, STAMP_HMAC_LEN, out);
	explicit_bzero(&ctx, sizeof(ctx));
}

bool
stamp_hmac_equal(const uint8_t a[STAMP_HMAC_LEN], const uint8_t b[STAMP_HMAC_LEN])
{
	/* Constant time: a byte-wise early exit would tell a forger how much was right. */
	return memeql_sec(a, b, STAMP_HMAC_LEN) != 0;
}

bool
stamp_auth_verify(const struct stamp_key *k, const uint8_t *pkt, size_t len)
{
	uint8_t mac[STAMP_HMAC_LEN];

	if (len < STAMP_AUTH_LEN)
		return false;
	stamp_hmac(k, pkt, STAMP_AUTH_HMAC_OFF, NULL, 0, mac);
	return stamp_hmac_equal(mac, pkt + STAMP_AUTH_HMAC_OFF);
}

void
stamp_auth_sign(const struct stamp_key *k, uint8_t *pkt)
{
	stamp_hmac(k, pkt, STAMP_AUTH_HMAC_OFF, NULL, 0, pkt + STAMP_AUTH_HMAC_OFF);
}
