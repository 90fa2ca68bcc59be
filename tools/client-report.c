/* SPDX-License-Identifier: MIT */
/* What a probe run prints as it goes: ping-like lines, JSON Lines, flood dots, -b seconds. */
#include <err.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "client-engine.h"
#include "jsonout.h"

static const char *const report_status[] = {
	[ST_OK] = "ok", [ST_LOST] = "lost", [ST_LATE] = "late", [ST_MISMATCH] = "mismatch",
	[ST_DUPLICATE] = "duplicate", [ST_ICMP] = "icmp",
};

/* -D: "[1700000000.123456] ", the Unix time as ping prints it. */
static void
report_stamp(const struct engine *e, FILE *f)
{
	struct timespec ts;

	if (!e->o->unix_time)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(f, "[%lld.%06ld] ", (long long)ts.tv_sec, ts.tv_nsec / 1000);
}

/* RFC 3339, UTC, microseconds: "2026-11-29T22:55:04.123456Z". */
static json_t *
report_rfc3339(uint64_t ns)
{
	time_t sec = (time_t)(ns / 1000000000ULL);
	struct tm tm;
	char buf[32], text[48];

	gmtime_r(&sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(text, sizeof(text), "%s.%06luZ", buf,
	    (unsigned long)(ns % 1000000000ULL / 1000));
	return json_string(text);
}

/* The probe's number as shown: as on the wire, so that a capture matches the lines. */
static uint32_t
report_seq(const struct engine *e, const struct pslot *s)
{
	return e->stamp != NULL ? pstamp_wire_seq(s) : s->seq;
}

/* An ICMP error's source, type and code, and what it means. */
static json_t *
report_json_icmp(const struct recv_error *ic)
{
	json_t *obj = json_object();

	if (obj == NULL)
		return NULL;
	jsonout_set(obj, "from", jsonout_string(ic->from[0] != '\0' ? ic->from : NULL));
	jsonout_set(obj, "local", json_boolean(ic->local));
	jsonout_set(obj, "type", json_integer(ic->type));
	jsonout_set(obj, "code", json_integer(ic->code));
	if (ic->mtu > 0)
		jsonout_set(obj, "mtu", json_integer(ic->mtu));
	jsonout_set(obj, "text", jsonout_string(ic->text));
	return obj;
}

static void
report_json(const struct engine *e, const struct pevent *ev)
{
	json_t *obj = json_object();

	if (obj == NULL)
		return;
	jsonout_set(obj, "type", json_string("probe"));
	jsonout_set(obj, "seq", jsonout_uint(report_seq(e, ev->slot)));
	jsonout_set(obj, "size", jsonout_uint(ev->size));
	jsonout_set(obj, "sent", report_rfc3339(ev->slot->stamp));
	jsonout_set(obj, "rtt_ms", ev->rtt >= 0 ? jsonout_real(ev->rtt, 6) : json_null());
	jsonout_set(obj, "status", json_string(report_status[ev->status]));
	if (ev->ttl >= 0)
		jsonout_set(obj, "ttl", json_integer(ev->ttl));
	/* The reply's own marking, set by whoever sent it; "tos" is the name schema 1 began
	 * with, kept as an alias until a schema change may remove it. */
	if (ev->tos >= 0) {
		jsonout_set(obj, "reply_tos", json_integer(ev->tos));
		jsonout_set(obj, "tos", json_integer(ev->tos));
	}
	if (ev->stamp != NULL)
		stampreport_json(ev->stamp, obj);
	if (ev->detail != NULL)
		jsonout_set(obj, "detail", jsonout_string(ev->detail));
	if (ev->icmp != NULL)
		jsonout_set(obj, "icmp", report_json_icmp(ev->icmp));
	jsonout_line(obj, stdout);
	if (!e->paced)
		fflush(stdout);
}

/* Text for an event without a reply; in one-message mode it is the outcome, on stderr. */
static void
report_noreply(const struct engine *e, const struct pevent *ev)
{
	char line[256];
	const struct recv_error *ic = ev->icmp;
	uint32_t seq = report_seq(e, ev->slot);

	if (ev->status == ST_LOST)
		snprintf(line, sizeof(line), "no echo from %s seq=%u within %g s", e->peer->name,
		    seq, e->o->timeout);
	else if (ic->from[0] != '\0')
		snprintf(line, sizeof(line), "From %s icmp_seq=%u %s", ic->from, seq, ic->text);
	else
		snprintf(line, sizeof(line), "%s seq=%u: %s", e->peer->name, seq, ic->text);
	if (e->o->mode == CLIENT_ONCE && !e->o->json) {
		warnx("%s", line);
		return;
	}
	if (!e->verbose || e->dots || e->paced)
		return;
	report_stamp(e, stdout);
	printf("%s\n", line);
	fflush(stdout);
}

void
report_end_echo(struct engine *e)
{
	if (!e->shown_nl)
		putchar('\n');
	e->shown_nl = true;
}

void
report_event(struct engine *e, const struct pevent *ev)
{
	static const char *const tail[] = {
		[ST_OK] = "", [ST_LATE] = " (late)", [ST_DUPLICATE] = " (duplicate)",
	};

	if (e->o->json) {
		report_json(e, ev);
		return;
	}
	if (ev->status == ST_LOST || ev->status == ST_ICMP) {
		report_noreply(e, ev);
		return;
	}
	if (e->dots) {
		if (ev->status == ST_OK)
			fputs("\b \b", stdout);
		fflush(stdout);
		return;
	}
	if (!e->verbose || e->paced)
		return;
	report_end_echo(e);
	report_stamp(e, stdout);
	printf("%zu bytes from %s seq=%u", ev->size, e->peer->name, report_seq(e, ev->slot));
	if (ev->ttl >= 0)
		printf(" ttl=%d", ev->ttl);
	/* The reply's TOS when it is not what was sent. It is the marking the server gave its
	 * reply (most send theirs with 0), not proof that the probe was re-marked on the way:
	 * only a STAMP reflector's Class of Service TLV says what arrived there. */
	if (ev->tos >= 0 && ev->tos != (e->o->tos < 0 ? 0 : e->o->tos))
		printf(" reply_tos=0x%02x", ev->tos);
	printf(" time=%.3f ms", ev->rtt);
	if (ev->stamp != NULL)
		stampreport_text(ev->stamp, stdout);
	if (ev->status == ST_MISMATCH)
		printf(": %s\n", ev->detail);
	else
		printf("%s\n", tail[ev->status]);
	/* Flushed line by line, as ping does, so that a pipe shows progress. */
	fflush(stdout);
}

void
report_sent(struct engine *e)
{
	if (!e->dots)
		return;
	putchar('.');
	fflush(stdout);
}

void
report_interval(struct engine *e, double now)
{
	double from = e->tick - 1.0 - e->start;

	if (e->verbose)
		printf("[%7.3f-%7.3f s] sent %.3f Mbit/s, echoed %.3f Mbit/s, %lu of %lu back so "
		    "far, jitter %.3f ms\n", from, from + 1.0, (double)e->tick_sent * 8 / 1e6,
		    (double)e->tick_echoed * 8 / 1e6, e->st.received, e->st.sent, e->st.jitter);
	fflush(stdout);
	e->tick_sent = e->tick_echoed = 0;
	while (e->tick <= now)
		e->tick += 1.0;
}

void
report_show(struct engine *e, const unsigned char *buf, size_t n)
{
	if (!e->verbose || e->o->mode != CLIENT_ONCE || n == 0)
		return;
	fwrite(buf, 1, n, stdout);
	e->shown_nl = buf[n - 1] == '\n';
}
