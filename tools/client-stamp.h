/* SPDX-License-Identifier: MIT */
/* echo-client --stamp: the STAMP session-sender's packets, per-probe results and summary. */
#ifndef ECHOD_CLIENT_STAMP_H
#define ECHOD_CLIENT_STAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "stamp.h"

struct json_t;

/* What every test packet of a run carries (client-stamp-pkt.c). */
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

/* ---- client-stamp-stats.c ---- */

/* min / avg / max of one measure. */
struct stamp_mma {
	unsigned long n;
	double	min, max, sum;
};

struct stamp_stats {
	struct stamp_mma rtt_net, dwell, forward, backward;
	/* Reflector Sequence Number against ours (RFC 8762 4.2), both from 0: equal from a
	 * stateless reflector, and from a stateful one until a test packet is lost on the
	 * way there; smaller only from a stateful one; larger from neither. */
	unsigned long r_same, r_less, r_more;
	uint32_t s_hi;		/* highest probe answered (verified replies) */
	uint32_t r_max;		/* highest reflector Sequence Number in them */
	unsigned long back;	/* distinct probes whose verified reply came back */
	bool	local_synced;
	unsigned long remote_unsynced;
	int	hops_min, hops_max, ttl_last;
	/* --cos */
	unsigned long cos_replies, cos_dscp_kept, cos_reply_kept;
	int	cos_asked, cos_dscp_last, cos_ecn_last;
	unsigned long bad_auth;	/* replies whose HMAC did not verify */
	unsigned long shorter, longer;	/* verified replies of another size than sent */
	bool	auth;
	uint16_t ssid;
};

/* What the per-direction loss rule concludes. */
struct stamp_loss {
	const char *reflector;	/* "stateful", "stateless" or "unknown" */
	bool	known;		/* forward and backward are counts */
	unsigned long forward, backward, undetermined;
	const char *why;	/* when not known */
};

void	stampstats_init(struct stamp_stats *ss, bool local_synced, bool auth, uint16_t ssid,
	    int cos_asked);
/* A verified reply, the first for its probe (late ones too); seq: the number on the
 * wire, from 0. */
void	stampstats_add(struct stamp_stats *ss, uint32_t seq, const struct stamp_result *r,
	    bool in_time);
/* The rule of echo-client(1) "LOSS PER DIRECTION"; lost: probes with no reply at all. */
void	stampstats_loss(const struct stamp_stats *ss, unsigned long lost, struct stamp_loss *l);
void	stampstats_print(const struct stamp_stats *ss, unsigned long lost, FILE *f);
/* The summary object's member "stamp": {...}, set in obj. */
void	stampstats_json(const struct stamp_stats *ss, unsigned long lost, struct json_t *obj);

/* ---- client-stamp-report.c: one reply's fields ---- */

/* After "... time=X ms": " rtt_net=... dwell=...", and a size that is not the one sent. */
void	stampreport_text(const struct stamp_result *r, FILE *f);
/* Members of a probe object ("rtt_net_ms", ...), set in obj. */
void	stampreport_json(const struct stamp_result *r, struct json_t *obj);

#endif
