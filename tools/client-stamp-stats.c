/* SPDX-License-Identifier: MIT */
/* echo-client --stamp: the summary: delays split by STAMP's timestamps, loss per direction. */
#include <string.h>

#include "client-stamp.h"
#include "client-stats.h"
#include "jsonout.h"

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

static void
stampstats_text_mma(const char *name, const struct stamp_mma *m, FILE *f)
{
	fprintf(f, "%s min/avg/max = %.3f/%.3f/%.3f ms", name, m->min, m->sum / (double)m->n,
	    m->max);
}

static void
stampstats_print_cos(const struct stamp_stats *ss, FILE *f)
{
	if (ss->cos_asked < 0)
		return;
	if (ss->cos_replies == 0) {
		fprintf(f, "cos: dscp %d asked, no reply answered the Class of Service TLV\n",
		    ss->cos_asked);
		return;
	}
	fprintf(f, "cos: dscp %d asked; reflector received dscp %d ecn %d (last), "
	    "%lu of %lu arrived with dscp %d, %lu of %lu replies came back with it\n",
	    ss->cos_asked, ss->cos_dscp_last, ss->cos_ecn_last, ss->cos_dscp_kept,
	    ss->cos_replies, ss->cos_asked, ss->cos_reply_kept, ss->cos_replies);
}

void
stampstats_print(const struct stamp_stats *ss, unsigned long lost, FILE *f)
{
	struct stamp_loss l;
	const char *why;

	if (ss->rtt_net.n > 0) {
		stampstats_text_mma("rtt_net", &ss->rtt_net, f);
		fputs(", ", f);
		stampstats_text_mma("dwell", &ss->dwell, f);
		fputc('\n', f);
	}
	if (ss->forward.n > 0) {
		stampstats_text_mma("forward", &ss->forward, f);
		fputs(", ", f);
		stampstats_text_mma("backward", &ss->backward, f);
		fputc('\n', f);
	} else if (ss->back > 0) {
		why = stamppkt_oneway_why(ss->local_synced, ss->remote_unsynced == 0);
		fprintf(f, "one-way: %s\n", why != NULL ? why : "no reply in time");
	}
	stampstats_loss(ss, lost, &l);
	if (l.known)
		fprintf(f, "loss forward %lu, backward %lu, undetermined %lu (%s reflector)\n",
		    l.forward, l.backward, l.undetermined, l.reflector);
	else
		fprintf(f, "loss per direction: unknown (%s)\n", l.why);
	if (ss->ttl_last > 0)
		fprintf(f, "sender ttl %d, hops %d-%d\n", ss->ttl_last, ss->hops_min,
		    ss->hops_max);
	stampstats_print_cos(ss, f);
	if (ss->bad_auth > 0)
		fprintf(f, "%lu replies failed authentication (HMAC)\n", ss->bad_auth);
	if (ss->shorter + ss->longer > 0)
		fprintf(f, "reply size: %lu shorter than sent, %lu longer (used all the same)\n",
		    ss->shorter, ss->longer);
}

/* min/avg/max of m, or null before the first value. */
static json_t *
stampstats_json_mma(const struct stamp_mma *m)
{
	if (m->n == 0)
		return json_null();
	return json_pack("{s:o,s:o,s:o}", "min", jsonout_real(m->min, 6),
	    "avg", jsonout_real(m->sum / (double)m->n, 6), "max", jsonout_real(m->max, 6));
}

/* A count, or null where the rule cannot tell it. */
static json_t *
stampstats_json_count(bool known, unsigned long v)
{
	return known ? jsonout_uint(v) : json_null();
}

/* Sender TTL and hops, Class of Service, and what failed or differed. */
static void
stampstats_json_tail(const struct stamp_stats *ss, json_t *st)
{
	if (ss->ttl_last > 0) {
		jsonout_set(st, "sender_ttl", json_integer(ss->ttl_last));
		jsonout_set(st, "hops", json_pack("{s:i,s:i}", "min", ss->hops_min,
		    "max", ss->hops_max));
	}
	if (ss->cos_asked >= 0)
		jsonout_set(st, "cos", json_pack("{s:i,s:o,s:o,s:o}", "dscp", ss->cos_asked,
		    "replies", jsonout_uint(ss->cos_replies),
		    "dscp_received", jsonout_uint(ss->cos_dscp_kept),
		    "dscp_reply", jsonout_uint(ss->cos_reply_kept)));
	jsonout_set(st, "bad_auth", jsonout_uint(ss->bad_auth));
	jsonout_set(st, "replies_shorter", jsonout_uint(ss->shorter));
	jsonout_set(st, "replies_longer", jsonout_uint(ss->longer));
}

void
stampstats_json(const struct stamp_stats *ss, unsigned long lost, json_t *obj)
{
	struct stamp_loss l;
	bool synced = ss->local_synced && ss->back > 0 && ss->remote_unsynced == 0;
	json_t *st = json_object();

	if (st == NULL)
		return;
	stampstats_loss(ss, lost, &l);
	jsonout_set(st, "ssid", jsonout_uint(ss->ssid));
	jsonout_set(st, "authenticated", json_boolean(ss->auth));
	jsonout_set(st, "reflector", jsonout_string(l.reflector));
	jsonout_set(st, "loss_forward", stampstats_json_count(l.known, l.forward));
	jsonout_set(st, "loss_backward", stampstats_json_count(l.known, l.backward));
	jsonout_set(st, "loss_undetermined", stampstats_json_count(l.known, l.undetermined));
	jsonout_set(st, "loss_direction_unknown", jsonout_string(l.known ? NULL : l.why));
	jsonout_set(st, "rtt_net_ms", stampstats_json_mma(&ss->rtt_net));
	jsonout_set(st, "dwell_ms", stampstats_json_mma(&ss->dwell));
	jsonout_set(st, "forward_ms", stampstats_json_mma(&ss->forward));
	jsonout_set(st, "backward_ms", stampstats_json_mma(&ss->backward));
	jsonout_set(st, "clocks_synchronised", json_boolean(synced));
	jsonout_set(st, "oneway_unavailable", jsonout_string(ss->forward.n > 0 ? NULL :
	    ss->back == 0 ? "no reply" :
	    stamppkt_oneway_why(ss->local_synced, ss->remote_unsynced == 0)));
	stampstats_json_tail(ss, st);
	jsonout_set(obj, "stamp", st);
}
