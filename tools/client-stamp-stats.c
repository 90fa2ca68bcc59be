/* SPDX-License-Identifier: MIT */
/* echo-client --stamp: the summary: delays split by STAMP's timestamps, loss per direction. */
#include <string.h>

#include "client-stamp.h"
#include "client-stats.h"
#include "jsonout.h"

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
