/* SPDX-License-Identifier: MIT */
/* The STAMP session-sender's packets: test packets out, reflector packets in, what one
 * reply measures. echo-client --stamp and the probe engine both send with these. */
#ifndef ECHOD_PROBE_STAMP_H
#define ECHOD_PROBE_STAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "stamp.h"

/* What every test packet of a run carries (probe_stamp.c). */
struct stamp_send {
	uint16_t ssid;
	enum stamp_ts_format fmt;
	struct stamp_clock clock;	/* the sender's Error Estimate */
	const struct stamp_key *key;	/* NULL: unauthenticated */
	int cos_dscp;			/* DSCP asked for in a CoS TLV; -1: none */
};

/* The smallest test packet: the base of the mode and the TLVs asked for. */
size_t	stamppkt_min_len(bool auth, bool cos);

/*
 * Test packet seq sent at t1 into buf[0 .. len), len >= stamppkt_min_len(): the
 * base, then with a CoS request its TLV, an Extra Padding TLV for the rest
 * and in authenticated mode the HMAC TLV that must end them (RFC 8972 4.8);
 * without TLVs the rest is zeros (RFC 8762 padding). 0, or -1 with EMSGSIZE.
 */
int	stamppkt_build(uint8_t *buf, size_t len, const struct stamp_send *ss, uint32_t seq,
	    const struct timespec *t1);

/* A reflector packet as read by the sender. */
struct stamp_answer {
	struct stamp_reply r;
	uint64_t t2_ns, t3_ns;	/* Receive and send times, ns since 1970 (Z bit honoured) */
	bool	synced;		/* the reflector's S bit */
	bool	cos;		/* a Class of Service TLV came back, answered */
	uint8_t	cos_dscp1;	/* DSCP the sender asked for, as the reflector read it */
	uint8_t	cos_dscp2;	/* DSCP the test packet arrived with */
	uint8_t	cos_ecn;	/* ECN it arrived with */
	uint8_t	tlv_flags;	/* U, M and I flags of all TLVs, or'ed */
};

/*
 * Parse a reflector packet; with a key, its base HMAC and its HMAC TLV (if
 * any) must verify. 0, or -1 with errno EMSGSIZE (shorter than the base),
 * EBADMSG (an HMAC does not verify).
 */
int	stamppkt_read(const uint8_t *pkt, size_t len, const struct stamp_key *key,
	    struct stamp_answer *a);

/* The Session-Sender Sequence Number a reply claims to answer, without any check, into
 * *seq; 0, or -1 if too short. For replies that fail authentication: whose probe they
 * count against. */
int	stamppkt_sender_seq(const uint8_t *pkt, size_t len, bool auth, uint32_t *seq);

/* One reply's measurements. */
struct stamp_result {
	double	rtt, dwell, rtt_net;	/* ms */
	bool	oneway;			/* both clocks synchronised: one-way delays */
	double	forward, backward;	/* ms, when oneway */
	bool	local_synced, remote_synced;
	uint32_t reflector_seq;
	uint16_t ssid;
	int	sender_ttl;		/* TTL the reflector saw; -1: it said 0 */
	int	hops;			/* hops crossed forward, -1 unknown */
	/* --cos: what the reflector saw, and the DSCP the reply came back with (-1). */
	bool	cos;
	int	cos_dscp, cos_ecn, reply_dscp;
	int	cos_asked;
	/* Octets of the test packet and of its reply: a reflector may not keep the
	 * sender's padding (RFC 8762 4.3 wants it kept), or add its own. */
	size_t	sent_len, reply_len;
};

/*
 * The measurements of answer a to a probe sent at t1_ns (CLOCK_REALTIME),
 * answered after rtt ms (T4 = T1 + rtt, so that the parts add up).
 * init_ttl: -t's TTL, or 0 to guess the next of 64, 128, 255 from what the
 * reflector saw. reply_tos: the TOS the reply came with, -1 unknown.
 */
void	stamppkt_result(const struct stamp_answer *a, uint64_t t1_ns, double rtt,
	    bool local_synced, int init_ttl, int cos_asked, int reply_tos,
	    struct stamp_result *res);

/* Why one-way delays are not given: NULL when they are. */
const char *stamppkt_oneway_why(bool local_synced, bool remote_synced);

#endif
