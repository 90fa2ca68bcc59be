/* SPDX-License-Identifier: MIT */
/* textesc: names made safe for a line of text or a JSON string (textesc.h). */
#include <stdio.h>
#include <string.h>

#include "textesc.h"

/*
 * RFC 3629: no overlong forms, no surrogates (U+D800..U+DFFF), nothing past
 * U+10FFFF. jansson refuses such strings, and a terminal may show them as anything.
 */
size_t
textesc_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	/* The second byte's range is what rules out overlongs, surrogates and > U+10FFFF. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

char *
textesc(const char *s, bool control, char *buf, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), used = 0, len;

	while (n > 0) {
		len = textesc_utf8_len(p, n);
		if (len == 0 || (control && len == 1 && (*p < 0x20 || *p == 0x7f))) {
			if (used + 4 >= size)
				break;
			snprintf(buf + used, size - used, "\\x%02x", *p);
			used += 4;
			len = 1;
		} else {
			if (used + len >= size)
				break;
			memcpy(buf + used, p, len);
			used += len;
		}
		p += len;
		n -= len;
	}
	buf[used] = '\0';
	return buf;
}

size_t
textesc_width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}
