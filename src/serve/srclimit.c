/* SPDX-License-Identifier: MIT */
/* srclimit: per-source connection counts and token buckets in a fixed-size shared table. */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>

#include "addr.h"
#include "siphash.h"
#include "srclimit.h"

#define GROUP_SLOTS	8		/* a new source may evict only within its group */
#define MAX_STRIPES	256		/* locks: plenty for a few workers, 32 KiB */
#define MAX_CAPACITY	(1u << 24)
#define MILLI		1000		/* buckets count thousandths of a token: exact with ms */
#define MAX_ELAPSED_MS	UINT64_C(3600000) /* refill at most an hour: keeps dt * rate in range */

/*
 * Buckets store debt (tokens used and not yet refilled, in thousandths) rather
 * than tokens, so a zeroed entry is a new source with full buckets whatever
 * the limits are, and a reload that changes a burst needs no rescaling.
 */
struct entry {
	uint64_t key[2];		/* ::ffff:a.b.c.d, or the /64 followed by zeros */
	uint64_t last_ms;		/* last refill: also the LRU age */
	uint64_t conn_debt;
	uint64_t udp_debt;
	uint64_t byte_debt;
	uint32_t conns;
};

/* tag[] (0 = free) lets a lookup skip most slots without touching their cache lines. */
struct group {
	uint8_t tag[GROUP_SLOTS];
	struct entry e[GROUP_SLOTS];
} __attribute__((aligned(64)));

/* Counters live beside the lock that already serialises their updates. */
struct stripe {
	pthread_mutex_t mu;
	uint64_t refused[SRCLIMIT_NREASONS];
	uint64_t evicted;
	uint64_t unbalanced;
	uint64_t entries;
} __attribute__((aligned(64)));

struct srclimit {
	struct group *groups;
	size_t ngroups;
	struct stripe *stripes;
	size_t stripe_mask;
	uint8_t hashkey[SIPHASH_KEYLEN];
	/* Read without the lock on every call; a reload racing a packet sees old or new. */
	_Atomic uint32_t max_conns, conn_rate, udp_rate, byte_rate;
	_Atomic uint32_t stamp_rate, stamp_byte_rate;
};

struct slot {
	struct group *g;
	struct stripe *s;
	uint64_t key[2];
	uint8_t tag;
	enum srclimit_class cls;	/* whose rates repay its buckets */
};

static bool srclimit_locate_class(struct srclimit *sl, const struct sockaddr *sa,
    enum srclimit_class cls, struct slot *where);

/* Where does this peer's source live? false for non-IP peers, which are not limited. */
static bool
srclimit_locate(struct srclimit *sl, const struct sockaddr *sa, struct slot *where)
{
	return srclimit_locate_class(sl, sa, SRCLIMIT_ECHO, where);
}

/* One source's buckets: its key with the class folded in (STAMP's is another entry). */
static bool
srclimit_locate_class(struct srclimit *sl, const struct sockaddr *sa, enum srclimit_class cls,
    struct slot *where)
{
	unsigned char b[16];
	uint64_t h;
	size_t gi;

	/* An IPv4 peer and the same one on a dual-stack socket: one key, ::ffff:a.b.c.d. */
	if (addr_to_v6(sa, b) == -1)
		return false;
	/* IPv6: the /64, the least a host gets. */
	if (!IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(const void *)b))
		memset(b + 8, 0, 8);
	/*
	 * An echo key has b[8..15] zero (IPv6 /64) or b[0..9] zero (IPv4): a 1 in
	 * b[0] of an IPv4 key or b[15] of an IPv6 one makes a key no echo source has.
	 */
	if (cls == SRCLIMIT_STAMP)
		b[b[10] == 0xff ? 0 : 15] = 1;
	memcpy(where->key, b, sizeof(b));
	where->cls = cls;
	h = siphash24(sl->hashkey, b, sizeof(b));
	/*
	 * Multiply-shift maps the top 32 bits onto any group count without a
	 * division; ngroups <= 2^21 keeps the product within 64 bits.
	 */
	gi = (size_t)(((h >> 32) * sl->ngroups) >> 32);
	where->g = &sl->groups[gi];
	where->s = &sl->stripes[gi & sl->stripe_mask];
	where->tag = (uint8_t)h != 0 ? (uint8_t)h : 1;
	return true;
}

