/* SPDX-License-Identifier: MIT */
/* jsonout: jansson with echod's conventions for strings, numbers and lines (jsonout.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jsonout.h"
#include "textesc.h"

/*
 * Compact, keys in the order they were set (jansson keeps insertion order),
 * and reals in up to 15 significant digits: a value rounded to 6 decimals
 * prints as its decimals, not as 0.10000000000000001.
 */
#define JSONOUT_FLAGS	(JSON_COMPACT | JSON_REAL_PRECISION(15))

json_t *
jsonout_string(const char *s)
{
	size_t size;
	char *buf;
	json_t *j;

	if (s == NULL)
		return json_null();
	size = strlen(s) * 4 + 1;
	buf = malloc(size);
	if (buf == NULL)
		return NULL;
	j = json_string(textesc(s, false, buf, size));
	free(buf);
	return j;
}

json_t *
jsonout_real(double v, int decimals)
{
	double scale = 1;

	if (!isfinite(v))
		return json_null();
	for (int i = 0; i < decimals; i++)
		scale *= 10;
	return json_real(round(v * scale) / scale);
}

json_t *
jsonout_uint(uint64_t v)
{
	return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

void
jsonout_set(json_t *obj, const char *key, json_t *value)
{
	if (value != NULL)
		json_object_set_new(obj, key, value);
}

int
jsonout_line(json_t *obj, FILE *f)
{
	int r;

	if (obj == NULL)
		return -1;
	r = json_dumpf(obj, f, JSONOUT_FLAGS);
	json_decref(obj);
	if (r == -1 || putc('\n', f) == EOF)
		return -1;
	return 0;
}

char *
jsonout_text(json_t *obj)
{
	char *text;

	if (obj == NULL)
		return NULL;
	text = json_dumps(obj, JSONOUT_FLAGS);
	json_decref(obj);
	return text;
}
