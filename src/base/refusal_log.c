/* SPDX-License-Identifier: MIT */
/* refusal_log: a fixed table of (source, reason) windows, a line budget, a count of the rest. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "mpsc_ring.h"
#include "refusal_log.h"
#include "siphash.h"

#define GROUP_SLOTS	8		/* a pair probes one group of this many slots */
#define LISTENER_LEN	64
#define MAX_CAPACITY	(1UL << 24)
#define MAX_LINES	1000000U

enum slot_kind { SLOT_FREE, SLOT_IP, SLOT_LOCAL };

struct slot {
	uint8_t addr[16];		/* IPv6, or IPv4 as ::ffff:a.b.c.d; zero for local */
	uint8_t kind;			/* enum slot_kind */
	uint8_t reason;			/* enum refusal_reason */
	uint64_t window_end;		/* ms: the summary is due from here */
	uint64_t counted;		/* refusals since the last line */
	char listener[LISTENER_LEN];	/* of the window's first refusal */
};

/*
 * What a worker hands the control thread: fixed size, no pointer, so that it
 * outlives everything it was made from (a reload may free the listener, and
 * its name, before the record is read).
 */
struct record {
	uint8_t addr[16];		/* as in struct slot */
	uint64_t now_ms;		/* when refused */
	uint16_t port;			/* the peer's, host order */
	uint8_t family;			/* AF_INET, AF_INET6; AF_UNSPEC: not IP, "local" */
	uint8_t reason;			/* enum refusal_reason */
	char listener[LISTENER_LEN];	/* truncated, NUL-terminated */
};

struct refusal_log {
	/* Workers' side: the queue, the count of refusals it had no room for, the wake-up. */
	struct mpsc_ring *queue;
	_Atomic uint64_t unlogged;	/* refusals no line told about yet: the next tick's */
	_Atomic bool wake_sent;		/* the eventfd was written since the last re-arm */
	int wakefd;
	/* Everything below: the consumer (the control thread) only. */
	uint64_t rearm_ms;		/* wake_sent is cleared no earlier than this */
	struct slot *slots;
	size_t ngroups;
	unsigned max_lines;
	uint64_t budget_sec;		/* the second lines are counted in */
	unsigned budget_used;		/* and how many were written in it */
	refusal_log_emit_fn *emit;
	void *emit_arg;
	uint8_t hashkey[SIPHASH_KEYLEN];
};

/* What a line needs, copied out of the table. */
struct line {
	uint8_t addr[16];
	uint8_t kind, reason;
	uint64_t count;
	char listener[LISTENER_LEN];
};

static const char *const reason_names[REFUSAL_COUNT] = {
	[REFUSAL_ACL] = "acl",
	[REFUSAL_SOURCE_CONNECTIONS] = "source_connections",
	[REFUSAL_CONNECTION_RATE] = "connection_rate",
	[REFUSAL_DATAGRAM_RATE] = "datagram_rate",
	[REFUSAL_REPLY_BYTES] = "reply_bytes",
	[REFUSAL_SOURCE_PORT] = "source_port",
	[REFUSAL_OVERSIZE] = "oversize",
	[REFUSAL_MAX_CONNECTIONS] = "max_connections",
	[REFUSAL_MAX_BUFFERED] = "max_buffered",
	[REFUSAL_UNLISTED] = "unlisted",
};

const char *
refusal_reason_name(enum refusal_reason why)
{
	if ((unsigned)why >= REFUSAL_COUNT)
		return "unknown";
	return reason_names[why];
}

static void
default_emit(void *arg, int priority, const char *message_id, const char *const *fields,
    const char *message)
{
	log_struct(priority, message_id, fields, "%s", message);
}

