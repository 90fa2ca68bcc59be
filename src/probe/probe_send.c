/* SPDX-License-Identifier: MIT */
/* A target's probes out: the slot of its sequence number, the packet, the DSCP, and the
 * probes that timed out counted lost. */
#include <math.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>

#include "probe_int.h"

static void
probe_send_lost(struct probe_target *t, struct probe_slot *s)
{
	s->pending = false;
	t->f.pending--;
	t->f.lost++;
	probe_figures_split(t);
}

void
probe_expire(struct probe_target *t, double now)
{
	int i;

	for (i = 0; i < PROBE_WINDOW; i++)
		if (t->slot[i].pending && t->slot[i].sent + t->c.timeout <= now)
			probe_send_lost(t, &t->slot[i]);
}

/* The probe's payload into buf: a STAMP test packet, or the UDP echo header and zeros. */
static void
probe_send_fill(struct probe_target *t, const struct probe_slot *s, uint8_t *buf)
{
	struct timespec t1 = {
		.tv_sec = (time_t)(s->sent_ns / 1000000000ULL),
		.tv_nsec = (long)(s->sent_ns % 1000000000ULL),
	};

	memset(buf, 0, t->c.size);
	if (t->c.proto == PROBE_STAMP) {
		/* The size was checked against the mode when the target was added. */
		stamppkt_build(buf, t->c.size, &t->send, s->seq, &t1);
		return;
	}
	stamp_put32(buf, PROBE_UDP_MAGIC);
	stamp_put32(buf + 4, t->id);
	stamp_put32(buf + 8, s->seq);
}

/* sendmsg() with the target's DSCP as ancillary data: the socket is everyone's. */
static ssize_t
probe_send_msg(const struct probe_target *t, const uint8_t *buf)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { (void *)buf, t->c.size };
	struct msghdr m = {
		.msg_name = (void *)&t->addr, .msg_namelen = t->addrlen,
		.msg_iov = &iov, .msg_iovlen = 1,
	};
	struct cmsghdr *c;
	int tos = t->c.dscp << 2;

	if (t->c.dscp >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		m.msg_control = ctl.b;
		m.msg_controllen = sizeof(ctl.b);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = t->addr.ss_family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
		c->cmsg_type = t->addr.ss_family == AF_INET ? IP_TOS : IPV6_TCLASS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &tos, sizeof(tos));
	}
	return sendmsg(t->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static uint64_t
probe_send_realtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void
probe_send(struct probe_engine *e, struct probe_target *t, double now)
{
	struct probe_slot *s = &t->slot[t->seq % PROBE_WINDOW];

	/* The window is full: the probe in this slot gets no more time (bounded memory). */
	if (s->pending)
		probe_send_lost(t, s);
	memset(s, 0, sizeof(*s));
	s->seq = t->seq++;
	s->used = s->pending = true;
	s->sent = now;
	s->sent_ns = probe_send_realtime();
	probe_send_fill(t, s, e->buf);
	t->f.sent++;
	t->f.pending++;
	/* A send that fails (no route, a full buffer) is a probe lost, as on the wire. */
	if (t->c.proto == PROBE_TCP)
		probe_tcp_send(t, e->buf);
	else
		(void)probe_send_msg(t, e->buf);
	if (t->c.count > 0 && t->f.sent >= t->c.count)
		t->next_send = INFINITY;
	else if ((t->next_send += t->c.interval) < now)
		t->next_send = now + t->c.interval;	/* a late tick skips, it does not burst */
}
