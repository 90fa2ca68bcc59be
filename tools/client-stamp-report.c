/* SPDX-License-Identifier: MIT */
/* echo-client --stamp: what one reply adds to its probe's line and to its JSON object. */
#include "client-stamp.h"
#include "client-stats.h"

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

static void
stampreport_ms(const char *name, bool known, double v, FILE *f)
{
	if (known)
		fprintf(f, ",\"%s\":%.6f", name, v);
	else
		fprintf(f, ",\"%s\":null", name);
}

static void
stampreport_int(const char *name, int v, FILE *f)
{
	if (v >= 0)
		fprintf(f, ",\"%s\":%d", name, v);
	else
		fprintf(f, ",\"%s\":null", name);
}

void
stampreport_json(const struct stamp_result *r, FILE *f)
{
	stampreport_ms("rtt_net_ms", true, r->rtt_net, f);
	stampreport_ms("dwell_ms", true, r->dwell, f);
	stampreport_ms("forward_ms", r->oneway, r->forward, f);
	stampreport_ms("backward_ms", r->oneway, r->backward, f);
	fprintf(f, ",\"clocks_synchronised\":%s,\"oneway_unavailable\":",
	    r->oneway ? "true" : "false");
	stats_json_string(stamppkt_oneway_why(r->local_synced, r->remote_synced), f);
	fprintf(f, ",\"ssid\":%u,\"reflector_seq\":%u", r->ssid, r->reflector_seq);
	fprintf(f, ",\"size_sent\":%zu,\"size_differs\":%s", r->sent_len,
	    r->reply_len == r->sent_len ? "null" :
	    r->reply_len < r->sent_len ? "\"shorter\"" : "\"longer\"");
	stampreport_int("sender_ttl", r->sender_ttl, f);
	stampreport_int("hops", r->hops, f);
	if (r->cos_asked < 0)
		return;
	fprintf(f, ",\"cos\":{\"dscp_asked\":%d", r->cos_asked);
	stampreport_int("dscp_received", r->cos_dscp, f);
	stampreport_int("ecn_received", r->cos_ecn, f);
	fprintf(f, ",\"remarked\":%s", !r->cos ? "null" :
	    r->cos_dscp != r->cos_asked ? "true" : "false");
	stampreport_int("reply_dscp", r->reply_dscp, f);
	fprintf(f, ",\"reply_dscp_as_asked\":%s}",
	    r->reply_dscp >= 0 && r->reply_dscp == r->cos_asked ? "true" : "false");
}
