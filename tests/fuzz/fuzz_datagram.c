/* SPDX-License-Identifier: MIT */
/* fuzz_datagram: libFuzzer harness for the per-datagram decision and the UDP batch code. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acl.h"
#include "config.h"
#include "dgram_conf.h"
#include "generation.h"
#include "guard_conf.h"
#include "listener.h"
#include "log.h"
#include "loop.h"
#include "stamp_conf.h"
#include "udp.h"

/*
 * Input: an 8-byte header that builds the policy, then 4-byte records, one
 * datagram each. Header: [0] flags, [1] udp_rate, [2] reply bytes/s / 64,
 * [3] max_datagram / 16, [4] allow mask and [5] deny mask over 127.0.0.1..8,
 * [6] udp_drop_source_ports mask over PORTS[0..7], [7] udp_min_source_port / 256.
 * F_STAMP (with F_SOCKETS): the listener is a STAMP reflector (stateful when [3] is
 * odd, stamp_short_packets = "drop" when its bit 1 is set): the datagrams, read as
 * test packets, make random TLV chains after the base, or are short ones.
 * Record: [0] source (bits 0-2: 127.0.0.1 + n; bits 3-6: PORTS[n]; bit 7,
 * judged only: IPv6 or IPv4-mapped), [1..2] length (judged only: bit 15 makes
 * an IPv4 source port 0), [3] clock step in ms (judged only: 255 = truncated).
 */
enum {
	F_UDP_RATE = 1, F_BYTE_RATE = 2, F_EXEMPT = 4, F_ALLOW = 8, F_DENY = 16,
	F_MAX_DATAGRAM = 32, F_SOCKETS = 64, F_STAMP = 128,
};
#define NADDR	8
#define NPORT	16
#define MAXREC	64
#define MAXLEN	2048

static const uint16_t PORTS[NPORT] = {
	7, 13, 19, 53, 123, 161, 1900, 11211, 40001, 40002, 40003, 40004, 40005, 40006, 40007,
	40008
};

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int clients[NADDR][NPORT];
static int server = -1, server_port;
static struct loop *loop;
/* The configured listener the server socket stands for: the ACL and minimum are its. */
static struct listener_spec listener;

static void
sin_make(struct sockaddr_in *sin, int a, uint16_t port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK + (uint32_t)a);
}

