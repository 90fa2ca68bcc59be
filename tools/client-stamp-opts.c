/* SPDX-License-Identifier: MIT */
/* echo-client's --stamp options: their values, what --stamp implies, and the key file. */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "client-opts.h"
#include "client-stamp.h"

/* STAMP's port (RFC 8762 4), as text for getaddrinfo(). */
#define OPTS_STAMP_PORT	"862"

int
opts_stamp(struct client_opts *o, int c, const char *arg)
{
	unsigned long v;

	switch (c) {
	case OPT_STAMP:
		o->stamp = true;
		return 0;
	case OPT_SSID:
		if (opts_ulong(arg, 0, 65535, &v) == -1)
			return -1;
		o->ssid = (uint16_t)v;
		return 0;
	case OPT_STAMP_KEY:
		if (*arg == '\0')
			return -1;
		o->stamp_key_path = arg;
		return 0;
	case OPT_COS:
		o->cos = true;
		return 0;
	case OPT_STAMP_TS:
		if (strcmp(arg, "ntp") == 0)
			o->stamp_ts = STAMP_TS_NTP;
		else if (strcmp(arg, "ptp") == 0)
			o->stamp_ts = STAMP_TS_PTP;
		else
			return -1;
		return 0;
	}
	return -1;
}

/* The key file, read now so that a bad one is a usage error before anything is sent. */
static int
opts_stamp_key(struct client_opts *o)
{
	const char *p = o->stamp_key_path;

	if (stamp_key_load(p, &o->stamp_key) == 0)
		return 0;
	if (errno == EPERM)
		warnx("--stamp-auth-key %s: others may read or write it, or its group may write "
		    "it: a shared secret must not be (chmod 0600 or 0640)", p);
	else if (errno == EINVAL)
		warnx("--stamp-auth-key %s: not a key: one line of 32 to 128 hex digits "
		    "(16 to 64 octets), e.g. from openssl rand -hex 32", p);
	else
		warnx("--stamp-auth-key %s: %s", p, strerror(errno));
	return -1;
}

/* What --stamp cannot be combined with; NULL when fine. */
static const char *
opts_stamp_clash(const struct client_opts *o, bool tcp)
{
	if (!o->stamp)
		return o->ssid != 0 || o->stamp_key_path != NULL || o->cos ||
		    o->stamp_ts != STAMP_TS_NTP ?
		    "--ssid, --stamp-auth-key, --cos and --stamp-timestamp need --stamp" : NULL;
	if (tcp || o->mode == CLIENT_STREAM)
		return "--stamp is UDP only: --tcp and --stream do not apply";
	if (o->mode == CLIENT_INTERACTIVE)
		return "--stamp sends its own test packets: --interactive does not apply";
	if (o->family == AF_UNIX)
		return "--stamp is UDP only: unix: addresses do not apply";
	if (o->message != NULL || o->pattern_len > 0)
		return "--stamp sends STAMP test packets: --message and --pattern do not apply";
	return NULL;
}

int
opts_stamp_check(struct client_opts *o, bool tcp, bool port, bool sized)
{
	const char *why = opts_stamp_clash(o, tcp);
	size_t min;

	if (why != NULL) {
		warnx("%s", why);
		return -1;
	}
	if (!o->stamp)
		return 0;
	o->socktype = SOCK_DGRAM;
	if (!port)
		o->port = OPTS_STAMP_PORT;
	if (o->stamp_key_path != NULL && opts_stamp_key(o) == -1)
		return -1;
	min = stamppkt_min_len(o->stamp_key_path != NULL, o->cos);
	if (!sized)
		o->size = min;
	if (o->size < min) {
		warnx("--size: a STAMP test packet is at least %zu octets here (the %s base%s)",
		    min, o->stamp_key_path != NULL ? "authenticated" : "unauthenticated",
		    o->cos ? " and its TLVs" : "");
		return -1;
	}
	return 0;
}
