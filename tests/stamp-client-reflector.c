/* SPDX-License-Identifier: MIT */
/* A STAMP session-reflector for echo-client's tests: libstamp's stamp_reflect(), echod's code. */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "stamp.h"
#include "stamp-client-reflector.h"

#define REFL_SESSIONS	64
#define REFL_IDLE_S	60
/* RFC 8762 4.3.1: the SSID of an unauthenticated reply; 4.3.2: of an authenticated one. */
#define REFL_SSID_UNAUTH	14
#define REFL_SSID_AUTH		26

/* What the kernel said about one test packet. */
static void
refl_cmsgs(struct msghdr *msg, struct stamp_arrival *a)
{
	struct cmsghdr *c;
	int v;

	for (c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			memcpy(&a->t2, CMSG_DATA(c), sizeof(a->t2));
			continue;
		}
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) {
			a->tos = *(const unsigned char *)CMSG_DATA(c);
			continue;
		}
		memcpy(&v, CMSG_DATA(c), sizeof(v));
		if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
		    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT))
			a->ttl = v;
		else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS)
			a->tos = v;
	}
}

static int
refl_socket(int family)
{
	int fd = server_bind(family, SOCK_DGRAM, 0), on = 1, r;

	if (fd == -1)
		return -1;
	r = setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	if (family == AF_INET6)
		r |= setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof(on)) |
		    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, &on, sizeof(on));
	else
		r |= setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &on, sizeof(on)) |
		    setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &on, sizeof(on));
	if (r != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The reply's DSCP: what the Class of Service TLV asked for, else 0, as echod does. */
static void
refl_dscp(int fd, int family, int dscp)
{
	int tos = dscp >= 0 ? dscp << 2 : 0;

	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
	else
		setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
}

/* Spoil what the script says, after the reply was built and signed. */
static void
refl_spoil(uint8_t *pkt, char what, bool auth)
{
	if (what == 't' && auth)
		pkt[STAMP_AUTH_HMAC_OFF] ^= 1;
	if (what == 's')
		pkt[auth ? REFL_SSID_AUTH : REFL_SSID_UNAUTH] ^= 0x5a;
	/* RFC 8972 4.4: DSCP2, what arrived, set to 0 (best effort) in the CoS answer that
	 * follows the base, as if re-marked on the way (unauthenticated: nothing signs it). */
	if (what == 'm' && !auth && pkt[STAMP_UNAUTH_LEN + 1] == STAMP_TLV_COS) {
		pkt[STAMP_UNAUTH_LEN + STAMP_TLV_HDR] &= 0xfc;
		pkt[STAMP_UNAUTH_LEN + STAMP_TLV_HDR + 1] &= 0x0f;
	}
}

/* The reply's length as the script says: the base only, or 4 zero octets more. */
static size_t
refl_size(uint8_t *pkt, size_t n, char what, bool auth)
{
	if (what == 'k' && !auth && n > STAMP_UNAUTH_LEN)
		return STAMP_UNAUTH_LEN;
	if (what == 'l' && n + 4 <= 65536) {
		memset(pkt + n, 0, 4);
		return n + 4;
	}
	return n;
}

static void
refl_loop(int fd, int family, const struct stamp_reflector *r, const char *script)
{
	static uint8_t buf[65536];
	struct sockaddr_storage from;
	char ctl[512];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr msg;
	struct stamp_arrival a;
	struct stamp_outcome out;
	struct timespec now, t3;
	size_t len = strlen(script), size;
	char what;
	ssize_t n;

	for (unsigned long i = 0;; i++) {
		memset(&msg, 0, sizeof(msg));
		msg.msg_name = &from;
		msg.msg_namelen = sizeof(from);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = ctl;
		msg.msg_controllen = sizeof(ctl);
		n = recvmsg(fd, &msg, 0);
		if (n == -1)
			continue;
		what = script[i % len];
		if (what == 'f')
			continue;	/* lost on the way in: never counted */
		memset(&a, 0, sizeof(a));
		a.src = (const struct sockaddr *)&from;
		a.ttl = a.tos = -1;
		clock_gettime(CLOCK_REALTIME, &a.t2);
		refl_cmsgs(&msg, &a);
		clock_gettime(CLOCK_MONOTONIC, &now);
		a.now_s = (uint64_t)now.tv_sec;
		stamp_clock_state(&a.clock);
		if (stamp_reflect(buf, (size_t)n, r, &a, &out) == -1 || what == 'b')
			continue;
		refl_dscp(fd, family, out.tlv.dscp);
		clock_gettime(CLOCK_REALTIME, &t3);
		stamp_reflect_send_time(buf, &out.test, &t3, r->fmt, r->key);
		refl_spoil(buf, what, r->key != NULL);
		size = refl_size(buf, (size_t)n, what, r->key != NULL);
		sendto(fd, buf, size, 0, (struct sockaddr *)&from, msg.msg_namelen);
	}
}

void
twamp_reply41(uint8_t out[TWAMP_REPLY_LEN], const uint8_t *test, uint32_t seq,
    const struct timespec *t2, const struct timespec *t3, uint8_t ttl)
{
	/* RFC 5357 4.2.1, row by row; the test packet (4.1.2): Sequence Number at 0,
	 * Timestamp at 4, Error Estimate at 12. No padding follows the Sender TTL. */
	memset(out, 0, TWAMP_REPLY_LEN);
	stamp_put32(out + 0, seq);				/* Sequence Number */
	stamp_put64(out + 4, stamp_ts_encode(t3, STAMP_TS_NTP));	/* Timestamp */
	stamp_put16(out + 12, 0x0001);		/* Error Estimate: S 0, Z 0, multiplier 1 */
	/* 14-15 MBZ */
	stamp_put64(out + 16, stamp_ts_encode(t2, STAMP_TS_NTP));	/* Receive Timestamp */
	memcpy(out + 24, test + 0, 4);			/* Sender Sequence Number */
	memcpy(out + 28, test + 4, 8);			/* Sender Timestamp */
	memcpy(out + 36, test + 12, 2);			/* Sender Error Estimate */
	/* 38-39 MBZ */
	out[40] = ttl;					/* Sender TTL */
}

/* A TWAMP-Light reflector: every test packet answered with exactly 41 octets, numbered
 * by its own count from 0. */
static void
twamp_loop(int fd)
{
	static uint8_t buf[65536];
	uint8_t reply[TWAMP_REPLY_LEN];
	struct sockaddr_storage from;
	char ctl[512];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr msg;
	struct stamp_arrival a;
	struct timespec t3;
	ssize_t n;

	for (uint32_t seq = 0;;) {
		memset(&msg, 0, sizeof(msg));
		msg.msg_name = &from;
		msg.msg_namelen = sizeof(from);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = ctl;
		msg.msg_controllen = sizeof(ctl);
		n = recvmsg(fd, &msg, 0);
		if (n < 14)
			continue;	/* not even RFC 5357 4.1.2's test packet */
		memset(&a, 0, sizeof(a));
		a.ttl = 255;
		clock_gettime(CLOCK_REALTIME, &a.t2);
		refl_cmsgs(&msg, &a);
		clock_gettime(CLOCK_REALTIME, &t3);
		twamp_reply41(reply, buf, seq++, &a.t2, &t3, (uint8_t)a.ttl);
		sendto(fd, reply, sizeof(reply), 0, (struct sockaddr *)&from, msg.msg_namelen);
	}
}

int
twamp_light_start(struct test_server *s, int family)
{
	int fd;

	server_init(s, family);
	fd = refl_socket(family);
	if (fd == -1) {
		perror("TWAMP-Light reflector socket");
		return -1;
	}
	server_name(s, server_port_of(fd));
	s->pid = fork();
	if (s->pid == -1) {
		close(fd);
		return -1;
	}
	if (s->pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		twamp_loop(fd);
		_exit(0);
	}
	close(fd);
	return 0;
}

int
refl_start(struct test_server *s, int family, const struct refl_spec *spec)
{
	static struct stamp_key key;
	struct stamp_reflector r = {
		.fmt = STAMP_TS_NTP, .tlvs = true, .sync_src = STAMP_SYNC_NTP,
		.dscp_allow = STAMP_DSCP_ALLOW_DEFAULT,
		.ts_in = STAMP_TSM_SW, .ts_out = STAMP_TSM_SW,
	};
	int fd;

	server_init(s, family);
	if (spec->key_path != NULL) {
		if (stamp_key_load(spec->key_path, &key) == -1) {
			fprintf(stderr, "reflector key %s: %s\n", spec->key_path, strerror(errno));
			return -1;
		}
		r.key = &key;
	}
	fd = refl_socket(family);
	if (fd == -1) {
		perror("reflector socket");
		return -1;
	}
	server_name(s, server_port_of(fd));
	s->pid = fork();
	if (s->pid == -1) {
		close(fd);
		return -1;
	}
	if (s->pid == 0) {
		/* The test's handlers (the harness kills its process group on SIGTERM) are
		 * not the reflector's: server_stop()'s SIGTERM ends it, and nothing else. */
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (spec->stateful) {
			r.sessions = stamp_sessions_new(REFL_SESSIONS, REFL_IDLE_S);
			if (r.sessions == NULL)
				_exit(1);
		}
		refl_loop(fd, family, &r, spec->script != NULL ? spec->script : "e");
		_exit(0);
	}
	/* Bound before the fork: it answers from now on. The child holds the socket. */
	close(fd);
	return 0;
}
