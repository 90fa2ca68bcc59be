/* SPDX-License-Identifier: MIT */
/* A strict little JSON reader for tests: is this one valid JSON value, and what are its fields? */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-check.h"

struct json_parser {
	const char *p;
	struct json_doc *doc;
	int depth;
};

static int json_value(struct json_parser *jp, const char *path);

static void
json_ws(struct json_parser *jp)
{
	while (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r')
		jp->p++;
}

static struct json_item *
json_add(struct json_parser *jp, const char *path, enum json_type type)
{
	struct json_item *it;

	if (jp->doc->n == sizeof(jp->doc->items) / sizeof(jp->doc->items[0]))
		return NULL;
	it = &jp->doc->items[jp->doc->n++];
	memset(it, 0, sizeof(*it));
	snprintf(it->path, sizeof(it->path), "%s", path);
	it->type = type;
	return it;
}

static int
json_hex4(const char *p)
{
	for (int i = 0; i < 4; i++)
		if (!strchr("0123456789abcdefABCDEF", p[i]) || p[i] == '\0')
			return -1;
	return 0;
}

/* A string; out (may be NULL) gets it unescaped, \u escapes kept as '?'. */
static int
json_string(struct json_parser *jp, char *out, size_t outlen)
{
	size_t n = 0;
	char c;

	if (*jp->p++ != '"')
		return -1;
	while ((c = *jp->p++) != '"') {
		if ((unsigned char)c < 0x20)
			return -1;
		if (c == '\\') {
			c = *jp->p++;
			if (c == 'u') {
				if (json_hex4(jp->p) == -1)
					return -1;
				jp->p += 4;
				c = '?';
			} else if (strchr("\"\\/bfnrt", c) == NULL || c == '\0') {
				return -1;
			}
		}
		if (out != NULL && n + 1 < outlen)
			out[n++] = c;
	}
	if (out != NULL)
		out[n] = '\0';
	return 0;
}

static const char *
json_digits(const char *s)
{
	const char *p = s;

	while (*p >= '0' && *p <= '9')
		p++;
	return p > s ? p : NULL;
}

/* JSON's number grammar, which is stricter than strtod's (no '+', hex, inf, nan, ".5",
 * leading zeros); strtod() only converts what the grammar accepted. */
static int
json_number(struct json_parser *jp, double *v)
{
	const char *s = jp->p;
	char buf[64];

	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if ((s = json_digits(s)) == NULL)
		return -1;
	if (*s == '.' && (s = json_digits(s + 1)) == NULL)
		return -1;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if ((s = json_digits(s)) == NULL)
			return -1;
	}
	if ((size_t)(s - jp->p) >= sizeof(buf))
		return -1;
	memcpy(buf, jp->p, (size_t)(s - jp->p));
	buf[s - jp->p] = '\0';
	*v = strtod(buf, NULL);
	jp->p = s;
	return 0;
}

static int
json_object(struct json_parser *jp, const char *path)
{
	char key[64], sub[160];

	jp->p++;
	json_ws(jp);
	if (*jp->p == '}') {
		jp->p++;
		return 0;
	}
	for (;;) {
		json_ws(jp);
		if (json_string(jp, key, sizeof(key)) == -1)
			return -1;
		json_ws(jp);
		if (*jp->p++ != ':')
			return -1;
		snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key);
		if (json_value(jp, sub) == -1)
			return -1;
		json_ws(jp);
		if (*jp->p == '}') {
			jp->p++;
			return 0;
		}
		if (*jp->p++ != ',')
			return -1;
	}
}

static int
json_array(struct json_parser *jp, const char *path)
{
	jp->p++;
	json_ws(jp);
	if (*jp->p == ']') {
		jp->p++;
		return 0;
	}
	for (;;) {
		if (json_value(jp, path) == -1)
			return -1;
		json_ws(jp);
		if (*jp->p == ']') {
			jp->p++;
			return 0;
		}
		if (*jp->p++ != ',')
			return -1;
	}
}

static int
json_literal(struct json_parser *jp, const char *path, const char *word, enum json_type t,
    double v)
{
	struct json_item *it;

	if (strncmp(jp->p, word, strlen(word)) != 0)
		return -1;
	jp->p += strlen(word);
	it = json_add(jp, path, t);
	if (it == NULL)
		return -1;
	it->number = v;
	return 0;
}

static int
json_value(struct json_parser *jp, const char *path)
{
	struct json_item *it;
	int r;

	if (++jp->depth > 16)
		return -1;
	json_ws(jp);
	switch (*jp->p) {
	case '{':
		r = json_add(jp, path, JSON_OBJECT) ? json_object(jp, path) : -1;
		break;
	case '[':
		r = json_add(jp, path, JSON_ARRAY) ? json_array(jp, path) : -1;
		break;
	case '"':
		it = json_add(jp, path, JSON_STRING);
		r = it ? json_string(jp, it->string, sizeof(it->string)) : -1;
		break;
	case 't':
		r = json_literal(jp, path, "true", JSON_BOOL, 1);
		break;
	case 'f':
		r = json_literal(jp, path, "false", JSON_BOOL, 0);
		break;
	case 'n':
		r = json_literal(jp, path, "null", JSON_NULL, 0);
		break;
	default:
		it = json_add(jp, path, JSON_NUMBER);
		r = it ? json_number(jp, &it->number) : -1;
		break;
	}
	jp->depth--;
	return r;
}

int
json_parse(const char *text, struct json_doc *doc)
{
	struct json_parser jp;

	memset(doc, 0, sizeof(*doc));
	jp.p = text;
	jp.doc = doc;
	jp.depth = 0;
	if (json_value(&jp, "") == -1)
		return -1;
	json_ws(&jp);
	return *jp.p == '\0' ? 0 : -1;
}

const struct json_item *
json_get(const struct json_doc *doc, const char *path)
{
	for (size_t i = 0; i < doc->n; i++)
		if (strcmp(doc->items[i].path, path) == 0)
			return &doc->items[i];
	return NULL;
}
