/* SPDX-License-Identifier: MIT */
/* A STAMP session's figures: delays split by STAMP's timestamps, loss per direction from the
 * reflector's sequence numbers (echo-client(1) "LOSS PER DIRECTION"). */
#ifndef ECHOD_PROBE_LOSS_H
#define ECHOD_PROBE_LOSS_H

#include <stdbool.h>
#include <stdint.h>

#include "probe_stamp.h"

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

#endif
