/* SPDX-License-Identifier: MIT */
/* A STAMP session's figures, reply by reply, and the per-direction loss rule. */
#include <string.h>

#include "probe_loss.h"

void
stampstats_init(struct stamp_stats *ss, bool local_synced, bool auth, uint16_t ssid,
    int cos_asked)
{
	memset(ss, 0, sizeof(*ss));
	ss->local_synced = local_synced;
	ss->auth = auth;
	ss->ssid = ssid;
	ss->cos_asked = cos_asked;
	ss->hops_min = ss->hops_max = ss->ttl_last = -1;
	ss->cos_dscp_last = ss->cos_ecn_last = -1;
}

static void
stampstats_mma(struct stamp_mma *m, double v)
{
	if (m->n == 0 || v < m->min)
		m->min = v;
	if (m->n == 0 || v > m->max)
		m->max = v;
	m->sum += v;
	m->n++;
}

void
stampstats_add(struct stamp_stats *ss, uint32_t seq, const struct stamp_result *r, bool in_time)
{
	if (r->reflector_seq == seq)
		ss->r_same++;
	else if (r->reflector_seq < seq)
		ss->r_less++;
	else
		ss->r_more++;
	ss->back++;
	if (ss->back == 1 || seq > ss->s_hi)
		ss->s_hi = seq;
	if (ss->back == 1 || r->reflector_seq > ss->r_max)
		ss->r_max = r->reflector_seq;
	if (!r->remote_synced)
		ss->remote_unsynced++;
	ss->shorter += r->reply_len < r->sent_len;
	ss->longer += r->reply_len > r->sent_len;
	if (!in_time)
		return;		/* a late reply counts for loss, not for the delays */
	stampstats_mma(&ss->rtt_net, r->rtt_net);
	stampstats_mma(&ss->dwell, r->dwell);
	if (r->oneway) {
		stampstats_mma(&ss->forward, r->forward);
		stampstats_mma(&ss->backward, r->backward);
	}
	ss->ttl_last = r->sender_ttl;
	if (r->hops >= 0 && (ss->hops_min < 0 || r->hops < ss->hops_min))
		ss->hops_min = r->hops;
	if (r->hops > ss->hops_max)
		ss->hops_max = r->hops;
	if (r->cos) {
		ss->cos_replies++;
		ss->cos_dscp_kept += r->cos_dscp == r->cos_asked;
		ss->cos_reply_kept += r->reply_dscp == r->cos_asked;
		ss->cos_dscp_last = r->cos_dscp;
		ss->cos_ecn_last = r->cos_ecn;
	}
}

/*
 * Probes are numbered from 0 on the wire (RFC 8762 4.2.1). A stateless
 * reflector copies that number (R = S); a stateful one counts what it
 * received from 0, so R = S until a test packet is lost on the way there and
 * R < S after. Packets reordered on the way there (or handed to two of the
 * reflector's threads at once) are counted in the order they arrived, so
 * R > S happens too: any R != S is a stateful reflector, and until one
 * comes the two cannot be told apart (unknown). A count higher than the
 * probes sent (a session the reflector already knew) fits neither.
 * For a stateful reflector, up to the highest probe answered S_hi: it received
 * R_max + 1 of those S_hi + 1 probes (forward loss: the rest) and sent as many
 * replies (backward loss: those that did not come back). Probes after S_hi
 * have no reply and no later count to tell where they went: undetermined.
 */
void
stampstats_loss(const struct stamp_stats *ss, unsigned long lost, struct stamp_loss *l)
{
	unsigned long rx;

	memset(l, 0, sizeof(*l));
	l->reflector = "unknown";
	if (ss->back == 0) {
		l->why = "no reply";
		return;
	}
	/* Every probe sent was answered (back) or not (lost): the reflector saw no more. */
	if ((unsigned long)ss->r_max + 1 > ss->back + lost) {
		l->why = "reflector sequence numbers fit neither mode";
		return;
	}
	if (ss->r_less == 0 && ss->r_more == 0) {
		l->why = "stateless or stateful reflector, not told apart";
		return;
	}
	l->reflector = "stateful";
	l->known = true;
	rx = (unsigned long)ss->r_max + 1;
	l->forward = ss->s_hi >= ss->r_max ? ss->s_hi - ss->r_max : 0;
	l->backward = rx > ss->back ? rx - ss->back : 0;
	l->undetermined = lost > l->forward + l->backward ? lost - l->forward - l->backward : 0;
}