static struct entry *
group_find(const struct slot *w)
{
	for (int i = 0; i < GROUP_SLOTS; i++) {
		struct entry *e = &w->g->e[i];

		if (w->g->tag[i] == w->tag && e->key[0] == w->key[0] && e->key[1] == w->key[1])
			return e;
	}
	return NULL;
}

/*
 * Room for a new source: a free slot, else the idle entry refilled longest
 * ago (its debts are the most likely to be paid off, so forgetting it loses
 * least). Entries with open connections are never evicted: their count must
 * survive until srclimit_conn_close(). NULL when every slot holds some.
 */
static struct entry *
group_claim(const struct slot *w, uint64_t now_ms)
{
	struct group *g = w->g;
	int victim = -1;

	for (int i = 0; i < GROUP_SLOTS && victim == -1; i++)
		if (g->tag[i] == 0)
			victim = i;
	if (victim == -1) {
		for (int i = 0; i < GROUP_SLOTS; i++)
			if (g->e[i].conns == 0 &&
			    (victim == -1 || g->e[i].last_ms < g->e[victim].last_ms))
				victim = i;
		if (victim == -1)
			return NULL;
		w->s->evicted++;
	} else {
		w->s->entries++;
	}
	memset(&g->e[victim], 0, sizeof(g->e[victim]));
	g->tag[victim] = w->tag;
	g->e[victim].key[0] = w->key[0];
	g->e[victim].key[1] = w->key[1];
	g->e[victim].last_ms = now_ms;
	return &g->e[victim];
}

static uint64_t
burst_milli(uint32_t rate, uint32_t floor)
{
	return (uint64_t)(rate > floor ? rate : floor) * MILLI;
}

static void
debt_repay(uint64_t *debt, uint32_t rate, uint64_t dt)
{
	uint64_t paid = dt * rate;	/* thousandths: rate per second times ms */

	/* A limit switched off forgives its debt, so switching it on starts afresh. */
	*debt = rate == 0 || paid >= *debt ? 0 : *debt - paid;
}

static void
entry_refill(struct srclimit *sl, struct entry *e, enum srclimit_class cls, uint64_t now_ms)
{
	bool stamp = cls == SRCLIMIT_STAMP;
	uint64_t dt;

	/* Workers read the clock before taking the lock: time may seem to step back. */
	if (now_ms <= e->last_ms)
		return;
	dt = now_ms - e->last_ms;
	if (dt > MAX_ELAPSED_MS)
		dt = MAX_ELAPSED_MS;
	e->last_ms = now_ms;
	debt_repay(&e->conn_debt, atomic_load_explicit(&sl->conn_rate, memory_order_relaxed), dt);
	debt_repay(&e->udp_debt, atomic_load_explicit(stamp ? &sl->stamp_rate : &sl->udp_rate,
	    memory_order_relaxed), dt);
	debt_repay(&e->byte_debt, atomic_load_explicit(stamp ? &sl->stamp_byte_rate :
	    &sl->byte_rate, memory_order_relaxed), dt);
}

/* Find or make the entry for w; called and returns with w->s->mu held. */
static struct entry *
srclimit_entry(struct srclimit *sl, const struct slot *w, uint64_t now_ms)
{
	struct entry *e = group_find(w);

	if (e == NULL)
		return group_claim(w, now_ms);
	entry_refill(sl, e, w->cls, now_ms);
	return e;
}

/* Count the refusal, and say which limit it was to a caller that asks. */
static bool
refuse(const struct slot *w, enum srclimit_reason reason, enum srclimit_reason *why)
{
	w->s->refused[reason]++;
	if (why != NULL)
		*why = reason;
	return false;
}

static bool
conn_admit(struct srclimit *sl, const struct slot *w, uint64_t now_ms, enum srclimit_reason *why)
{
	uint32_t max = atomic_load_explicit(&sl->max_conns, memory_order_relaxed);
	uint32_t rate = atomic_load_explicit(&sl->conn_rate, memory_order_relaxed);
	struct entry *e = srclimit_entry(sl, w, now_ms);

	if (e == NULL)
		return refuse(w, SRCLIMIT_TABLE_FULL, why);
	if (max != 0 && e->conns >= max)
		return refuse(w, SRCLIMIT_CONNECTIONS, why);
	if (rate != 0) {
		if (e->conn_debt + MILLI > burst_milli(rate, SRCLIMIT_MIN_BURST))
			return refuse(w, SRCLIMIT_CONNECTION_RATE, why);
		e->conn_debt += MILLI;
	}
	/* Counted even with the limit off, so that turning it on by reload sees the truth. */
	e->conns++;
	return true;
}

