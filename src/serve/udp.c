/* SPDX-License-Identifier: MIT */
/* udp: datagrams in by the batch, the same datagrams back to their senders. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dgram.h"
#include "log.h"
#include "udp.h"

/* Datagrams per recvmmsg()/sendmmsg(): one system call each way for many echoes. */
#define UDP_BATCH	16
/* Batches per readiness event before yielding to other sockets (fairness). */
#define UDP_BUDGET	4
/* Any IPv4 or IPv6 datagram fits (65507 and 65527 payload bytes): never truncated. */
#define UDP_SLOT_SIZE	65536
/*
 * In: the destination address (pktinfo), and what a handler asked the
 * socket for (control/compile.c): a timestamping one the receive time,
 * TTL and TOS, one reflecting DSCP the TOS. A dual-stack
 * socket may be given both families' (an IPv4-mapped packet gets
 * IPV6_PKTINFO and IP_TTL/IP_TOS): room for every one, and two more. A full
 * buffer sets MSG_CTRUNC and drops cmsgs; a handler must cope with one lost,
 * this keeps it from happening. Out: the source address, and the reply's TOS
 * when it is not the socket's default (0).
 */
#define UDP_CTRL_IN	(CMSG_SPACE(sizeof(struct in_pktinfo)) +			\
	CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct timespec)) +	\
	6 * CMSG_SPACE(sizeof(int)))
#define UDP_CTRL_OUT	(CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int)))

union udp_control_in {
	char buf[UDP_CTRL_IN];
	struct cmsghdr align;
};

union udp_control_out {
	char buf[UDP_CTRL_OUT];
	struct cmsghdr align;
};

struct udp_batch {
	struct mmsghdr in[UDP_BATCH], out[UDP_BATCH];
	struct iovec iov_in[UDP_BATCH], iov_out[UDP_BATCH];
	struct sockaddr_storage peer[UDP_BATCH];
	union udp_control_in ctrl_in[UDP_BATCH];
	union udp_control_out ctrl_out[UDP_BATCH];
	struct dgram_pending pending[UDP_BATCH];	/* by reply, as out */
	char data[UDP_BATCH][UDP_SLOT_SIZE];
};

static void
batch_reset_in(struct udp_batch *b)
{
	for (int i = 0; i < UDP_BATCH; i++) {
		struct msghdr *h = &b->in[i].msg_hdr;

		b->iov_in[i] = (struct iovec){ b->data[i], UDP_SLOT_SIZE };
		*h = (struct msghdr){
			.msg_name = &b->peer[i], .msg_namelen = sizeof(b->peer[i]),
			.msg_iov = &b->iov_in[i], .msg_iovlen = 1,
			.msg_control = b->ctrl_in[i].buf, .msg_controllen = UDP_CTRL_IN,
		};
	}
}

/*
 * The reply leaves from the address the datagram was sent to (a wildcard
 * socket on a multi-homed host would otherwise pick the route's address, and
 * the client would drop the reply). Returns the control length for the reply.
 */
static size_t
reply_source(struct msghdr *in, struct cmsghdr *reply)
{
	struct cmsghdr *cm;

	for (cm = CMSG_FIRSTHDR(in); cm != NULL; cm = CMSG_NXTHDR(in, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			pi.ipi_spec_dst = pi.ipi_addr;
			pi.ipi_ifindex = 0;
			reply->cmsg_level = IPPROTO_IP;
			reply->cmsg_type = IP_PKTINFO;
			reply->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(reply), &pi, sizeof(pi));
			return CMSG_SPACE(sizeof(pi));
		}
		if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			/* The interface matters for link-local scope only; else routing chooses. */
			if (!IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr))
				pi.ipi6_ifindex = 0;
			reply->cmsg_level = IPPROTO_IPV6;
			reply->cmsg_type = IPV6_PKTINFO;
			reply->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(reply), &pi, sizeof(pi));
			return CMSG_SPACE(sizeof(pi));
		}
	}
	return 0;
}

/* A reply's DSCP (ECN not-ECT), in the header its peer's family uses. */
static size_t
reply_dscp(const struct sockaddr *peer, int dscp, struct cmsghdr *cm)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)peer;
	bool v4 = peer->sa_family == AF_INET ||
	    (peer->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr));
	int tos = dscp << 2;

	cm->cmsg_level = v4 ? IPPROTO_IP : IPPROTO_IPV6;
	cm->cmsg_type = v4 ? IP_TOS : IPV6_TCLASS;
	cm->cmsg_len = CMSG_LEN(sizeof(tos));
	memcpy(CMSG_DATA(cm), &tos, sizeof(tos));
	return CMSG_SPACE(sizeof(tos));
}

