/* SPDX-License-Identifier: MIT */
/* The probe engine's insides, shared by its files (not for its callers). */
#ifndef ECHOD_PROBE_INT_H
#define ECHOD_PROBE_INT_H

#include <netinet/in.h>

#include "probe.h"
#include "probe_loss.h"
#include "probe_stamp.h"

/* Targets by address in a chained hash table: a reply's source finds its target(s). */
#define PROBE_HASH	256
/* Seconds between readings of the clock's state (adjtimex()): synchronisation comes and
 * goes slowly, and a long-running engine must notice. */
#define PROBE_CLOCK_S	64.0
/* The UDP echo probe's header: magic, target id, sequence number (network order). */
#define PROBE_UDP_MAGIC	0x45505231u	/* "EPR1" */
#define PROBE_UDP_HDR	12
/* The largest datagram read. */
#define PROBE_BUF	65536

struct probe_slot {
	uint32_t seq;
	bool	used, pending, answered;
	double	sent;		/* probe_now() */
	uint64_t sent_ns;	/* CLOCK_REALTIME ns: STAMP's T1 */
};

struct probe_target {
	char	*name;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct probe_target_conf c;	/* addr, name and key point into this target */
	struct stamp_key key;
	struct stamp_send send;		/* STAMP: what every test packet carries */
	uint32_t id;			/* UDP echo: in every probe's header */
	uint32_t seq;			/* the next probe's number, from 0 as on the wire */
	struct probe_slot slot[PROBE_WINDOW];	/* by seq % PROBE_WINDOW */
	double	next_send;		/* INFINITY once count is sent */
	double	key_at;			/* when it is next due: its place in the heap */
	size_t	heap_at;
	struct probe_target *hnext;	/* hash chain */
	struct probe_figures f;		/* counters and histograms; the rest filled on read */
	struct stamp_stats ss;		/* STAMP: loss per direction, from the reflector */
	struct probe_recent recent;
	double	last_mono;		/* probe_now() of the last reply */
	int	fd;			/* the engine's socket it sends on; TCP: its own, or -1 */
	/* TCP: the connection's state and the probes' bytes in and out (probe_tcp.c). */
	bool	connecting;
	uint8_t	*wbuf, *rbuf;		/* PROBE_TCP_QUEUE probes out; one echo in */
	size_t	wlen, woff, roff;
};

/* TCP: probes queued to write at most; one that does not fit is not sent (and lost). */
#define PROBE_TCP_QUEUE	4

struct probe_engine {
	int	fd[2][2];		/* [inet, inet6][stamp, udp]; -1: not open */
	struct probe_target **heap;	/* min-heap by key_at */
	size_t	nheap, capheap;
	struct probe_target *hash[PROBE_HASH];
	uint32_t next_id;
	unsigned long long unmatched;	/* datagrams for no target */
	struct stamp_clock clock;	/* the sender's clock state: the S bit */
	double	clock_at;		/* probe_now() when it was read */
	uint8_t	buf[PROBE_BUF];
};

/* probe_heap.c: targets by when they are next due. */
int	probe_heap_push(struct probe_engine *e, struct probe_target *t);
void	probe_heap_remove(struct probe_engine *e, struct probe_target *t);
/* t->key_at changed: move it to its place. */
void	probe_heap_fix(struct probe_engine *e, struct probe_target *t);

/* probe_match.c: the target table. */
void	probe_match_insert(struct probe_engine *e, struct probe_target *t);
void	probe_match_remove(struct probe_engine *e, struct probe_target *t);
/* The target a reply from addr is for: proto and, STAMP, ssid; UDP, the id. NULL: none. */
struct probe_target *probe_match(const struct probe_engine *e, const struct sockaddr *addr,
	    enum probe_proto proto, uint32_t ssid_or_id);
/* Any target of that address and protocol (a reply whose SSID cannot be read). */
struct probe_target *probe_match_any(const struct probe_engine *e, const struct sockaddr *addr,
	    enum probe_proto proto);

/* probe_socket.c: the engine's socket for family and proto, opened on first use. */
int	probe_socket(struct probe_engine *e, int family, enum probe_proto proto);

/* probe_send.c: send t's next probe at now. */
void	probe_send(struct probe_engine *e, struct probe_target *t, double now);
/* Probes of t unanswered past their timeout at now: lost. */
void	probe_expire(struct probe_target *t, double now);

/* probe_recv.c: every datagram queued on the shared socket fd. */
void	probe_recv_dgram(struct probe_engine *e, int fd, double now);

/* probe_tcp.c: TCP targets, a connection each. */
int	probe_tcp_init(struct probe_target *t);
void	probe_tcp_free(struct probe_target *t);
/* Queue probe payload buf and write what the connection takes, connecting first. */
void	probe_tcp_send(struct probe_target *t, const uint8_t *buf);
void	probe_tcp_ready(struct probe_target *t, short revents, double now);
/* The probe header in buf (size bytes, an echo, magic and target id checked): counted. */
void	probe_reply_header(struct probe_target *t, const uint8_t *buf, size_t n, int tos,
	    double now);

/* probe_figures.c: the loss split by direction again, after a probe lost or answered. */
void	probe_figures_split(struct probe_target *t);

/* probe_reply.c: a reply of n bytes in e->buf from addr, with tos (-1 unknown). */
void	probe_reply(struct probe_engine *e, enum probe_proto proto, size_t n,
	    const struct sockaddr *addr, int tos, double now);

#endif