struct refusal_log *
refusal_log_new(size_t capacity, unsigned max_lines_per_second)
{
	struct refusal_log *rl;

	if (capacity == 0 || capacity > MAX_CAPACITY || max_lines_per_second == 0 ||
	    max_lines_per_second > MAX_LINES) {
		errno = EINVAL;
		return NULL;
	}
	rl = calloc(1, sizeof(*rl));
	if (rl == NULL)
		return NULL;
	rl->wakefd = -1;
	rl->ngroups = (capacity + GROUP_SLOTS - 1) / GROUP_SLOTS;
	rl->slots = calloc(rl->ngroups * GROUP_SLOTS, sizeof(*rl->slots));
	if (rl->slots == NULL)
		goto fail;
	rl->queue = mpsc_ring_new(REFUSAL_QUEUE_LEN, sizeof(struct record));
	if (rl->queue == NULL)
		goto fail;
	rl->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (rl->wakefd == -1)
		goto fail;
	if (getrandom(rl->hashkey, sizeof(rl->hashkey), 0) != (ssize_t)sizeof(rl->hashkey))
		goto fail;
	rl->max_lines = max_lines_per_second;
	rl->emit = default_emit;
	return rl;
fail:
	refusal_log_free(rl);
	return NULL;
}

void
refusal_log_free(struct refusal_log *rl)
{
	int saved = errno;

	if (rl == NULL)
		return;
	if (rl->wakefd != -1)
		close(rl->wakefd);
	mpsc_ring_free(rl->queue);
	free(rl->slots);
	free(rl);
	errno = saved;
}

void
refusal_log_set_emit(struct refusal_log *rl, refusal_log_emit_fn *emit, void *arg)
{
	rl->emit = emit != NULL ? emit : default_emit;
	rl->emit_arg = arg;
}

int
refusal_log_wake_fd(const struct refusal_log *rl)
{
	return rl->wakefd;
}

/* One line of this second's allowance (by the consumer's clock), or false when it is spent. */
static bool
line_take(struct refusal_log *rl, uint64_t now_ms)
{
	uint64_t sec = now_ms / 1000;

	if (sec > rl->budget_sec) {
		rl->budget_sec = sec;
		rl->budget_used = 0;
	}
	if (rl->budget_used >= rl->max_lines)
		return false;
	rl->budget_used++;
	return true;
}

static void
source_format(const uint8_t addr[16], uint8_t kind, char *buf, size_t size)
{
	if (kind != SLOT_IP)
		snprintf(buf, size, "local");
	else if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(const void *)addr))
		inet_ntop(AF_INET, addr + 12, buf, (socklen_t)size);
	else
		inet_ntop(AF_INET6, addr, buf, (socklen_t)size);
}

/*
 * The peer with its port: "192.0.2.1:7", "[2001:db8::1]:7", "local". An
 * IPv4-mapped peer (an IPv4 client of a dual-stack socket) is written as
 * IPv4, as its source is: one client, one form in every line.
 */
static void
peer_format(const struct record *rec, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	if (rec->family == AF_INET ||
	    IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(const void *)rec->addr)) {
		inet_ntop(AF_INET, rec->addr + 12, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, rec->port);
	} else if (rec->family == AF_INET6) {
		inet_ntop(AF_INET6, rec->addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, rec->port);
	} else {
		snprintf(buf, size, "local");
	}
}

static struct slot *
slot_find(struct slot *group, const uint8_t addr[16], uint8_t kind, uint8_t reason)
{
	for (int i = 0; i < GROUP_SLOTS; i++) {
		struct slot *s = &group[i];

		if (s->kind == kind && s->reason == reason && memcmp(s->addr, addr, 16) == 0)
			return s;
	}
	return NULL;
}

/* A free slot, or one whose window ended with nothing counted (the tick has not freed it yet). */
static struct slot *
slot_take(struct slot *group, uint64_t now_ms)
{
	for (int i = 0; i < GROUP_SLOTS; i++) {
		struct slot *s = &group[i];

		if (s->kind == SLOT_FREE || (now_ms >= s->window_end && s->counted == 0))
			return s;
	}
	return NULL;
}

