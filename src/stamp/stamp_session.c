/* SPDX-License-Identifier: MIT */
/* stamp_session: the stateful reflector's sessions in one fixed table that floods cannot grow. */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "addr.h"
#include "siphash.h"
#include "stamp.h"

#define GROUP		8		/* slots a session may take: its group */
#define CAPACITY_MAX	(1u << 24)
/*
 * A Session-Sender Sequence Number 0 on a live session starts a new run only
 * when it cannot be the first packet reordered or duplicated: the session has
 * already seen a sender sequence this high, or began this many seconds ago
 * (two, as now_s counts whole seconds).
 */
#define RESTART_SEQ	64
#define RESTART_AGE	2

/* A session: source address (IPv4 as IPv4-mapped IPv6), port and SSID. */
struct session_key {
	uint8_t	addr[16];
	uint16_t port;
	uint16_t ssid;
};

struct slot {
	struct session_key key;
	uint64_t last;		/* now_s of its latest packet */
	uint64_t started;	/* now_s of its first packet (of this run) */
	uint32_t rx, tx;
	uint32_t max_seq;	/* highest sender sequence number of this run */
	bool	used;
};

struct group {
	pthread_mutex_t lock;
	struct slot slot[GROUP];
	uint64_t created, evicted, refused;
	size_t	used;
};

struct stamp_sessions {
	atomic_int refs;	/* a reload hands the table to the new configuration */
	uint8_t	hashkey[SIPHASH_KEYLEN];
	uint32_t idle_s;
	size_t	ngroups;
	struct group *groups;
};

struct stamp_sessions *
stamp_sessions_new(size_t capacity, uint32_t idle_s)
{
	struct stamp_sessions *s;
	int saved;

	if (capacity == 0 || capacity > CAPACITY_MAX) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	atomic_init(&s->refs, 1);
	s->idle_s = idle_s;
	s->ngroups = (capacity + GROUP - 1) / GROUP;
	s->groups = calloc(s->ngroups, sizeof(*s->groups));
	if (s->groups == NULL)
		goto fail;
	if (getrandom(s->hashkey, sizeof(s->hashkey), 0) != (ssize_t)sizeof(s->hashkey))
		goto fail;
	for (size_t i = 0; i < s->ngroups; i++)
		pthread_mutex_init(&s->groups[i].lock, NULL);
	return s;
fail:
	saved = errno;
	free(s->groups);
	free(s);
	errno = saved;
	return NULL;
}

struct stamp_sessions *
stamp_sessions_ref(struct stamp_sessions *s)
{
	atomic_fetch_add(&s->refs, 1);
	return s;
}

void
stamp_sessions_free(struct stamp_sessions *s)
{
	if (s == NULL || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	for (size_t i = 0; i < s->ngroups; i++)
		pthread_mutex_destroy(&s->groups[i].lock);
	free(s->groups);
	free(s);
}

static int
key_make(const struct sockaddr *src, uint16_t ssid, struct session_key *k)
{
	memset(k, 0, sizeof(*k));
	k->ssid = ssid;
	if (addr_to_v6(src, k->addr) == -1) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	k->port = src->sa_family == AF_INET ?
	    ((const struct sockaddr_in *)(const void *)src)->sin_port :
	    ((const struct sockaddr_in6 *)(const void *)src)->sin6_port;
	return 0;
}

/*
 * The slot for k in g: its own, a free one, or the least recently used of
 * those idle for idle_s; NULL if every slot holds an active session. Only
 * idle sessions are evicted, so a flood of new (spoofed) sessions can refuse
 * newcomers for a while but never resets the sequence of a live session.
 */
static struct slot *
slot_find(struct stamp_sessions *s, struct group *g, const struct session_key *k,
    uint64_t now, bool *fresh)
{
	struct slot *free_slot = NULL, *victim = NULL;

	*fresh = false;
	for (int i = 0; i < GROUP; i++) {
		struct slot *sl = &g->slot[i];

		if (!sl->used) {
			if (free_slot == NULL)
				free_slot = sl;
		} else if (memcmp(&sl->key, k, sizeof(*k)) == 0) {
			return sl;
		} else if (now >= sl->last && now - sl->last >= s->idle_s &&
		    (victim == NULL || sl->last < victim->last)) {
			victim = sl;
		}
	}
	if (free_slot == NULL && victim == NULL)
		return NULL;
	*fresh = true;
	if (free_slot != NULL) {
		g->used++;
		return free_slot;
	}
	g->evicted++;
	return victim;
}

static void
slot_start(struct slot *sl, const struct session_key *k, uint64_t now_s)
{
	memset(sl, 0, sizeof(*sl));
	sl->key = *k;
	sl->used = true;
	sl->started = now_s;
}

/*
 * RFC 8762 4.3.1: the reflector's count starts at zero for each test
 * session. A sender that runs again from the same address, port and SSID
 * is a new session when the old one timed out (idle_s without a packet) or
 * when it starts its own sequence at 0 again; a 0 that may be the first
 * packet late or twice (RESTART_SEQ, RESTART_AGE) does not restart it.
 */
static bool
run_ended(const struct stamp_sessions *s, const struct slot *sl, uint32_t sender_seq,
    uint64_t now_s)
{
	if (now_s >= sl->last && now_s - sl->last >= s->idle_s)
		return true;
	return sender_seq == 0 && (sl->max_seq >= RESTART_SEQ ||
	    (now_s >= sl->started && now_s - sl->started >= RESTART_AGE));
}

int
stamp_sessions_count(struct stamp_sessions *s, const struct sockaddr *src, uint16_t ssid,
    uint32_t sender_seq, uint64_t now_s, struct stamp_session_view *v)
{
	struct session_key k;
	struct group *g;
	struct slot *sl;
	bool fresh;

	if (key_make(src, ssid, &k) == -1)
		return -1;
	g = &s->groups[siphash24(s->hashkey, &k, sizeof(k)) % s->ngroups];
	pthread_mutex_lock(&g->lock);
	sl = slot_find(s, g, &k, now_s, &fresh);
	if (sl == NULL) {
		g->refused++;
		pthread_mutex_unlock(&g->lock);
		errno = ENOSPC;
		return -1;
	}
	v->restarted = false;
	if (fresh) {
		slot_start(sl, &k, now_s);
		g->created++;
	} else if (run_ended(s, sl, sender_seq, now_s)) {
		slot_start(sl, &k, now_s);
		v->restarted = true;
	}
	if (sender_seq > sl->max_seq)
		sl->max_seq = sender_seq;
	/* RFC 8762 4.3.1: the reflector's Sequence Number counts the packets it received. */
	v->seq = sl->rx;
	v->rx = ++sl->rx;
	v->tx = ++sl->tx;
	sl->last = now_s;
	pthread_mutex_unlock(&g->lock);
	return 0;
}

void
stamp_sessions_stats(struct stamp_sessions *s, struct stamp_sessions_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->capacity = s->ngroups * GROUP;
	for (size_t i = 0; i < s->ngroups; i++) {
		struct group *g = &s->groups[i];

		pthread_mutex_lock(&g->lock);
		st->created += g->created;
		st->evicted += g->evicted;
		st->refused += g->refused;
		st->entries += g->used;
		pthread_mutex_unlock(&g->lock);
	}
}