/* A reply's control messages: where it leaves from, and its DSCP (dscp >= 0). */
static void
reply_control(struct msghdr *in, struct msghdr *out, union udp_control_out *ctrl, int dscp)
{
	size_t len;

	/* CMSG_SPACE() pads past the data: the kernel reads those bytes too. */
	memset(ctrl, 0, sizeof(*ctrl));
	len = reply_source(in, &ctrl->align);
	if (dscp >= 0)
		len += reply_dscp(in->msg_name, dscp, (struct cmsghdr *)(void *)(ctrl->buf + len));
	out->msg_control = len > 0 ? ctrl->buf : NULL;
	out->msg_controllen = len;
}

static void
udp_count(struct udp_watch *watch, enum stat_id id, uint64_t n)
{
	stats_add(watch->uw->stats, id, n);
	stats_add(watch->slot, id, n);
}

/* A datagram refused: counted as dropped and by reason, and noted. */
static void
udp_refuse(struct udp_watch *watch, const struct sockaddr *peer, enum guard_verdict v,
    uint64_t now)
{
	enum refusal_reason why = guard_verdict_reason(v);

	udp_count(watch, STAT_datagrams_dropped, 1);
	if (why == REFUSAL_COUNT)
		return;
	udp_count(watch, (enum stat_id)(STAT_refused + why), 1);
	if (watch->uw->refusals != NULL)
		refusal_log_note(watch->uw->refusals, peer, why, watch->ls->name, now);
}

/*
 * Where a datagram was sent, from its pktinfo (a narrowed socket is a
 * wildcard one). view_local_fn; arg: its struct msghdr.
 */
static int
datagram_local(void *arg, struct sockaddr_storage *ss)
{
	struct msghdr *in = arg;

	memset(ss, 0, sizeof(*ss));
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(in); cm != NULL; cm = CMSG_NXTHDR(in, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct sockaddr_in *sin = (struct sockaddr_in *)ss;
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			sin->sin_family = AF_INET;
			sin->sin_addr = pi.ipi_addr;
			return 0;
		}
		if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			sin6->sin6_family = AF_INET6;
			sin6->sin6_addr = pi.ipi6_addr;
			return 0;
		}
	}
	return -1;
}

/*
 * The guard's verdict on one datagram, under its handler's rules (h NULL:
 * everyone, the top-level minimum source port, echo buckets). A reply is
 * charged at least h->min_charge octets (a reply may be longer than its request).
 */
static enum guard_verdict
datagram_admit(struct udp_worker *uw, const struct guard_policy *policy,
    const struct dgram_handler *h, uint16_t local, struct msghdr *in, size_t len, uint64_t now)
{
	bool truncated = (in->msg_flags & MSG_TRUNC) != 0;

	if (h == NULL)
		return guard_datagram(uw->guard, policy, NULL, policy->min_source_port, local,
		    in->msg_name, len, truncated, now);
	return guard_datagram_class(uw->guard, policy, h->acl, h->min_source_port, local,
	    in->msg_name, len, truncated, h->limit, len > h->min_charge ? len : h->min_charge,
	    now);
}

/* The generation in force (policy, view) is read once per batch, not per datagram. */
static size_t
batch_build_replies(struct udp_watch *watch, struct udp_batch *b, int n)
{
	struct udp_worker *uw = watch->uw;
	const struct listener_view *view;
	const struct generation *g = generation_cursor_read(&watch->served, &view);
	const struct guard_policy *policy = g != NULL ? generation_policy(g) : NULL;
	uint64_t now = loop_now(uw->loop);
	size_t k = 0;

	for (int i = 0; i < n; i++) {
		struct msghdr *in = &b->in[i].msg_hdr;
		const struct dgram_handler *h;
		enum guard_verdict v = GUARD_UNLISTED;
		size_t len = b->in[i].msg_len;	/* a handler's reply may be longer */
		int dscp = -1;

		/* h: the handler of the configured listener there (NULL: everyone, echo). */
		if (policy != NULL && view_dgram_local(view, datagram_local, in, &h))
			v = datagram_admit(uw, policy, h, watch->local_port, in,
			    b->in[i].msg_len, now);

		if (v != GUARD_PASS) {
			udp_refuse(watch, in->msg_name, v, now);
			continue;
		}
		b->pending[k].before_send = NULL;
		if (h != NULL && h->reply != NULL) {
			struct dgram_in din = { in, now, { uw->stats, watch->slot } };

			if (!h->reply(h->ctx, &din, (uint8_t *)b->data[i], &len, &dscp,
			    &b->pending[k])) {
				udp_count(watch, STAT_datagrams_dropped, 1);
				continue;
			}
		}
		b->iov_out[k] = (struct iovec){ b->data[i], len };
		b->out[k].msg_hdr = (struct msghdr){
			.msg_name = in->msg_name, .msg_namelen = in->msg_namelen,
			.msg_iov = &b->iov_out[k], .msg_iovlen = 1,
		};
		reply_control(in, &b->out[k].msg_hdr, &b->ctrl_out[k], dscp);
		k++;
	}
	return k;
}

