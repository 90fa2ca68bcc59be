/* SPDX-License-Identifier: MIT */
/*
 * textesc: names (listener paths, peers) made safe for a line of text or a
 * JSON string, byte by byte, as "\xNN" (echodctl(8), "Names").
 */
#ifndef ECHOD_TEXTESC_H
#define ECHOD_TEXTESC_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (1 to 4), or 0 if s[0] starts none. */
size_t	textesc_utf8_len(const unsigned char *s, size_t n);

/*
 * Copy s into buf (size > 0, always NUL-terminated, truncated at a whole
 * character), writing each byte that is not part of valid UTF-8 as "\xNN";
 * with control, also each control character (below 0x20, and 0x7f), so that
 * the text is one line a terminal shows as it is. Returns buf.
 */
char	*textesc(const char *s, bool control, char *buf, size_t size);

/* Printed width of escaped text: one column per character (none for UTF-8 continuations). */
size_t	textesc_width(const char *s);

#endif
