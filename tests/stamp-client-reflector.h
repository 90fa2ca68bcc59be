/* SPDX-License-Identifier: MIT */
/* A STAMP session-reflector for echo-client's tests: libstamp's stamp_reflect(), echod's code. */
#ifndef ECHOD_TESTS_STAMP_CLIENT_REFLECTOR_H
#define ECHOD_TESTS_STAMP_CLIENT_REFLECTOR_H

#include <stdbool.h>

#include "client-servers.h"

struct refl_spec {
	bool stateful;		/* RFC 8762 4.2: count per session, else copy the sequence */
	const char *key_path;	/* authenticated mode with this key file; NULL: not */
	/*
	 * For each test packet in turn, the script repeating: e reflect; f drop it
	 * before it is counted (lost forward); b count it and drop the reply (lost
	 * backward); t reflect with its base HMAC spoilt; s reflect with another SSID;
	 * m reflect with the CoS TLV saying DSCP 0 arrived (re-marked on the way);
	 * k reflect the base only, without the padding (unauthenticated); l reflect
	 * with 4 zero octets more.
	 * NULL: "e".
	 */
	const char *script;
};

/* Start the reflector (a child process) on a free UDP port of loopback of family.
 * Returns 0, or -1 after printing why. server_stop() ends it. */
int	refl_start(struct test_server *s, int family, const struct refl_spec *spec);

#endif
