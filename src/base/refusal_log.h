/* SPDX-License-Identifier: MIT */
/* refusal_log: logs refused clients once per source and reason, then a summary a minute. */
#ifndef ECHOD_REFUSAL_LOG_H
#define ECHOD_REFUSAL_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Why a client was refused; refusal_reason_name() is the ECHOD_LIMIT value and metric label. */
enum refusal_reason {
	REFUSAL_ACL,			/* "acl": allow/deny */
	REFUSAL_SOURCE_CONNECTIONS,	/* "source_connections": max_connections_per_source */
	REFUSAL_CONNECTION_RATE,	/* "connection_rate" */
	REFUSAL_DATAGRAM_RATE,		/* "datagram_rate": udp_rate */
	REFUSAL_REPLY_BYTES,		/* "reply_bytes": udp_max_reply_bytes_per_second */
	REFUSAL_SOURCE_PORT,		/* "source_port": udp_min_source_port and the drop list */
	REFUSAL_OVERSIZE,		/* "oversize": max_datagram */
	REFUSAL_MAX_CONNECTIONS,	/* "max_connections" */
	REFUSAL_MAX_BUFFERED,		/* "max_buffered": max_buffered_bytes */
	REFUSAL_UNLISTED,		/* "unlisted": to a local address no listener lists */
	REFUSAL_COUNT
};

/* Window after a source's first logged refusal for a reason; one summary per window. */
#define REFUSAL_WINDOW_MS 60000

/* Stable lowercase names ([a-z_]); "unknown" out of range. */
const char *refusal_reason_name(enum refusal_reason why);

/*
 * A source is an address (an IPv4-mapped IPv6 peer is its IPv4 address; the
 * port is not part of it); every non-IP peer (AF_UNIX, NULL) is one source,
 * "local". Lines, all at LOG_NOTICE but the last:
 *
 *  - first refusal of (source, reason), logged when the control thread takes
 *    it from the queue (refusal_log_drain()): ECHOD_PEER (the peer
 *    with its port, an IPv4-mapped one as IPv4: "192.0.2.1:7"), ECHOD_SOURCE, ECHOD_LIMIT (reason name), ECHOD_LISTENER,
 *    ECHOD_REFUSALS=1; MESSAGE_ID=ECHOD_MSGID_REFUSED. Later refusals of the
 *    pair are counted, not logged.
 *  - summary, by refusal_log_tick() when REFUSAL_WINDOW_MS have passed and
 *    some were counted: ECHOD_PEER and ECHOD_SOURCE (the address), ECHOD_LIMIT,
 *    ECHOD_LISTENER (of the first refusal), ECHOD_REFUSALS=N;
 *    ECHOD_MSGID_REFUSED_SUMMARY. A new window starts: a source refused
 *    without pause gets one summary a minute. A window that counted nothing
 *    ends the pair: its next refusal is a "first" again.
 *  - LOG_WARNING, by refusal_log_tick(): ECHOD_REFUSALS=N refusals no line
 *    above told about; ECHOD_MSGID_REFUSALS_UNLOGGED.
 *
 * Bounds against a spoofed flood: first and summary lines share a budget of
 * max_lines_per_second (by the control thread's now_ms / 1000); a refusal
 * that finds the budget spent, or no free slot in the fixed table, or no room
 * in the queue, is only counted, and the next tick's warning says how many.
 * So at most max_lines_per_second + 1 lines a second when ticked once a
 * second, and every refusal is told about exactly once: in a first line, a
 * summary, or a warning. Pending summaries, and records still queued, are
 * lost at refusal_log_free().
 *
 * Threads: workers only queue. refusal_log_note() copies the refusal into a
 * fixed-size record (the peer's address as 16 octets, its family and port,
 * the reason, the listener's name copied, so that a reload freeing the
 * listener cannot leave it dangling, and now_ms) and pushes it on a bounded
 * lock-free multi-producer single-consumer ring of REFUSAL_QUEUE_LEN records
 * (mpsc_ring.h); a full ring counts it as unlogged. The consumer, the
 * control thread, does all the table work and writes every line, in
 * refusal_log_drain() and refusal_log_tick(). It is woken through an
 * eventfd written at most once per re-arm; it re-arms no more often than
 * every REFUSAL_WAKE_MS, so a flood costs the workers about one write(2) per
 * period, not one per refusal, and first lines come within REFUSAL_WAKE_MS
 * (at worst with the next tick).
 */
#define REFUSAL_QUEUE_LEN	1024
#define REFUSAL_WAKE_MS		100

struct refusal_log;

/*
 * The table holds capacity (rounded up to a multiple of 8) (source, reason)
 * pairs and a queue of REFUSAL_QUEUE_LEN records, allocated here once, and
 * an eventfd: noting allocates nothing. The hash key comes from getrandom(2).
 * Returns NULL with errno EINVAL (capacity 0 or over 16777216,
 * max_lines_per_second 0), ENOMEM, or eventfd()'s or getrandom()'s errno.
 */
struct refusal_log *refusal_log_new(size_t capacity, unsigned max_lines_per_second);
void	refusal_log_free(struct refusal_log *rl);

/*
 * Any thread, any time (the workers). listener_name is copied (truncated to
 * 63 bytes); it may be NULL. now_ms: CLOCK_MONOTONIC in milliseconds. Never
 * blocks, never allocates, writes no line: it queues a record for the
 * consumer, or counts the refusal for the next warning when the queue is
 * full (a worker must never wait on logging).
 */
void	refusal_log_note(struct refusal_log *rl, const struct sockaddr *peer,
	    enum refusal_reason why, const char *listener_name, uint64_t now_ms);

/*
 * The consumer's side: one thread at a time (the control thread), never two
 * at once. refusal_log_wake_fd() is readable when records were queued since
 * the wake-up was last re-armed: watch it and call refusal_log_drain(), which
 * takes the queued records (first lines, counts for summaries) and re-arms
 * when REFUSAL_WAKE_MS have passed since the last re-arm;
 * refusal_log_next_ms() is when to call it again to re-arm (UINT64_MAX: no
 * need).
 */
int	refusal_log_wake_fd(const struct refusal_log *rl);
void	refusal_log_drain(struct refusal_log *rl, uint64_t now_ms);
uint64_t refusal_log_next_ms(const struct refusal_log *rl);

/* The consumer, about once a second: drains, due summaries, then the warning if any. */
void	refusal_log_tick(struct refusal_log *rl, uint64_t now_ms);

/*
 * Where lines go: by default log_struct(priority, message_id, fields, "%s",
 * message). A seam for tests (the stderr back end prints no fields); called
 * by the consumer only. Set it before any note.
 */
typedef void refusal_log_emit_fn(void *arg, int priority, const char *message_id,
	    const char *const *fields, const char *message);
void	refusal_log_set_emit(struct refusal_log *rl, refusal_log_emit_fn *emit, void *arg);

#endif