/* sendmmsg(), unless a test scripts its failures (udp_sendmmsg_set()). */
static udp_sendmmsg_fn *udp_sendmmsg = sendmmsg;

void
udp_sendmmsg_set(udp_sendmmsg_fn *fn)
{
	udp_sendmmsg = fn == NULL ? sendmmsg : fn;
}

/* The socket or the host is out of room: the next datagram would fail the same way. */
static bool
send_error_is_global(int error)
{
	return error == EAGAIN || error == EWOULDBLOCK || error == ENOBUFS || error == ENOMEM;
}

/*
 * A reply that cannot be sent is dropped, never retried. Out of room, the
 * rest of the batch is dropped with it: one datagram at a time would cost
 * one failing call each, exactly when the machine is overloaded. Any other
 * error (EPERM from a firewall, EHOSTUNREACH) concerns that datagram only.
 */
static void
batch_send(struct udp_watch *watch, struct udp_batch *b, size_t k)
{
	int fd = watch->w.fd;
	size_t done = 0;

	/* Just before sending, in sending order: a handler's last word (a send timestamp). */
	for (size_t i = 0; i < k; i++)
		if (b->pending[i].before_send != NULL)
			b->pending[i].before_send(&b->pending[i]);

	while (done < k) {
		int r = udp_sendmmsg(fd, b->out + done, (unsigned)(k - done), MSG_DONTWAIT);

		if (r == -1) {
			if (errno == EINTR)
				continue;
			if (send_error_is_global(errno)) {
				udp_count(watch, STAT_datagrams_dropped, k - done);
				return;
			}
			udp_count(watch, STAT_datagrams_dropped, 1);
			done++;
			continue;
		}
		for (int i = 0; i < r; i++)
			udp_count(watch, STAT_echoed_bytes, b->out[done + (size_t)i].msg_len);
		udp_count(watch, STAT_datagrams_echoed, (uint64_t)r);
		done += (size_t)r;
	}
}

static void
udp_cb(int fd, uint32_t events, void *arg)
{
	struct udp_watch *watch = arg;
	struct udp_worker *uw = watch->uw;
	struct udp_batch *b = uw->batch;

	for (int budget = UDP_BUDGET; budget > 0; budget--) {
		int n;

		batch_reset_in(b);
		n = recvmmsg(fd, b->in, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				log_debug("recvmmsg on fd %d: %s", fd, strerror(errno));
			return;
		}
		batch_send(watch, b, batch_build_replies(watch, b, n));
		if (n < UDP_BATCH)
			return;
	}
}

int
udp_worker_init(struct udp_worker *uw, struct loop *loop, struct guard *guard,
    const struct generation_slot *generations, struct echo_stats *stats, int id,
    struct refusal_log *refusals)
{
	uw->loop = loop;
	uw->guard = guard;
	uw->generations = generations;
	uw->stats = stats;
	uw->id = id;
	uw->refusals = refusals;
	uw->batch = malloc(sizeof(*uw->batch));
	return uw->batch == NULL ? -1 : 0;
}

void
udp_worker_fini(struct udp_worker *uw)
{
	free(uw->batch);
	uw->batch = NULL;
}

int
udp_watch_start(struct udp_watch *watch, struct udp_worker *uw, int fd, uint16_t local,
    const void *key, struct listener_stats *ls)
{
	watch->uw = uw;
	watch->local_port = local;
	watch->served = (struct generation_cursor){ .slot = uw->generations, .key = key };
	watch->ls = ls;
	watch->slot = listener_stats_slot(ls, uw->id);
	return loop_add(uw->loop, &watch->w, fd, EPOLLIN | EPOLLEXCLUSIVE, udp_cb, watch);
}

void
udp_watch_stop(struct udp_watch *watch, bool drain)
{
	/* One budget of batches: what a client sent before the reload still gets its echo. */
	if (drain)
		udp_cb(watch->w.fd, EPOLLIN, watch);
	loop_del(watch->uw->loop, &watch->w);
}
