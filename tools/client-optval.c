/* SPDX-License-Identifier: MIT */
/* Option values with a vocabulary of their own: DSCP names for -Q, rate suffixes for -b. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <strings.h>

#include "client-opts.h"

/* 100 Gbit/s: beyond any loopback, a guard against typing an exponent too many. */
#define OPTS_MAX_RATE		1e11

/* RFC 2474 class selectors, RFC 2597 assured forwarding, RFC 3246 EF, RFC 5865 VA,
 * RFC 8622 LE: the names ip(8), iptables and tc accept. */
static const struct {
	const char *name;
	int dscp;
} opts_dscp[] = {
	{ "be", 0 }, { "default", 0 }, { "le", 1 }, { "ef", 46 }, { "va", 44 },
	{ "cs0", 0 }, { "cs1", 8 }, { "cs2", 16 }, { "cs3", 24 }, { "cs4", 32 }, { "cs5", 40 },
	{ "cs6", 48 }, { "cs7", 56 },
	{ "af11", 10 }, { "af12", 12 }, { "af13", 14 }, { "af21", 18 }, { "af22", 20 },
	{ "af23", 22 }, { "af31", 26 }, { "af32", 28 }, { "af33", 30 }, { "af41", 34 },
	{ "af42", 36 }, { "af43", 38 },
};

int
opts_tos(const char *s)
{
	char *end;
	unsigned long v;

	for (size_t i = 0; i < sizeof(opts_dscp) / sizeof(opts_dscp[0]); i++)
		if (strcasecmp(s, opts_dscp[i].name) == 0)
			return opts_dscp[i].dscp << 2;
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 0);	/* 0xb8, 184 and 0270 alike, as ping's -Q */
	if (errno != 0 || *end != '\0' || v > 255)
		return -1;
	return (int)v;
}

double
opts_rate(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || !isfinite(v))
		return -1;
	switch (*end) {
	case 'k': case 'K':
		v *= 1e3;
		end++;
		break;
	case 'm': case 'M':
		v *= 1e6;
		end++;
		break;
	case 'g': case 'G':
		v *= 1e9;
		end++;
		break;
	}
	if (*end != '\0' || v < 1 || v > OPTS_MAX_RATE)
		return -1;
	return v;
}