bool
srclimit_conn_open(struct srclimit *sl, const struct sockaddr *sa, uint64_t now_ms)
{
	return srclimit_conn_open_why(sl, sa, now_ms, NULL);
}

bool
srclimit_conn_open_why(struct srclimit *sl, const struct sockaddr *sa, uint64_t now_ms,
    enum srclimit_reason *why)
{
	struct slot w;
	bool ok;

	if (!srclimit_locate(sl, sa, &w))
		return true;
	pthread_mutex_lock(&w.s->mu);
	ok = conn_admit(sl, &w, now_ms, why);
	pthread_mutex_unlock(&w.s->mu);
	return ok;
}

void
srclimit_conn_close(struct srclimit *sl, const struct sockaddr *sa)
{
	struct slot w;
	struct entry *e;

	if (!srclimit_locate(sl, sa, &w))
		return;
	pthread_mutex_lock(&w.s->mu);
	e = group_find(&w);
	if (e != NULL && e->conns > 0)
		e->conns--;
	else
		w.s->unbalanced++;
	pthread_mutex_unlock(&w.s->mu);
}

static bool
udp_admit(struct srclimit *sl, const struct slot *w, size_t bytes, uint32_t rate,
    uint32_t byte_rate, uint64_t now_ms, enum srclimit_reason *why)
{
	struct entry *e = srclimit_entry(sl, w, now_ms);

	if (e == NULL)
		return refuse(w, SRCLIMIT_TABLE_FULL, why);
	if (rate != 0 && e->udp_debt + MILLI > burst_milli(rate, SRCLIMIT_MIN_BURST))
		return refuse(w, SRCLIMIT_UDP_RATE, why);
	/* Not empty is enough: see "debt" in srclimit.h. */
	if (byte_rate != 0 && e->byte_debt >= burst_milli(byte_rate, 1))
		return refuse(w, SRCLIMIT_UDP_BYTES, why);
	/* Charge only what is sent: a refused datagram costs the source nothing more. */
	if (rate != 0)
		e->udp_debt += MILLI;
	if (byte_rate != 0)
		e->byte_debt += (uint64_t)bytes * MILLI;
	return true;
}

bool
srclimit_udp(struct srclimit *sl, const struct sockaddr *sa, size_t reply_bytes,
    uint64_t now_ms)
{
	return srclimit_udp_why(sl, sa, reply_bytes, now_ms, NULL);
}

bool
srclimit_udp_why(struct srclimit *sl, const struct sockaddr *sa, size_t reply_bytes,
    uint64_t now_ms, enum srclimit_reason *why)
{
	return srclimit_datagram(sl, sa, SRCLIMIT_ECHO, reply_bytes, now_ms, why);
}

bool
srclimit_datagram(struct srclimit *sl, const struct sockaddr *sa, enum srclimit_class cls,
    size_t reply_bytes, uint64_t now_ms, enum srclimit_reason *why)
{
	bool stamp = cls == SRCLIMIT_STAMP;
	uint32_t rate = atomic_load_explicit(stamp ? &sl->stamp_rate : &sl->udp_rate,
	    memory_order_relaxed);
	uint32_t byte_rate = atomic_load_explicit(stamp ? &sl->stamp_byte_rate : &sl->byte_rate,
	    memory_order_relaxed);
	struct slot w;
	bool ok;

	if ((rate == 0 && byte_rate == 0) || !srclimit_locate_class(sl, sa, cls, &w))
		return true;
	pthread_mutex_lock(&w.s->mu);
	ok = udp_admit(sl, &w, reply_bytes, rate, byte_rate, now_ms, why);
	pthread_mutex_unlock(&w.s->mu);
	return ok;
}

uint32_t
srclimit_connections(struct srclimit *sl, const struct sockaddr *sa)
{
	struct slot w;
	struct entry *e;
	uint32_t n = 0;

	if (!srclimit_locate(sl, sa, &w))
		return 0;
	pthread_mutex_lock(&w.s->mu);
	e = group_find(&w);
	if (e != NULL)
		n = e->conns;
	pthread_mutex_unlock(&w.s->mu);
	return n;
}

