/* SPDX-License-Identifier: MIT */
/* refusal_log: a fixed table of (source, reason) windows, a line budget, a count of the rest. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "addr.h"
#include "log.h"
#include "refusal_log.h"
#include "siphash.h"

#define GROUP_SLOTS	8		/* a pair probes one group of this many slots */
#define NSTRIPES	64		/* locks; group g is guarded by stripe g % NSTRIPES */
#define LISTENER_LEN	64
#define MAX_CAPACITY	(1UL << 24)
#define MAX_LINES	1000000U	/* fits BUDGET_MASK */
#define BUDGET_SHIFT	21
#define BUDGET_MASK	((UINT64_C(1) << BUDGET_SHIFT) - 1)

enum slot_kind { SLOT_FREE, SLOT_IP, SLOT_LOCAL };

struct slot {
	uint8_t addr[16];		/* IPv6, or IPv4 as ::ffff:a.b.c.d; zero for local */
	uint8_t kind;			/* enum slot_kind */
	uint8_t reason;			/* enum refusal_reason */
	uint64_t window_end;		/* ms: the summary is due from here */
	uint64_t counted;		/* refusals since the last line */
	char listener[LISTENER_LEN];	/* of the window's first refusal */
};

struct refusal_log {
	struct slot *slots;
	size_t ngroups;
	unsigned max_lines;
	/* (second << BUDGET_SHIFT) | lines used in it: one word, so taking is one CAS. */
	_Atomic uint64_t budget;
	/* Refusals no line told about yet: reported by the next tick. */
	_Atomic uint64_t unlogged;
	refusal_log_emit_fn *emit;
	void *emit_arg;
	uint8_t hashkey[SIPHASH_KEYLEN];
	pthread_mutex_t stripes[NSTRIPES];
};

/* What a line needs, copied out of the table so that it is written with no lock held. */
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
	rl->ngroups = (capacity + GROUP_SLOTS - 1) / GROUP_SLOTS;
	rl->slots = calloc(rl->ngroups * GROUP_SLOTS, sizeof(*rl->slots));
	if (rl->slots == NULL)
		goto fail;
	if (getrandom(rl->hashkey, sizeof(rl->hashkey), 0) != (ssize_t)sizeof(rl->hashkey))
		goto fail;
	rl->max_lines = max_lines_per_second;
	rl->emit = default_emit;
	for (size_t i = 0; i < NSTRIPES; i++)
		pthread_mutex_init(&rl->stripes[i], NULL);
	return rl;
fail:
	free(rl->slots);
	free(rl);
	return NULL;
}

void
refusal_log_free(struct refusal_log *rl)
{
	if (rl == NULL)
		return;
	for (size_t i = 0; i < NSTRIPES; i++)
		pthread_mutex_destroy(&rl->stripes[i]);
	free(rl->slots);
	free(rl);
}

void
refusal_log_set_emit(struct refusal_log *rl, refusal_log_emit_fn *emit, void *arg)
{
	rl->emit = emit != NULL ? emit : default_emit;
	rl->emit_arg = arg;
}

/* One line of this second's allowance, or false when it is spent. */
static bool
line_take(struct refusal_log *rl, uint64_t now_ms)
{
	uint64_t sec = now_ms / 1000, cur = atomic_load(&rl->budget), next;

	do {
		/* Threads may pass slightly older times: those spend the current second. */
		if (sec > cur >> BUDGET_SHIFT)
			next = sec << BUDGET_SHIFT | 1;
		else if ((cur & BUDGET_MASK) < rl->max_lines)
			next = cur + 1;
		else
			return false;
	} while (!atomic_compare_exchange_weak(&rl->budget, &cur, next));
	return true;
}