static void
setup(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int big = 4 << 20;

	log_init(LOG_TARGET_STDERR, LOG_ERR);
	loop = loop_new();
	server = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	sin_make(&sin, 0, 0);
	/*
	 * Destination cmsgs on, although bound to 127.0.0.1 (where echod would not
	 * ask for them): the reply path that copies them is fuzzed too.
	 */
	if (loop == NULL || server == -1 ||
	    setsockopt(server, IPPROTO_IP, IP_PKTINFO, &(int){ 1 }, sizeof(int)) == -1 ||
	    bind(server, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(server, (struct sockaddr *)&sin, &len) == -1)
		abort();
	setsockopt(server, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	/* As apply.c does for a socket that serves STAMP; the echo path parses them too. */
	listener_prepare_stamp(server);
	server_port = ntohs(sin.sin_port);
	memset(clients, -1, sizeof(clients));
}

/* A client socket bound to 127.0.0.(1+a):PORTS[p] (ports below 1024 need root), or -1. */
static int
client(int a, int p)
{
	struct sockaddr_in sin;
	int fd, on = 1, big = 4 << 20;

	if (clients[a][p] != -1)
		return clients[a][p];
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	sin_make(&sin, a, PORTS[p]);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -2;
	}
	sin_make(&sin, 0, (uint16_t)server_port);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		abort();
	clients[a][p] = fd;
	return fd;
}

static void
config_from(const uint8_t *h, struct echod_config *cfg)
{
	char err[128], text[32];

	memset(cfg, 0, sizeof(*cfg));
	memset(&listener, 0, sizeof(listener));
	listener.proto = (h[0] & F_SOCKETS) && (h[0] & F_STAMP) ? PROTO_STAMP : PROTO_UDP;
	listener.stamp.stateful = h[3] & 1;
	listener.stamp.short_drop = h[3] & 2;
	/* A small table, so that a flood fills it within one input. */
	listener.stamp.sessions = 64;
	listener.stamp.session_timeout = CONFIG_DEFAULT_STAMP_SESSION_TIMEOUT;
	listener.dscp_allow = STAMP_DSCP_ALLOW_DEFAULT;
	listener.reflect_dscp = true;
	listener.port = server_port;
	listener.udp_min_source_port = (uint16_t)(h[7] << 8);
	cfg->listeners = &listener;
	cfg->nlisteners = 1;
	cfg->limits.udp_rate = h[0] & F_UDP_RATE ? 1 + h[1] : 0;
	cfg->limits.udp_max_reply_bytes_per_second = h[0] & F_BYTE_RATE ? 64L * (1 + h[2]) : 0;
	/* A stamp listener's test packets have buckets of their own: the same limits. */
	cfg->limits.stamp_rate = cfg->limits.udp_rate;
	cfg->limits.stamp_max_reply_bytes_per_second = cfg->limits.udp_max_reply_bytes_per_second;
	cfg->limits.max_datagram = h[0] & F_MAX_DATAGRAM ? 16L * h[3] : 0;
	cfg->limits.max_connections = 1;
	if (h[0] & F_EXEMPT)
		acl_list_append(&cfg->exempt, &cfg->nexempt, "127.0.0.1/32", err, sizeof(err));
	for (int a = 0; a < NADDR; a++) {
		snprintf(text, sizeof(text), "127.0.0.%d", a + 1);
		if ((h[0] & F_ALLOW) && (h[4] >> a & 1))
			acl_list_append(&listener.acl.allow, &listener.acl.nallow, text, err,
			    sizeof(err));
		if ((h[0] & F_DENY) && (h[5] >> a & 1))
			acl_list_append(&listener.acl.deny, &listener.acl.ndeny, text, err,
			    sizeof(err));
	}
	cfg->drop_ports = calloc(8, sizeof(*cfg->drop_ports));
	for (int p = 0; p < 8; p++)
		if (h[6] >> p & 1)
			cfg->drop_ports[cfg->ndrop_ports++] = PORTS[p];
}

/* Every source-port rule: the list, port 0, below the minimum, the server's own port. */
static bool
port_dropped(const struct echod_config *cfg, uint16_t port)
{
	if (port == 0 || port < listener.udp_min_source_port || port == server_port)
		return true;
	for (size_t i = 0; i < cfg->ndrop_ports; i++)
		if (cfg->drop_ports[i] == port)
			return true;
	return false;
}

/* A peer for the decision alone: IPv4 (port 0 too), IPv4-mapped IPv6, or an IPv6 /64. */
static void
judge_peer(uint8_t src, uint16_t len, struct sockaddr_storage *ss)
{
	int a = src & 7;
	uint16_t port = PORTS[(src >> 3) & 15];

	memset(ss, 0, sizeof(*ss));
	if (src & 0x80) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(len & 2 ? port : 0);
		if (len & 4) {
			s6->sin6_addr.s6_addr[10] = s6->sin6_addr.s6_addr[11] = 0xff;
			s6->sin6_addr.s6_addr[12] = 127;
			s6->sin6_addr.s6_addr[15] = (uint8_t)(1 + a);
		} else {
			s6->sin6_addr.s6_addr[0] = 0x20;
			s6->sin6_addr.s6_addr[1] = 0x01;
			s6->sin6_addr.s6_addr[7] = (uint8_t)a;
			s6->sin6_addr.s6_addr[15] = (uint8_t)(len >> 8);
		}
		return;
	}
	sin_make((struct sockaddr_in *)ss, a, len & 0x8000 ? 0 : port);
}

/* The decision function, no sockets: what it lets through must obey every rule. */
static void
judge(struct guard *g, const struct guard_policy *p, const struct echod_config *cfg,
    const uint8_t *rec, size_t n)
{
	uint64_t now = 1000;

	for (size_t i = 0; i < n; i++, rec += 4) {
		struct sockaddr_storage ss;
		uint16_t len = (uint16_t)(rec[1] | rec[2] << 8);
		bool trunc = rec[3] == 0xff;
		enum guard_verdict v;

		judge_peer(rec[0], len, &ss);
		now += rec[3];
		v = guard_datagram(g, p, &listener.acl, listener.udp_min_source_port,
		    (uint16_t)server_port, (struct sockaddr *)&ss, len, trunc, now);
		if (v == GUARD_PASS_COUNTED)
			abort();
		if (v != GUARD_PASS)
			continue;
		if (trunc || (cfg->limits.max_datagram > 0 && len > cfg->limits.max_datagram) ||
		    port_dropped(cfg, ntohs(((struct sockaddr_in *)&ss)->sin_port)) ||
		    !acl_permits(&listener.acl, (struct sockaddr *)&ss))
			abort();
	}
}

static void
fill(unsigned char *buf, size_t len, uint32_t seq)
{
	memcpy(buf, &seq, sizeof(seq) < len ? sizeof(seq) : len);
	for (size_t i = sizeof(seq); i < len; i++)
		buf[i] = (unsigned char)(seq * 7 + i);
}

struct sent {
	uint32_t seq[MAXREC];
	uint16_t len[MAXREC];
	int n, next;
};

/*
 * Is buf[0 .. got) the reply to datagram (seq, len)? An echo: the same bytes.
 * A STAMP reflection: the same length, at least the base, and the sender's
 * Sequence Number (its first 4 octets) at the reflector's offset 24; but a
 * test packet of 14 to 43 octets gets the 44-octet base packet (RFC 8762 4.6,
 * stamp_short_packets = "base"), the one reply longer than its request.
 */
