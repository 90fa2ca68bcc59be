/* SPDX-License-Identifier: MIT */
/*
 * jsonout: the few helpers every JSON echod, echodctl and echo-client write
 * goes through; the JSON itself is jansson's (json_t objects, json_dumpf()).
 */
#ifndef ECHOD_JSONOUT_H
#define ECHOD_JSONOUT_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/*
 * A JSON string holding s; NULL gives JSON null. jansson takes valid UTF-8
 * only: a byte that is not part of it (a Unix socket path is any bytes) is
 * written as the four characters "\xNN" (textesc.h). Control characters stay
 * what they are (JSON escapes them). New reference, or NULL (out of memory).
 */
json_t	*jsonout_string(const char *s);

/*
 * v rounded to decimals places (0 to 9: what "%.<decimals>f" wrote before
 * jansson), a JSON real; NaN and infinities, which JSON has not, give null.
 */
json_t	*jsonout_real(double v, int decimals);

/* An unsigned counter (a JSON integer; jansson's are signed 64 bits). */
json_t	*jsonout_uint(uint64_t v);

/* Set key of obj to value, stealing it; a NULL value (out of memory) is left out. */
void	jsonout_set(json_t *obj, const char *key, json_t *value);

/*
 * obj as one compact line on f (JSON Lines), then its reference dropped.
 * 0, or -1 (obj NULL: out of memory, or the write failed).
 */
int	jsonout_line(json_t *obj, FILE *f);

/* The same into a malloc'd string without the newline; NULL when out of memory. */
char	*jsonout_text(json_t *obj);

#endif