static void
emit_line(struct refusal_log *rl, const struct line *l, const char *peer, bool first)
{
	char f_peer[ADDR_STRLEN + 16], f_source[INET6_ADDRSTRLEN + 16], f_limit[48];
	char f_listener[LISTENER_LEN + 16], f_count[48], source[INET6_ADDRSTRLEN], msg[512];
	const char *fields[] = { f_peer, f_source, f_limit, f_listener, f_count, NULL };
	const char *why = refusal_reason_name((enum refusal_reason)l->reason);

	source_format(l->addr, l->kind, source, sizeof(source));
	snprintf(f_peer, sizeof(f_peer), "ECHOD_PEER=%s", first ? peer : source);
	snprintf(f_source, sizeof(f_source), "ECHOD_SOURCE=%s", source);
	snprintf(f_limit, sizeof(f_limit), "ECHOD_LIMIT=%s", why);
	snprintf(f_listener, sizeof(f_listener), "ECHOD_LISTENER=%s", l->listener);
	snprintf(f_count, sizeof(f_count), "ECHOD_REFUSALS=%" PRIu64, l->count);
	if (first)
		snprintf(msg, sizeof(msg), "refused %s on %s: %s (more refusals of %s for this "
		    "reason: one summary a minute)", peer, l->listener, why, source);
	else
		snprintf(msg, sizeof(msg), "refused %s %" PRIu64 " more time%s on %s: %s",
		    source, l->count, l->count == 1 ? "" : "s", l->listener, why);
	rl->emit(rl->emit_arg, LOG_NOTICE, first ? ECHOD_MSGID_REFUSED :
	    ECHOD_MSGID_REFUSED_SUMMARY, fields, msg);
}

static void
record_fill(struct record *rec, const struct sockaddr *peer, enum refusal_reason why,
    const char *listener_name, uint64_t now_ms)
{
	size_t n;

	memset(rec, 0, sizeof(*rec));
	rec->now_ms = now_ms;
	rec->reason = (uint8_t)why;
	/* Not IP (a Unix peer, or none known): all zero, one "local" source. */
	if (peer != NULL && addr_to_v6(peer, rec->addr) == 0) {
		rec->family = (uint8_t)peer->sa_family;
		rec->port = peer->sa_family == AF_INET ?
		    ntohs(((const struct sockaddr_in *)(const void *)peer)->sin_port) :
		    ntohs(((const struct sockaddr_in6 *)(const void *)peer)->sin6_port);
	} else {
		memset(rec->addr, 0, sizeof(rec->addr));
	}
	if (listener_name == NULL)
		listener_name = "(unknown)";
	n = strnlen(listener_name, LISTENER_LEN - 1);
	memcpy(rec->listener, listener_name, n);
}

/*
 * The hot path, called by workers in a flood: fill a record on the stack,
 * push it (a compare-and-swap), and at most once per re-arm a write to the
 * eventfd. No lock, no allocation, no line written here: a worker must never
 * wait on logging. No room in the queue: counted for the next warning.
 */
