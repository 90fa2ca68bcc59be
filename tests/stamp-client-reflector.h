/* SPDX-License-Identifier: MIT */
/* A STAMP session-reflector for echo-client's tests: libstamp's stamp_reflect(), echod's code. */
#ifndef ECHOD_TESTS_STAMP_CLIENT_REFLECTOR_H
#define ECHOD_TESTS_STAMP_CLIENT_REFLECTOR_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

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

/* RFC 5357 4.2.1: TWAMP-Light's unauthenticated reflector packet ends at the Sender TTL. */
#define TWAMP_REPLY_LEN	41

/* That packet, byte for byte from the RFC's figure, answering test packet test (14
 * octets or more): the reflector's seq, T2 and T3 in NTP format, the TTL it saw. */
void	twamp_reply41(uint8_t out[TWAMP_REPLY_LEN], const uint8_t *test, uint32_t seq,
	    const struct timespec *t2, const struct timespec *t3, uint8_t ttl);

/* A TWAMP-Light reflector (a child process, as refl_start()'s) that answers every test
 * packet with exactly those 41 octets. */
int	twamp_light_start(struct test_server *s, int family);

#endif
