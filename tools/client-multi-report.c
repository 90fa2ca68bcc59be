/* SPDX-License-Identifier: MIT */
/* echo-client with several HOSTs: one target's summary, as fping's line or a JSON object. */
#include <stdio.h>
#include <sys/socket.h>

#include "client-multi.h"
#include "client-stats.h"
#include "jsonout.h"

/* What the summary counts as lost, as ping: no reply at all (late ones came back), still
 * pending when the run was cut included. */
static unsigned long long
multi_lost(const struct probe_figures *f)
{
	return f->sent - f->received;
}

/* Of those, what no reply has told the direction of. */
static unsigned long long
multi_unknown(const struct probe_figures *f)
{
	unsigned long long known = f->lost_forward + f->lost_backward;

	return multi_lost(f) > known ? multi_lost(f) - known : 0;
}

static double
multi_loss_pct(const struct probe_figures *f)
{
	return f->sent > 0 ? 100.0 * (double)multi_lost(f) / (double)f->sent : 0;
}

static void
multi_text(const struct multi_target *m, const struct client_opts *o,
    const struct probe_figures *f, FILE *out)
{
	fprintf(out, "%s (%s) : xmt/rcv/%%loss = %llu/%llu/%.0f%%", m->host, m->peer, f->sent,
	    f->received, multi_loss_pct(f));
	if (f->rtt.count > 0)
		fprintf(out, ", min/avg/max = %.3f/%.3f/%.3f ms", f->rtt.min * 1e3,
		    f->rtt.sum / (double)f->rtt.count * 1e3, f->rtt.max * 1e3);
	if (o->stamp)
		fprintf(out, ", lost forward/backward/unknown = %llu/%llu/%llu",
		    f->lost_forward, f->lost_backward, multi_unknown(f));
	fputc('\n', out);
}

/* {"min":..,"avg":..,"max":..} in ms of h, or JSON null without samples. */
static json_t *
multi_json_ms(const struct probe_hist *h)
{
	json_t *o;

	if (h->count == 0)
		return json_null();
	o = json_object();
	jsonout_set(o, "min", jsonout_real(h->min * 1e3, 3));
	jsonout_set(o, "avg", jsonout_real(h->sum / (double)h->count * 1e3, 3));
	jsonout_set(o, "max", jsonout_real(h->max * 1e3, 3));
	return o;
}

/* -1, the engine's "unknown", as JSON null. */
static json_t *
multi_json_int(int v)
{
	return v < 0 ? json_null() : json_integer(v);
}

static json_t *
multi_json_stamp(const struct probe_figures *f)
{
	json_t *s = json_object();

	jsonout_set(s, "reflector", jsonout_string(f->reflector));
	jsonout_set(s, "loss_forward", jsonout_uint(f->lost_forward));
	jsonout_set(s, "loss_backward", jsonout_uint(f->lost_backward));
	jsonout_set(s, "loss_unknown", jsonout_uint(multi_unknown(f)));
	jsonout_set(s, "dwell_ms", multi_json_ms(&f->dwell));
	jsonout_set(s, "forward_ms", multi_json_ms(&f->forward));
	jsonout_set(s, "backward_ms", multi_json_ms(&f->backward));
	jsonout_set(s, "hops", multi_json_int(f->hops));
	jsonout_set(s, "reflector_dscp", multi_json_int(f->reflector_dscp));
	return s;
}

static void
multi_json(const struct multi_target *m, const struct client_opts *o,
    const struct probe_figures *f, double now, FILE *out)
{
	json_t *j = json_object(), *rtt = multi_json_ms(&f->rtt);

	jsonout_set(j, "type", jsonout_string("target"));
	jsonout_set(j, "schema", json_integer(STATS_SCHEMA));
	jsonout_set(j, "host", jsonout_string(m->host));
	jsonout_set(j, "peer", jsonout_string(m->peer));
	jsonout_set(j, "protocol", jsonout_string(o->stamp ? "stamp" :
	    o->socktype == SOCK_STREAM ? "tcp" : "udp"));
	jsonout_set(j, "sent", jsonout_uint(f->sent));
	jsonout_set(j, "received", jsonout_uint(f->received));
	jsonout_set(j, "late", jsonout_uint(f->late));
	jsonout_set(j, "lost", jsonout_uint(multi_lost(f)));
	jsonout_set(j, "duplicates", jsonout_uint(f->duplicates));
	jsonout_set(j, "bad", jsonout_uint(f->bad));
	jsonout_set(j, "loss_percent", jsonout_real(multi_loss_pct(f), 3));
	if (json_is_object(rtt)) {
		/* Nearest rank over the replies of the run's last minute. */
		jsonout_set(rtt, "p50", jsonout_real(probe_target_recent(m->t, now, 50) * 1e3, 3));
		jsonout_set(rtt, "p99", jsonout_real(probe_target_recent(m->t, now, 99) * 1e3, 3));
	}
	jsonout_set(j, "rtt_ms", rtt);
	jsonout_set(j, "reply_dscp", multi_json_int(f->reply_dscp));
	if (o->stamp)
		jsonout_set(j, "stamp", multi_json_stamp(f));
	jsonout_line(j, out);
}

void
multi_report(const struct multi_target *m, const struct client_opts *o, double now, FILE *f)
{
	struct probe_figures fig;

	probe_target_figures(m->t, now, &fig);
	if (o->json)
		multi_json(m, o, &fig, now, f);
	else
		multi_text(m, o, &fig, f);
}