void
srclimit_set_conf(struct srclimit *sl, const struct srclimit_conf *conf)
{
	atomic_store_explicit(&sl->max_conns, conf->max_connections_per_source,
	    memory_order_relaxed);
	atomic_store_explicit(&sl->conn_rate, conf->connection_rate, memory_order_relaxed);
	atomic_store_explicit(&sl->udp_rate, conf->udp_rate, memory_order_relaxed);
	atomic_store_explicit(&sl->byte_rate, conf->udp_max_reply_bytes_per_second,
	    memory_order_relaxed);
	atomic_store_explicit(&sl->stamp_rate, conf->stamp_rate, memory_order_relaxed);
	atomic_store_explicit(&sl->stamp_byte_rate, conf->stamp_max_reply_bytes_per_second,
	    memory_order_relaxed);
}

void
srclimit_get_stats(struct srclimit *sl, struct srclimit_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->capacity = sl->ngroups * GROUP_SLOTS;
	for (size_t i = 0; i <= sl->stripe_mask; i++) {
		struct stripe *s = &sl->stripes[i];

		pthread_mutex_lock(&s->mu);
		for (int r = 0; r < SRCLIMIT_NREASONS; r++)
			st->refused[r] += s->refused[r];
		st->evicted += s->evicted;
		st->unbalanced += s->unbalanced;
		st->entries += s->entries;
		pthread_mutex_unlock(&s->mu);
	}
}

const char *
srclimit_reason_name(enum srclimit_reason reason)
{
	static const char *const names[SRCLIMIT_NREASONS] = {
		[SRCLIMIT_CONNECTIONS] = "connections",
		[SRCLIMIT_CONNECTION_RATE] = "connection_rate",
		[SRCLIMIT_UDP_RATE] = "udp_rate",
		[SRCLIMIT_UDP_BYTES] = "udp_bytes",
		[SRCLIMIT_TABLE_FULL] = "table_full",
	};

	return (unsigned)reason < SRCLIMIT_NREASONS ? names[reason] : "?";
}

static struct group *
groups_map(size_t ngroups)
{
	void *p = mmap(NULL, ngroups * sizeof(struct group), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void
groups_unmap(struct group *groups, size_t ngroups)
{
	if (groups != NULL)
		munmap(groups, ngroups * sizeof(*groups));
}

struct srclimit *
srclimit_new(size_t capacity, const struct srclimit_conf *conf)
{
	struct srclimit *sl;
	size_t nstripes = 1;

	if (capacity == 0 || capacity > MAX_CAPACITY) {
		errno = EINVAL;
		return NULL;
	}
	sl = calloc(1, sizeof(*sl));
	if (sl == NULL)
		return NULL;
	sl->ngroups = (capacity + GROUP_SLOTS - 1) / GROUP_SLOTS;
	while (nstripes * 2 <= sl->ngroups && nstripes * 2 <= MAX_STRIPES)
		nstripes *= 2;
	sl->stripe_mask = nstripes - 1;
	/*
	 * Anonymous pages are zero and page aligned, and the kernel commits them
	 * as sources arrive: the bound is the same, but start-up does not write
	 * megabytes nobody may ever use (READY=1 within milliseconds).
	 */
	sl->groups = groups_map(sl->ngroups);
	sl->stripes = aligned_alloc(64, nstripes * sizeof(*sl->stripes));
	if (sl->groups == NULL || sl->stripes == NULL)
		goto fail;
	memset(sl->stripes, 0, nstripes * sizeof(*sl->stripes));
	if (getrandom(sl->hashkey, sizeof(sl->hashkey), 0) != (ssize_t)sizeof(sl->hashkey))
		goto fail;
	for (size_t i = 0; i < nstripes; i++)
		pthread_mutex_init(&sl->stripes[i].mu, NULL);
	srclimit_set_conf(sl, conf);
	return sl;
fail:
	groups_unmap(sl->groups, sl->ngroups);
	free(sl->stripes);
	free(sl);
	return NULL;
}

void
srclimit_free(struct srclimit *sl)
{
	if (sl == NULL)
		return;
	for (size_t i = 0; i <= sl->stripe_mask; i++)
		pthread_mutex_destroy(&sl->stripes[i].mu);
	groups_unmap(sl->groups, sl->ngroups);
	free(sl->stripes);
	free(sl);
}
