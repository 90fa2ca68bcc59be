/* SPDX-License-Identifier: MIT */
/* dscp: DSCP names (RFC 2474, 2597, 3246, 4594) <-> values, and the sets dscp_allow lists. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dscp.h"

struct dscp_named {
	const char *name;
	int	value;
};

/* Class selectors are 8 * n (RFC 2474 4.2.2); AFxy is 8x + 2y (RFC 2597); EF 46 (RFC 3246). */
static const struct dscp_named names[] = {
	{ "default", 0 }, { "be", 0 }, { "cs0", 0 },
	{ "cs1", 8 }, { "cs2", 16 }, { "cs3", 24 }, { "cs4", 32 }, { "cs5", 40 },
	{ "cs6", 48 }, { "cs7", 56 },
	{ "af11", 10 }, { "af12", 12 }, { "af13", 14 },
	{ "af21", 18 }, { "af22", 20 }, { "af23", 22 },
	{ "af31", 26 }, { "af32", 28 }, { "af33", 30 },
	{ "af41", 34 }, { "af42", 36 }, { "af43", 38 },
	{ "ef", 46 },
};

int
dscp_parse(const char *text)
{
	char *end;
	long v;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(text, names[i].name) == 0)
			return names[i].value;
	if (text[0] < '0' || text[0] > '9')
		return -1;
	v = strtol(text, &end, 10);
	return *end == '\0' && v >= 0 && v <= DSCP_MAX ? (int)v : -1;
}

const char *
dscp_name(int d)
{
	/* "default" before "be" and "cs0": the first entry of a value names it. */
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].value == d)
			return names[i].name;
	return NULL;
}
