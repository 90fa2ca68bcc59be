/* SPDX-License-Identifier: MIT */
/* A strict little JSON reader for tests: is this one valid JSON value, and what are its fields? */
#ifndef ECHOD_TESTS_JSON_CHECK_H
#define ECHOD_TESTS_JSON_CHECK_H

#include <stddef.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_OBJECT, JSON_ARRAY };

struct json_item {
	char path[64];		/* object keys joined by '.': "rtt_ms.p99" */
	enum json_type type;
	double number;		/* JSON_NUMBER, and 1/0 for JSON_BOOL */
	char string[128];	/* JSON_STRING, unescaped (truncated if longer) */
};

struct json_doc {
	size_t n;
	struct json_item items[512];	/* every value reachable through object keys */
};

/* Parse text, which must hold exactly one JSON value (whitespace around it allowed).
 * Returns 0, or -1 on a syntax error or more than 64 values. */
int json_parse(const char *text, struct json_doc *doc);

/* The item at path, or NULL. */
const struct json_item *json_get(const struct json_doc *doc, const char *path);

#endif