static void
source_key(const struct sockaddr *sa, uint8_t addr[16], uint8_t *kind)
{
	memset(addr, 0, 16);
	/* Not IP (a Unix peer, or none known): all zero, one "local" source. */
	*kind = sa != NULL && addr_to_v6(sa, addr) == 0 ? SLOT_IP : SLOT_LOCAL;
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

static void
peer_format(const struct sockaddr *sa, char *buf, size_t size)
{
	if (sa != NULL && sa->sa_family == AF_INET)
		addr_format(sa, sizeof(struct sockaddr_in), buf, size);
	else if (sa != NULL && sa->sa_family == AF_INET6)
		addr_format(sa, sizeof(struct sockaddr_in6), buf, size);
	else
		snprintf(buf, size, "local");
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

/*
 * The hot path, called by workers in a flood: a hash, a trylock and a scan of
 * 8 slots. trylock rather than lock: a worker waiting on another worker's
 * logging would slow echo traffic exactly when under attack; the critical
 * sections are a few dozen instructions, so a busy lock is rare, and what it
 * costs is one refusal told about by the next warning instead of its own line.
 */
void
refusal_log_note(struct refusal_log *rl, const struct sockaddr *peer, enum refusal_reason why,
    const char *listener_name, uint64_t now_ms)
{
	uint8_t key[18];
	struct slot *group, *s;
	pthread_mutex_t *mu;
	struct line l;
	size_t g;

	if ((unsigned)why >= REFUSAL_COUNT)
		return;
	/* Nothing would be written: skip the table, not worth a lock. */
	if (rl->emit == default_emit && !log_enabled(LOG_NOTICE))
		return;
	source_key(peer, key, &key[16]);
	key[17] = (uint8_t)why;
	g = (size_t)(siphash24(rl->hashkey, key, sizeof(key)) % rl->ngroups);
	group = &rl->slots[g * GROUP_SLOTS];
	mu = &rl->stripes[g % NSTRIPES];
	if (pthread_mutex_trylock(mu) != 0)
		goto unlogged;
	s = slot_find(group, key, key[16], key[17]);
	if (s != NULL && (s->counted > 0 || now_ms < s->window_end)) {
		s->counted++;
		pthread_mutex_unlock(mu);
		return;
	}
	if (s == NULL)
		s = slot_take(group, now_ms);
	/* No line, no slot: the next refusal of this pair tries for a first line again. */
	if (s == NULL || !line_take(rl, now_ms)) {
		pthread_mutex_unlock(mu);
		goto unlogged;
	}
	memcpy(s->addr, key, 16);
	s->kind = key[16];
	s->reason = key[17];
	s->window_end = now_ms + REFUSAL_WINDOW_MS;
	s->counted = 0;
	snprintf(s->listener, sizeof(s->listener), "%s",
	    listener_name != NULL ? listener_name : "(unknown)");
	l = (struct line){ .kind = s->kind, .reason = s->reason, .count = 1 };
	memcpy(l.addr, s->addr, 16);
	memcpy(l.listener, s->listener, sizeof(l.listener));
	pthread_mutex_unlock(mu);
	{
		char text[ADDR_STRLEN];

		peer_format(peer, text, sizeof(text));
		emit_line(rl, &l, text, true);
	}
	return;
unlogged:
	atomic_fetch_add_explicit(&rl->unlogged, 1, memory_order_relaxed);
}

/* End the due windows of one group; the summaries to write go to out. Returns how many. */
static int
group_expire(struct refusal_log *rl, struct slot *group, uint64_t now_ms,
    struct line out[GROUP_SLOTS])
{
	int n = 0;

	for (int i = 0; i < GROUP_SLOTS; i++) {
		struct slot *s = &group[i];

		if (s->kind == SLOT_FREE || now_ms < s->window_end)
			continue;
		if (s->counted == 0) {
			s->kind = SLOT_FREE;
			continue;
		}
		if (line_take(rl, now_ms)) {
			out[n] = (struct line){ .kind = s->kind, .reason = s->reason,
			    .count = s->counted };
			memcpy(out[n].addr, s->addr, 16);
			memcpy(out[n].listener, s->listener, sizeof(out[n].listener));
			n++;
		} else {
			atomic_fetch_add_explicit(&rl->unlogged, s->counted, memory_order_relaxed);
		}
		/* Still refused: the next window counts on, the next summary in a minute. */
		s->counted = 0;
		s->window_end = now_ms + REFUSAL_WINDOW_MS;
	}
	return n;
}

/*
 * Walks the whole table, a group at a time under its stripe's lock: for the
 * default capacities a few thousand slots a second, nothing next to echoing.
 */
void
refusal_log_tick(struct refusal_log *rl, uint64_t now_ms)
{
	struct line due[GROUP_SLOTS];
	uint64_t n;

	for (size_t g = 0; g < rl->ngroups; g++) {
		pthread_mutex_t *mu = &rl->stripes[g % NSTRIPES];
		int k;

		pthread_mutex_lock(mu);
		k = group_expire(rl, &rl->slots[g * GROUP_SLOTS], now_ms, due);
		pthread_mutex_unlock(mu);
		for (int i = 0; i < k; i++)
			emit_line(rl, &due[i], NULL, false);
	}
	n = atomic_exchange(&rl->unlogged, 0);
	if (n > 0) {
		char f_count[48], msg[256];
		const char *fields[] = { f_count, NULL };

		snprintf(f_count, sizeof(f_count), "ECHOD_REFUSALS=%" PRIu64, n);
		snprintf(msg, sizeof(msg), "%" PRIu64 " refusal%s not logged: over %u lines a "
		    "second, or too many sources at once", n, n == 1 ? "" : "s", rl->max_lines);
		rl->emit(rl->emit_arg, LOG_WARNING, ECHOD_MSGID_REFUSALS_UNLOGGED, fields, msg);
	}
}
