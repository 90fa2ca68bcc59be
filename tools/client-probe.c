/* SPDX-License-Identifier: MIT */
/* The probe schedule: probes go out on time whatever is outstanding; expiry; the summary. */
#include <err.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "client-engine.h"
#include "client-io.h"
#include "client-probe.h"
#include "client-sockopt.h"
#include "jsonout.h"

/* Probes remembered for matching: at least this many, or -W (+1 s) worth at the rate. */
#define PROBE_MIN_SLOTS	1024U
#define PROBE_MAX_SLOTS	(1U << 21)
#define PROBE_BURST_SLOTS	65536U
/* Large enough for any datagram, so that an oversized reply is seen whole, not truncated. */
#define PROBE_DGRAM_BUF	65536
#define PROBE_STREAM_BUF	65536
/* After a stall (suspend, a debugger), restart the schedule rather than burst to catch up. */
#define PROBE_MAX_BEHIND	1.0

struct pslot *
engine_slot(struct engine *e, uint32_t seq)
{
	struct pslot *s = &e->slots[seq % e->nslots];

	return seq != 0 && seq <= e->seq && s->seq == seq ? s : NULL;
}

struct pslot *
engine_slot_start(struct engine *e)
{
	struct pslot *s = &e->slots[(e->seq + 1) % e->nslots];

	e->seq++;
	s->seq = e->seq;
	s->rtt = -1;
	payload_fill(&e->pl, s->seq, 0, e->out);
	/* Both clocks read together, after the payload was made: the two round trips (kernel
	 * and monotonic) start at the same moment. */
	s->stamp = recv_realtime_ns();
	s->sent = io_now();
	payload_restamp(&e->pl, s->stamp, e->out);
	s->state = PS_PENDING;
	e->st.sent++;
	return s;
}

double
engine_rtt(const struct pslot *s, const struct recv_meta *m, bool *kernel)
{
	double user = (m->mono - s->sent) * 1000.0, k;

	*kernel = false;
	if (m->kernel_ns == 0 || m->kernel_ns < s->stamp)
		return user;
	/* Both ends on CLOCK_REALTIME: a clock step between them would show as a round trip
	 * longer than the monotonic one; trust the kernel's only when it fits inside. */
	k = (double)(m->kernel_ns - s->stamp) / 1e6;
	if (k > user + 0.001)
		return user;
	*kernel = true;
	return k;
}

void
engine_ok(struct engine *e, struct pslot *s, double rtt, bool kernel, double now)
{
	struct pslot *n;

	s->state = PS_OK;
	s->rtt = rtt;
	e->st.received++;
	e->st.kernel_clock += kernel;
	stats_add(&e->st, rtt);
	stats_jitter(&e->st, rtt);
	/* RFC 4737 3.3: reordered when it comes after a probe sent later. */
	if (s->seq < e->next_exp)
		e->st.reordered++;
	else
		e->next_exp = s->seq + 1;
	n = engine_slot(e, s->seq - 1);
	if (n != NULL && n->state == PS_OK)
		stats_ipdv(&e->st, n->rtt, rtt);
	n = engine_slot(e, s->seq + 1);
	if (n != NULL && n->state == PS_OK)
		stats_ipdv(&e->st, rtt, n->rtt);
	/* Flood: the next probe as soon as the last one is answered. */
	if (e->o->flood && s->seq == e->seq && e->next > now)
		e->next = now;
}

void
engine_fail(struct engine *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->st.reason, sizeof(e->st.reason), fmt, ap);
	va_end(ap);
	if (e->dots)
		putchar('\n');
	fflush(stdout);
	warnx("%s", e->st.reason);
	e->fatal = true;
}

/* Probes past their -W: lost (a reply may still come, and count as late). */
static void
probe_expire(struct engine *e, double now)
{
	struct pslot *s;
	struct pevent ev = { .status = ST_LOST, .rtt = -1, .ttl = -1, .tos = -1 };

	for (; e->oldest != 0 && e->oldest <= e->seq; e->oldest++) {
		s = engine_slot(e, e->oldest);
		if (s == NULL || s->state != PS_PENDING)
			continue;
		if (now < s->sent + e->o->timeout)
			break;
		s->state = PS_LOST;
		e->pending--;
		ev.slot = s;
		ev.size = e->pl.size;
		report_event(e, &ev);
	}
}

static bool
probe_stream(const struct engine *e)
{
	return e->peer->socktype != SOCK_DGRAM;
}

/* May the next probe go out now? Also decides when sending is over. */
static bool
probe_due(struct engine *e, double now)
{
	const struct client_opts *o = e->o;
	struct pslot *s;

	if (e->stopped)
		return false;
	if ((o->count != 0 && e->seq >= o->count) || e->seq == UINT32_MAX ||
	    (o->deadline > 0 && now >= e->start + o->deadline)) {
		e->stopped = true;
		return false;
	}
	if (now < e->next)
		return false;
	if (probe_stream(e) && e->wr_off < e->pl.size)
		return false;	/* the previous one is still going out */
	/* Window full: the slot is still waited for. Wait for it to expire. */
	s = &e->slots[(e->seq + 1) % e->nslots];
	return s->state != PS_PENDING;
}

