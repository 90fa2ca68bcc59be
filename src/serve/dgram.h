/* SPDX-License-Identifier: MIT */
/* dgram: what the datagram data plane calls for a served datagram; knows no protocol. */
#ifndef ECHOD_DGRAM_H
#define ECHOD_DGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "acl.h"
#include "srclimit.h"
#include "stats.h"

/* One datagram as received, for a handler's reply(). */
struct dgram_in {
	struct msghdr *msg;		/* its peer and control messages */
	uint64_t now_ms;		/* the loop's monotonic clock */
	struct echo_stats *stats[2];	/* the worker's totals, the listener's slot */
};

/*
 * What a handler leaves with one reply for just before it is sent (a STAMP
 * reply's T3 and HMAC). before_send NULL: nothing. scratch is the handler's.
 */
struct dgram_pending {
	void (*before_send)(struct dgram_pending *p);
	union {
		max_align_t align;
		unsigned char buf[64];
	} scratch;
};

/*
 * Turn the datagram pkt[0 .. *len) into its reply in place; pkt has room for
 * at least 65536 octets. *len: the reply's length. *dscp: the reply's DSCP
 * (-1: the socket's default); set it. p->before_send is NULL on entry.
 * False: dropped (the handler counts why; the caller counts the drop).
 */
typedef bool dgram_reply_fn(const void *ctx, const struct dgram_in *in, uint8_t *pkt,
    size_t *len, int *dscp, struct dgram_pending *p);

/*
 * A served listener's datagram rules and reply, built once with its view
 * (immutable; pointers into the configuration live as long as it).
 */
struct dgram_handler {
	dgram_reply_fn *reply;		/* NULL: the datagram back as it came, DSCP default */
	const void *ctx;		/* reply's */
	const struct acl *acl;		/* who may be answered (NULL: everyone) */
	uint16_t min_source_port;	/* lower source ports are not answered */
	enum srclimit_class limit;	/* the per-source buckets its replies are charged to */
	size_t min_charge;		/* a reply is charged at least this many octets */
};

#endif
