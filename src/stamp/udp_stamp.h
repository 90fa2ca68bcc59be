/* SPDX-License-Identifier: MIT */
/* udp_stamp: STAMP test packets in a datagram batch: reflected in place, T3 stamped last. */
#ifndef ECHOD_UDP_STAMP_H
#define ECHOD_UDP_STAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dgram.h"
#include "stamp.h"
#include "stamp_runtime.h"
#include "stats.h"

/* A reply of the batch; reflector NULL: an echo, nothing to stamp. */
struct udp_stamp_reply {
	const struct stamp_reflector *reflector;
	uint8_t *pkt;
	struct stamp_test test;
};

/*
 * Turn the test packet pkt[0 .. *len), received as in, into its reply in
 * place, counted in both stats (the worker's totals, the listener's slot).
 * *len becomes the reply's length: longer than received for a short
 * TWAMP-Light packet (RFC 8762 4.6), so pkt must have room for
 * STAMP_UNAUTH_LEN octets (a receive slot has). now_ms: the loop's
 * monotonic clock. False: dropped (counted by reason). *dscp: the DSCP to
 * send the reply with (Class of Service TLV), or -1.
 */
bool	udp_stamp_reflect(struct stamp_runtime *run, struct msghdr *in, uint8_t *pkt,
	    size_t *len, uint64_t now_ms, struct echo_stats *stats[2], struct udp_stamp_reply *out,
	    int *dscp);

/*
 * Make h (its ACL and source-port rule already set) serve STAMP test packets
 * with run (a listener's, stamp_conf_prepare()): stamp_rate buckets, charged
 * at least the base packet (RFC 8762 4.6 answers a short one with it; the
 * authenticated one when authenticated), reflected by udp_stamp_reflect(),
 * T3 and the HMAC written by its before_send, just before sending: the clock
 * is read for each reply, just before its own.
 */
void	udp_stamp_handler(struct dgram_handler *h, struct stamp_runtime *run, bool authenticated);

#endif