static void
probe_schedule(struct engine *e, double now)
{
	if (e->seq < e->o->preload)
		return;		/* preload: the next one at once */
	e->next += e->o->interval;
	if (e->next < now - PROBE_MAX_BEHIND)
		e->next = now;
}

/* The earliest moment something is due: a probe, an expiry, the deadline, a -b line. */
static double
probe_wake(struct engine *e)
{
	double t = -1, c;
	struct pslot *s;

#define PROBE_EARLIER(x) do { c = (x); if (t < 0 || c < t) t = c; } while (0)
	/* The next probe's time only when it could go out then: while the previous one is
	 * still being written, or its slot still waited for, a past time would spin. */
	if (!e->stopped && !(probe_stream(e) && e->wr_off < e->pl.size) &&
	    e->slots[(e->seq + 1) % e->nslots].state != PS_PENDING)
		PROBE_EARLIER(e->next);
	if ((!e->stopped || !e->paced) && e->o->deadline > 0)
		PROBE_EARLIER(e->start + e->o->deadline);
	if (probe_stream(e) && (e->pending > 0 || e->wr_off < e->pl.size))
		PROBE_EARLIER(e->progress + e->o->timeout);
	for (; !probe_stream(e) && e->oldest != 0 && e->oldest <= e->seq; e->oldest++) {
		s = engine_slot(e, e->oldest);
		if (s != NULL && s->state == PS_PENDING) {
			PROBE_EARLIER(s->sent + e->o->timeout);
			break;
		}
	}
	if (e->paced && !e->stopped)
		PROBE_EARLIER(e->tick);
#undef PROBE_EARLIER
	return t;
}

static void
probe_send(struct engine *e, double now)
{
	if (e->oldest == 0)
		e->oldest = 1;
	if (probe_stream(e))
		pstream_start(e);
	else
		pdgram_send(e);
	report_sent(e);
	probe_schedule(e, now);
}

/*
 * -w ends the run at the deadline, whatever is still awaited, as ping's -w does: what is
 * outstanding then is in flight, not waited for. Throughput runs (-b, --stream) only stop
 * sending there and drain: bytes still on their way back at the end are no loss.
 */
static bool
probe_deadline_over(const struct engine *e, double now)
{
	return e->o->deadline > 0 && !e->paced && now >= e->start + e->o->deadline;
}

static void
probe_loop(struct engine *e)
{
	struct pollfd pfd = { .fd = e->fd };
	double now;
	int r;

	e->start = e->next = e->progress = io_now();
	e->tick = e->start + 1.0;
	for (;;) {
		now = io_now();
		/* Before sending: the second just over, up to the deadline's. */
		if (e->paced && now >= e->tick && !e->stopped)
			report_interval(e, now);
		while (!e->fatal && probe_due(e, now))
			probe_send(e, now);
		if (!probe_stream(e))
			probe_expire(e, now);
		else
			pstream_check_stall(e, now);
		if (e->fatal || (e->stopped && e->pending == 0 &&
		    (!probe_stream(e) || e->wr_off == e->pl.size)))
			break;
		if (probe_deadline_over(e, now)) {
			e->cut = true;
			break;
		}
		pfd.events = POLLIN;
		if (probe_stream(e) && e->wr_off < e->pl.size)
			pfd.events |= POLLOUT;
		r = io_wait(&pfd, 1, probe_wake(e));
		if (r == -1) {
			if (errno == EINTR)
				e->cut = true;
			else
				engine_fail(e, "%s: poll: %s", e->peer->name, strerror(errno));
			break;
		}
		if (r > 0 && probe_stream(e))
			pstream_io(e, pfd.revents);
		else if (r > 0)
			pdgram_read(e, pfd.revents);
	}
	/* Replies already queued (a last duplicate) are counted, not left unread. */
	if (!probe_stream(e) && !e->fatal)
		pdgram_read(e, 0);
	/* Cut short (SIGINT, SIGTERM, -w): what was still within its -W was sent and never
	 * answered, so it is lost, as ping counts it; it is shown apart, since a longer
	 * wait might have seen it answered. */
	if (e->cut && !e->fatal)
		e->st.in_flight = e->pending;
	e->st.ended = io_now();
	report_end_echo(e);
	if (e->dots)
		putchar('\n');
	fflush(stdout);
}

