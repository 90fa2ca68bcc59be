/* SPDX-License-Identifier: MIT */
/* echo-client --stamp: what one reply adds to its probe's line and to its JSON object. */
#include "client-stamp.h"
#include "client-stats.h"
#include "jsonout.h"

void
stampreport_text(const struct stamp_result *r, FILE *f)
{
	fprintf(f, " rtt_net=%.3f ms dwell=%.3f ms", r->rtt_net, r->dwell);
	/* One-way delays only from two synchronised clocks; the summary says why not once. */
	if (r->oneway)
		fprintf(f, " forward=%.3f ms backward=%.3f ms", r->forward, r->backward);
	fprintf(f, " rseq=%u", r->reflector_seq);
	if (r->sender_ttl > 0)
		fprintf(f, " sender_ttl=%d", r->sender_ttl);
	if (r->hops >= 0)
		fprintf(f, " hops=%d", r->hops);
	/* RFC 8972 4.4: DSCP2 is what the reflector received; only this says re-marked. */
	if (r->cos)
		fprintf(f, " cos dscp=%d ecn=%d%s", r->cos_dscp, r->cos_ecn,
		    r->cos_dscp != r->cos_asked ? " (re-marked on the way)" : "");
	if (r->cos_asked >= 0 && r->reply_dscp >= 0)
		fprintf(f, " reply_dscp=%d%s", r->reply_dscp,
		    r->reply_dscp == r->cos_asked ? "" : " (not as asked)");
	if (r->reply_len != r->sent_len)
		fprintf(f, " (%s than sent: %zu of %zu octets)",
		    r->reply_len < r->sent_len ? "shorter" : "longer", r->reply_len, r->sent_len);
}

/* A number of milliseconds, or null when it cannot be known (one-way without synced clocks). */
static json_t *
stampreport_ms(bool known, double v)
{
	return known ? jsonout_real(v, 6) : json_null();
}

/* A field the reply may lack (negative: not there). */
static json_t *
stampreport_int(int v)
{
	return v >= 0 ? json_integer(v) : json_null();
}

/* The Class of Service TLV (RFC 8972 4.4), when --stamp-cos asked for it. */
static json_t *
stampreport_cos(const struct stamp_result *r)
{
	json_t *cos = json_object();

	if (cos == NULL)
		return NULL;
	jsonout_set(cos, "dscp_asked", json_integer(r->cos_asked));
	jsonout_set(cos, "dscp_received", stampreport_int(r->cos_dscp));
	jsonout_set(cos, "ecn_received", stampreport_int(r->cos_ecn));
	jsonout_set(cos, "remarked", !r->cos ? json_null() :
	    json_boolean(r->cos_dscp != r->cos_asked));
	jsonout_set(cos, "reply_dscp", stampreport_int(r->reply_dscp));
	jsonout_set(cos, "reply_dscp_as_asked", json_boolean(r->reply_dscp >= 0 &&
	    r->reply_dscp == r->cos_asked));
	return cos;
}

void
stampreport_json(const struct stamp_result *r, json_t *obj)
{
	jsonout_set(obj, "rtt_net_ms", stampreport_ms(true, r->rtt_net));
	jsonout_set(obj, "dwell_ms", stampreport_ms(true, r->dwell));
	jsonout_set(obj, "forward_ms", stampreport_ms(r->oneway, r->forward));
	jsonout_set(obj, "backward_ms", stampreport_ms(r->oneway, r->backward));
	jsonout_set(obj, "clocks_synchronised", json_boolean(r->oneway));
	jsonout_set(obj, "oneway_unavailable",
	    jsonout_string(stamppkt_oneway_why(r->local_synced, r->remote_synced)));
	jsonout_set(obj, "ssid", jsonout_uint(r->ssid));
	jsonout_set(obj, "reflector_seq", jsonout_uint(r->reflector_seq));
	jsonout_set(obj, "size_sent", jsonout_uint(r->sent_len));
	jsonout_set(obj, "size_differs", r->reply_len == r->sent_len ? json_null() :
	    json_string(r->reply_len < r->sent_len ? "shorter" : "longer"));
	jsonout_set(obj, "sender_ttl", stampreport_int(r->sender_ttl));
	jsonout_set(obj, "hops", stampreport_int(r->hops));
	if (r->cos_asked >= 0)
		jsonout_set(obj, "cos", stampreport_cos(r));
}
