/* SPDX-License-Identifier: MIT */
/* udp_stamp: STAMP test packets in a datagram batch: reflected in place, T3 stamped last. */
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "udp_stamp.h"

/* -1 when the cmsg is shorter than its data (the kernel cuts the last one short: MSG_CTRUNC). */
static int
cmsg_int(const struct cmsghdr *cm)
{
	int v;

	/* IP_TOS arrives as one octet, IP_TTL and the IPv6 ones as an int. */
	if (cm->cmsg_len == CMSG_LEN(sizeof(uint8_t)))
		return *(const uint8_t *)CMSG_DATA(cm);
	if (cm->cmsg_len < CMSG_LEN(sizeof(v)))
		return -1;
	memcpy(&v, CMSG_DATA(cm), sizeof(v));
	return v;
}

/*
 * What the kernel said about the packet's arrival; T2 from the clock if it
 * said nothing (SO_TIMESTAMPNS refused, or its cmsg lost to MSG_CTRUNC,
 * which udp.c's control buffer is sized never to cause): a->t2_user says so.
 * On MSG_CTRUNC the kernel copies the last cmsg cut short, cmsg_len saying
 * so: each is read only when whole; a field missing reads as unknown.
 */
static void
arrival_read(struct msghdr *in, struct stamp_arrival *a)
{
	bool have_t2 = false;

	a->src = in->msg_name;
	a->t2_user = false;
	a->ttl = -1;
	a->tos = -1;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(in); cm != NULL; cm = CMSG_NXTHDR(in, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(a->t2))) {
			memcpy(&a->t2, CMSG_DATA(cm), sizeof(a->t2));
			have_t2 = true;
		} else if ((cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TTL) ||
		    (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_HOPLIMIT)) {
			a->ttl = cmsg_int(cm);
		} else if ((cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TOS) ||
		    (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_TCLASS)) {
			a->tos = cmsg_int(cm);
			a->tos = a->tos < 0 ? -1 : a->tos & 0xff;
		}
	}
	if (!have_t2) {
		clock_gettime(CLOCK_REALTIME, &a->t2);
		a->t2_user = true;
	}
}

static void
count(struct echo_stats *stats[2], enum stat_id id, uint64_t n)
{
	stats_add(stats[0], id, n);
	stats_add(stats[1], id, n);
}

static const enum stat_id drop_stat[] = {
	[STAMP_DROP_SHORT] = STAT_stamp_dropped + STATS_STAMP_DROP_short,
	[STAMP_DROP_AUTH] = STAT_stamp_dropped + STATS_STAMP_DROP_auth_failed,
	[STAMP_DROP_SESSIONS] = STAT_stamp_dropped + STATS_STAMP_DROP_sessions_full,
};

/* The outcome's counters beyond "reflected". */
static void
count_outcome(struct echo_stats *stats[2], const struct stamp_arrival *a,
    const struct stamp_outcome *o)
{
	count(stats, STAT_stamp_reflected, 1);
	if (o->short_answered)
		count(stats, STAT_stamp_short_answered, 1);
	if (o->session_restarted)
		count(stats, STAT_stamp_sessions_restarted, 1);
	if (a->t2_user)
		count(stats, STAT_stamp_t2_userspace, 1);
	if (o->tlv.cos_refused)
		count(stats, STAT_stamp_cos_refused, 1);
	if (o->tlv.unknown > 0)
		count(stats, STAT_stamp_tlvs_unrecognized, o->tlv.unknown);
	if (o->tlv.malformed > 0)
		count(stats, STAT_stamp_tlvs_malformed, o->tlv.malformed);
}

bool
udp_stamp_reflect(struct stamp_runtime *run, struct msghdr *in, uint8_t *pkt, size_t *len,
    uint64_t now_ms, struct echo_stats *stats[2], struct udp_stamp_reply *out, int *dscp)
{
	struct stamp_arrival a;
	struct stamp_outcome o;

	*dscp = -1;
	out->reflector = NULL;
	arrival_read(in, &a);
	a.counters = &run->reflector.counters;
	a.now_s = now_ms / 1000;
	a.clock = stamp_runtime_clock(run, a.now_s);
	if (stamp_reflect(pkt, *len, &run->reflector, &a, &o) == -1) {
		count(stats, drop_stat[o.drop], 1);
		return false;
	}
	count_outcome(stats, &a, &o);
	*len = o.test.len;
	*dscp = o.tlv.dscp;
	out->reflector = &run->reflector;
	out->pkt = pkt;
	out->test = o.test;
	return true;
}

/*
 * One reading per reply, in sending order: one for the batch would give the
 * last reply a T3 older than the HMACs signed before it (up to 16 of them)
 * and hide that time from RTTs.
 */
static void
send_time(const struct udp_stamp_reply *rep)
{
	const struct stamp_reflector *r = rep->reflector;
	struct timespec t3;

	if (r == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &t3);
	stamp_reflect_send_time(rep->pkt, &rep->test, &t3, r->fmt, r->key);
}

_Static_assert(sizeof(struct udp_stamp_reply) <= sizeof(((struct dgram_pending *)0)->scratch),
    "a STAMP reply's pending state fits a dgram_pending");

static void
pending_send_time(struct dgram_pending *p)
{
	send_time((const struct udp_stamp_reply *)(void *)p->scratch.buf);
}

/* dgram_reply_fn; ctx: the listener's struct stamp_runtime. */
static bool
stamp_reply(const void *ctx, const struct dgram_in *in, uint8_t *pkt, size_t *len, int *dscp,
    struct dgram_pending *p)
{
	struct echo_stats *stats[2] = { in->stats[0], in->stats[1] };
	/* Mutable through the handler: its clock cache and session table (atomics, locks). */
	struct stamp_runtime *run = (struct stamp_runtime *)(uintptr_t)ctx;

	if (!udp_stamp_reflect(run, in->msg, pkt, len, in->now_ms, stats,
	    (struct udp_stamp_reply *)(void *)p->scratch.buf, dscp))
		return false;
	p->before_send = pending_send_time;
	return true;
}

void
udp_stamp_handler(struct dgram_handler *h, struct stamp_runtime *run, bool authenticated)
{
	h->reply = stamp_reply;
	h->ctx = run;
	h->limit = SRCLIMIT_STAMP;
	h->min_charge = authenticated ? STAMP_AUTH_LEN : STAMP_UNAUTH_LEN;
}