void
refusal_log_note(struct refusal_log *rl, const struct sockaddr *peer, enum refusal_reason why,
    const char *listener_name, uint64_t now_ms)
{
	struct record rec;

	if ((unsigned)why >= REFUSAL_COUNT)
		return;
	/* Nothing would be written: not worth a record. */
	if (rl->emit == default_emit && !log_enabled(LOG_NOTICE))
		return;
	record_fill(&rec, peer, why, listener_name, now_ms);
	if (!mpsc_ring_push(rl->queue, &rec)) {
		atomic_fetch_add_explicit(&rl->unlogged, 1, memory_order_relaxed);
		return;
	}
	/*
	 * Pairs with the fence in refusal_log_drain(): either this thread sees
	 * wake_sent cleared and wakes the consumer, or the consumer, having
	 * cleared it, sees this record. The plain load first keeps a flood off
	 * the flag's cache line once it is set.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	if (!atomic_load_explicit(&rl->wake_sent, memory_order_relaxed) &&
	    !atomic_exchange(&rl->wake_sent, true))
		(void)eventfd_write(rl->wakefd, 1);
}

/* The table work for one record: its first line, or one more counted for its summary. */
static void
record_take(struct refusal_log *rl, const struct record *rec, uint64_t now_ms)
{
	uint8_t key[18], kind = rec->family != AF_UNSPEC ? SLOT_IP : SLOT_LOCAL;
	struct slot *group, *s;
	char text[ADDR_STRLEN];
	struct line l;

	memcpy(key, rec->addr, 16);
	key[16] = kind;
	key[17] = rec->reason;
	group = &rl->slots[(size_t)(siphash24(rl->hashkey, key, sizeof(key)) % rl->ngroups) *
	    GROUP_SLOTS];
	s = slot_find(group, rec->addr, kind, rec->reason);
	if (s != NULL && (s->counted > 0 || rec->now_ms < s->window_end)) {
		s->counted++;
		return;
	}
	if (s == NULL)
		s = slot_take(group, rec->now_ms);
	/* No line, no slot: the next refusal of this pair tries for a first line again. */
	if (s == NULL || !line_take(rl, now_ms)) {
		atomic_fetch_add_explicit(&rl->unlogged, 1, memory_order_relaxed);
		return;
	}
	memcpy(s->addr, rec->addr, 16);
	s->kind = kind;
	s->reason = rec->reason;
	s->window_end = rec->now_ms + REFUSAL_WINDOW_MS;
	s->counted = 0;
	memcpy(s->listener, rec->listener, sizeof(s->listener));
	l = (struct line){ .kind = s->kind, .reason = s->reason, .count = 1 };
	memcpy(l.addr, s->addr, 16);
	memcpy(l.listener, s->listener, sizeof(l.listener));
	peer_format(rec, text, sizeof(text));
	emit_line(rl, &l, text, true);
}

void
refusal_log_drain(struct refusal_log *rl, uint64_t now_ms)
{
	size_t max = mpsc_ring_capacity(rl->queue);
	struct record rec;
	eventfd_t v;

	(void)eventfd_read(rl->wakefd, &v);
	/*
	 * Re-arm the wake-up at most once per REFUSAL_WAKE_MS: in a flood the
	 * workers write the eventfd about once per period, not once per refusal.
	 */
	if (atomic_load_explicit(&rl->wake_sent, memory_order_relaxed) && now_ms >= rl->rearm_ms) {
		atomic_store(&rl->wake_sent, false);
		atomic_thread_fence(memory_order_seq_cst);
		rl->rearm_ms = now_ms + REFUSAL_WAKE_MS;
	}
	/* At most one queue's worth: producers refilling it cannot keep this thread here. */
	for (size_t i = 0; i < max && mpsc_ring_pop(rl->queue, &rec); i++)
		record_take(rl, &rec, now_ms);
}

uint64_t
refusal_log_next_ms(const struct refusal_log *rl)
{
	return atomic_load_explicit(&rl->wake_sent, memory_order_relaxed) ? rl->rearm_ms :
	    UINT64_MAX;
}

/* End the due windows of one group, writing their summaries. */
static void
group_expire(struct refusal_log *rl, struct slot *group, uint64_t now_ms)
{
	for (int i = 0; i < GROUP_SLOTS; i++) {
		struct slot *s = &group[i];

		if (s->kind == SLOT_FREE || now_ms < s->window_end)
			continue;
		if (s->counted == 0) {
			s->kind = SLOT_FREE;
			continue;
		}
		if (line_take(rl, now_ms)) {
			struct line l = { .kind = s->kind, .reason = s->reason,
			    .count = s->counted };

			memcpy(l.addr, s->addr, 16);
			memcpy(l.listener, s->listener, sizeof(l.listener));
			emit_line(rl, &l, NULL, false);
		} else {
			atomic_fetch_add_explicit(&rl->unlogged, s->counted, memory_order_relaxed);
		}
		/* Still refused: the next window counts on, the next summary in a minute. */
		s->counted = 0;
		s->window_end = now_ms + REFUSAL_WINDOW_MS;
	}
}

/*
 * Drains the queue, then walks the whole table: for the default capacities a
 * few thousand slots a second, nothing next to echoing.
 */
void
refusal_log_tick(struct refusal_log *rl, uint64_t now_ms)
{
	uint64_t n;

	refusal_log_drain(rl, now_ms);
	for (size_t g = 0; g < rl->ngroups; g++)
		group_expire(rl, &rl->slots[g * GROUP_SLOTS], now_ms);
	n = atomic_exchange(&rl->unlogged, 0);
	if (n > 0) {
		char f_count[48], msg[256];
		const char *fields[] = { f_count, NULL };

		snprintf(f_count, sizeof(f_count), "ECHOD_REFUSALS=%" PRIu64, n);
		snprintf(msg, sizeof(msg), "%" PRIu64 " refusal%s not logged: over %u line%s a "
		    "second, too many sources at once, or the queue full", n, n == 1 ? "" : "s",
		    rl->max_lines, rl->max_lines == 1 ? "" : "s");
		rl->emit(rl->emit_arg, LOG_WARNING, ECHOD_MSGID_REFUSALS_UNLOGGED, fields, msg);
	}
}