static bool
reply_matches(const unsigned char *buf, ssize_t got, uint32_t seq, uint16_t len)
{
	unsigned char want[MAXLEN];

	if (listener.proto == PROTO_STAMP) {
		size_t want_len = len;

		if (!listener.stamp.short_drop && len >= STAMP_TWAMP_LIGHT_LEN &&
		    len < STAMP_UNAUTH_LEN)
			want_len = STAMP_UNAUTH_LEN;
		return (size_t)got == want_len && got >= STAMP_UNAUTH_LEN &&
		    memcmp(buf + STAMP_UNAUTH_SENDER_SEQ, &seq, 4) == 0;
	}
	if (got != len)
		return false;
	fill(want, (size_t)got, seq);
	return memcmp(buf, want, (size_t)got) == 0;
}

/* Real datagrams through udp_cb(): every reply is one of the client's, in order, unchanged. */
static void
batch(struct guard *g, const struct echod_config *cfg, const uint8_t *rec, size_t n)
{
	static struct sent sent[NADDR][NPORT];
	static unsigned char buf[65536];
	struct listener_view *all = calloc(1, sizeof(*all));
	struct generation_slot slot = { 0 };
	struct generation *gen;
	struct echo_stats stats = { 0 };
	struct listener_stats *ls = listener_stats_new("udp fuzz", "udp", STATS_DGRAM, 1);
	struct udp_worker uw;
	struct udp_watch port;

	memset(sent, 0, sizeof(sent));
	if (all == NULL)
		abort();
	/* What the socket serves: one generation, published as echod's control thread does. */
	all->all = true;
	all->whole.listener = &listener;
	dgram_conf_handler(&all->whole.dgram, &listener);
	gen = generation_new(NULL, NULL, guard_conf_policy(cfg), 1);
	if (gen == NULL)
		abort();
	generation_set_view(gen, &port, all);
	generation_publish(&slot, gen);
	if (ls == NULL || udp_worker_init(&uw, loop, g, &slot, &stats, 0, NULL) == -1 ||
	    udp_watch_start(&port, &uw, server, (uint16_t)server_port, &port, ls) == -1)
		abort();
	for (size_t i = 0; i < n; i++, rec += 4) {
		int a = rec[0] & 7, p = (rec[0] >> 3) & 15, fd = client(a, p);
		struct sent *s = &sent[a][p];
		uint16_t len = (uint16_t)((rec[1] | rec[2] << 8) % MAXLEN);

		if (fd < 0)
			continue;
		fill(buf, len, (uint32_t)i);
		if (send(fd, buf, len, 0) != len)
			continue;
		s->seq[s->n] = (uint32_t)i;
		s->len[s->n++] = len;
	}
	for (int rounds = 0; rounds < 16; rounds++) {
		struct pollfd pfd = { server, POLLIN, 0 };

		if (poll(&pfd, 1, 0) != 1)
			break;
		port.w.cb(server, EPOLLIN, &port);
	}
	for (int a = 0; a < NADDR; a++) {
		for (int p = 0; p < NPORT; p++) {
			struct sent *s = &sent[a][p];
			struct sockaddr_in from;
			ssize_t got;

			if (clients[a][p] < 0)
				continue;
			while ((got = recv(clients[a][p], buf, sizeof(buf), 0)) >= 0) {
				sin_make(&from, a, PORTS[p]);
				if (port_dropped(cfg, PORTS[p]) ||
				    !acl_permits(&listener.acl, (struct sockaddr *)&from) ||
				    (cfg->limits.max_datagram > 0 &&
				    got > cfg->limits.max_datagram))
					abort();
				/* A subsequence of what was sent: skip the dropped ones. */
				while (s->next < s->n && !reply_matches(buf, got, s->seq[s->next],
				    s->len[s->next]))
					s->next++;
				if (s->next == s->n)
					abort();
				s->next++;
			}
		}
	}
	udp_watch_stop(&port, false);
	udp_worker_fini(&uw);
	listener_stats_release(ls);
	generation_free(gen);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct srclimit_conf conf;
	struct config_errors errs = { 0 };
	struct echod_config cfg;
	struct guard_policy *policy;
	struct guard g;
	size_t n;

	if (size < 8)
		return 0;
	if (loop == NULL)
		setup();
	config_from(data, &cfg);
	n = (size - 8) / 4;
	if (n > MAXREC)
		n = MAXREC;
	/* A small table: eviction and "table full" happen within one input. */
	guard_conf_limits(&cfg.limits, &conf);
	g.table = srclimit_new(16, &conf);
	policy = guard_conf_policy(&cfg);
	if (g.table == NULL || policy == NULL)
		abort();
	if (listener.proto == PROTO_STAMP && stamp_conf_prepare(&cfg, NULL, &errs) == -1)
		abort();
	if (data[0] & F_SOCKETS)
		batch(&g, &cfg, data + 8, n);
	else
		judge(&g, policy, &cfg, data + 8, n);
	guard_fini(&g);
	guard_policy_free(policy);
	stamp_conf_release(&listener.stamp);
	acl_free(&listener.acl);
	free(cfg.exempt);
	free(cfg.drop_ports);
	return 0;
}