/* Why the run was not perfect, for the summary, unless a fatal error said it already. */
static void
probe_reason(struct engine *e)
{
	struct stats *st = &e->st;

	if (st->reason[0] != '\0' || stats_lost(st) + st->mismatched + st->late == 0)
		return;
	if (st->in_flight > 0 && st->in_flight == stats_lost(st) && st->errors == 0)
		snprintf(st->reason, sizeof(st->reason), "ended with %lu still awaited (in flight)",
		    st->in_flight);
	else if (stats_lost(st) > 0 && st->errors == 0)
		snprintf(st->reason, sizeof(st->reason), "no echo within %g s", e->o->timeout);
	else if (stats_lost(st) == 0 && st->late > 0)
		snprintf(st->reason, sizeof(st->reason), "echoes came after %g s", e->o->timeout);
	else if (stats_lost(st) == 0)
		snprintf(st->reason, sizeof(st->reason), "echoes differed from the probes");
}

/* --stamp's part of the summary. */
static void
probe_more(const void *arg, json_t *json, FILE *f)
{
	const struct engine *e = arg;

	if (json != NULL)
		stampstats_json(&e->stamp->st, stats_lost(&e->st), json);
	else
		stampstats_print(&e->stamp->st, stats_lost(&e->st), f);
}

static void
probe_summary(struct engine *e)
{
	struct stats_info info = {
		.peer = e->peer->name,
		.proto = e->stamp != NULL ? "stamp" : e->peer->family == AF_UNIX ? "unix" :
		    e->peer->socktype == SOCK_DGRAM ? "udp" : "tcp",
		.size = e->pl.size,
		.histogram = e->o->histogram,
		.throughput = e->paced,
		.more = e->stamp != NULL ? probe_more : NULL,
		.more_arg = e,
	};

	if (e->o->pmtu != PMTU_UNSET)
		e->st.path_mtu = sockopt_path_mtu(e->fd, e->peer->family);
	e->st.seconds = e->st.ended - e->start;
	if (e->o->deadline > 0 && e->st.seconds > e->o->deadline)
		e->st.seconds = e->o->deadline;
	probe_reason(e);
	if (e->o->json)
		stats_print_json(&e->st, &info, stdout);
	else if (e->o->mode != CLIENT_ONCE)
		stats_print(&e->st, &info, stdout);
}

/* Enough slots that no probe's slot is reused while it may still be answered. */
static uint32_t
probe_slots(const struct client_opts *o)
{
	/* Back to back (-i 0, --stream): the window itself bounds what is outstanding. */
	double per = o->interval > 0 ? (o->timeout + 1.0) / o->interval : PROBE_BURST_SLOTS;
	double n = per + (double)o->preload + 16;

	if (o->count != 0 && (double)o->count < n)
		n = (double)o->count + 1;
	if (n < PROBE_MIN_SLOTS)
		return PROBE_MIN_SLOTS;
	return n > PROBE_MAX_SLOTS ? PROBE_MAX_SLOTS : (uint32_t)n;
}

static int
probe_alloc(struct engine *e, const struct client_opts *o)
{
	size_t outlen = o->size > 0 ? o->size : 1;

	e->inlen = e->peer->socktype == SOCK_DGRAM ? PROBE_DGRAM_BUF : PROBE_STREAM_BUF;
	e->nslots = probe_slots(o);
	e->slots = calloc(e->nslots, sizeof(*e->slots));
	e->out = malloc(outlen);
	e->in = malloc(e->inlen);
	e->expect = e->peer->socktype == SOCK_DGRAM ? NULL : malloc(outlen);
	if (e->slots == NULL || e->out == NULL || e->in == NULL ||
	    (e->peer->socktype != SOCK_DGRAM && e->expect == NULL))
		return -1;
	return 0;
}

int
probe_run(int fd, const struct peer *peer, const struct client_opts *o)
{
	struct engine *e;
	int ret = -1;

	e = calloc(1, sizeof(*e));
	if (e == NULL || payload_init(&e->pl, o->message, o->size) == -1) {
		warn("probe");
		free(e);
		return -1;
	}
	payload_set_pattern(&e->pl, o->pattern, o->pattern_len);
	e->fd = fd;
	e->peer = peer;
	e->o = o;
	e->verbose = !o->quiet && !o->json;
	e->dots = e->verbose && o->flood;
	e->paced = o->bandwidth > 0 || o->mode == CLIENT_STREAM;
	e->wr_off = o->size;	/* nothing being written */
	e->rd_seq = 1;
	e->rd_diff = -1;
	e->shown_nl = true;
	stats_init(&e->st);
	if (probe_alloc(e, o) == -1 || (o->stamp && pstamp_init(e) == -1)) {
		warn("probe");
		goto done;
	}
	probe_loop(e);
	probe_summary(e);
	/* Probes in flight at the end fail the run only when nothing came back at all, as
	 * ping's exit status has it. */
	if (!e->fatal && e->st.received > 0 && e->st.received + e->st.in_flight == e->st.sent &&
	    e->st.unexpected == 0)
		ret = 0;
done:
	free(e->slots);
	free(e->out);
	free(e->in);
	free(e->expect);
	free(e->stamp);
	stats_free(&e->st);
	payload_free(&e->pl);
	free(e);
	return ret;
}
