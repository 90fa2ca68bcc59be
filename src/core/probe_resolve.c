/* SPDX-License-Identifier: MIT */
/* probe_resolve: probes' host names -> addresses, off the control thread, retried with backoff. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "ownaddr.h"
#include "probe_resolve.h"

/* One name to look up, and then its answer. */
struct job {
	struct job *next;
	uint64_t gen;			/* the load it belongs to */
	size_t index;			/* its entry in that load */
	char *host;
	char port[8];
	int socktype;
	int rc;				/* getaddrinfo()'s */
	struct sockaddr_storage *addrs;
	size_t naddrs;
};

/*
 * What the helpers share with the resolver. Counted: probe_resolver_free()
 * never waits for a lookup (a name may take resolv.conf's timeouts); the last
 * of it and the helpers to let go frees it, and the eventfd with it.
 */
struct shared {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct job *todo, **todo_tail;
	struct job *done;
	bool stop;
	int refs;
	int efd;
	resolve_lookup_fn *lookup;
};

struct probe_resolver {
	struct shared *sh;
	resolve_clock_fn *clock;
	void *clock_arg;
	uint64_t gen;
	struct resolve_entry *entries;
	size_t n;
};

uint64_t
probe_resolve_backoff_ms(unsigned failures)
{
	uint64_t ms = RESOLVE_BACKOFF_FIRST_MS;

	for (unsigned i = 1; i < failures && ms < RESOLVE_BACKOFF_MAX_MS; i++)
		ms *= 2;
	return ms < RESOLVE_BACKOFF_MAX_MS ? ms : RESOLVE_BACKOFF_MAX_MS;
}

static void
job_free(struct job *j)
{
	free(j->host);
	free(j->addrs);
	free(j);
}

static void
jobs_free(struct job *j)
{
	while (j != NULL) {
		struct job *next = j->next;

		job_free(j);
		j = next;
	}
}

static void
shared_unref(struct shared *sh)
{
	bool last;

	pthread_mutex_lock(&sh->lock);
	last = --sh->refs == 0;
	pthread_mutex_unlock(&sh->lock);
	if (!last)
		return;
	jobs_free(sh->todo);
	jobs_free(sh->done);
	close(sh->efd);
	pthread_cond_destroy(&sh->wake);
	pthread_mutex_destroy(&sh->lock);
	free(sh);
}

/* getaddrinfo()'s list as an array, each address once, in its order (RFC 6724's). */
static void
job_take(struct job *j, const struct addrinfo *res)
{
	size_t n = 0;

	for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next)
		n++;
	if (n == 0 || (j->addrs = calloc(n, sizeof(*j->addrs))) == NULL) {
		j->rc = n == 0 ? EAI_NONAME : EAI_MEMORY;
		return;
	}
	for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		bool seen = false;

		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(*j->addrs))
			continue;
		for (size_t k = 0; k < j->naddrs && !seen; k++)
			seen = addr_equal((const void *)&j->addrs[k], ai->ai_addr);
		if (!seen)
			memcpy(&j->addrs[j->naddrs++], ai->ai_addr, ai->ai_addrlen);
	}
	if (j->naddrs == 0)
		j->rc = EAI_NONAME;
}

static void
job_run(struct shared *sh, struct job *j)
{
	struct addrinfo hints, *res = NULL;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = j->socktype;
	/* No AI_ADDRCONFIG: it drops ::1 and 127.0.0.1 on a host with loopback alone. */
	hints.ai_flags = AI_NUMERICSERV;
	j->rc = sh->lookup(j->host, j->port, &hints, &res);
	if (j->rc == 0)
		job_take(j, res);
	if (res != NULL)
		freeaddrinfo(res);
}

static void *
helper_main(void *arg)
{
	struct shared *sh = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&sh->lock);
	while (!sh->stop) {
		struct job *j = sh->todo;

		if (j == NULL) {
			pthread_cond_wait(&sh->wake, &sh->lock);
			continue;
		}
		if ((sh->todo = j->next) == NULL)
			sh->todo_tail = &sh->todo;
		pthread_mutex_unlock(&sh->lock);
		job_run(sh, j);
		pthread_mutex_lock(&sh->lock);
		j->next = sh->done;
		sh->done = j;
		/* The counter only wakes the control loop; a full one is awake already. */
		if (write(sh->efd, &one, sizeof(one)) == -1 && errno != EAGAIN)
			break;
	}
	pthread_mutex_unlock(&sh->lock);
	shared_unref(sh);
	return NULL;
}

static uint64_t
real_clock(void *arg)
{
	(void)arg;
	return clock_monotonic_ms();
}

static struct shared *
shared_new(resolve_lookup_fn *lookup)
{
	struct shared *sh = calloc(1, sizeof(*sh));

	if (sh == NULL)
		return NULL;
	sh->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (sh->efd == -1) {
		free(sh);
		return NULL;
	}
	pthread_mutex_init(&sh->lock, NULL);
	pthread_cond_init(&sh->wake, NULL);
	sh->todo_tail = &sh->todo;
	sh->refs = 1;
	sh->lookup = lookup != NULL ? lookup : getaddrinfo;
	return sh;
}

struct probe_resolver *
probe_resolver_new(const struct resolve_ops *ops)
{
	struct probe_resolver *r = calloc(1, sizeof(*r));
	pthread_t t;
	int err = 0;

	if (r == NULL || (r->sh = shared_new(ops != NULL ? ops->lookup : NULL)) == NULL) {
		free(r);
		return NULL;
	}
	r->clock = ops != NULL && ops->clock != NULL ? ops->clock : real_clock;
	r->clock_arg = ops != NULL ? ops->clock_arg : NULL;
	for (int i = 0; i < RESOLVE_THREADS && err == 0; i++) {
		pthread_mutex_lock(&r->sh->lock);
		r->sh->refs++;
		pthread_mutex_unlock(&r->sh->lock);
		err = pthread_create(&t, NULL, helper_main, r->sh);
		if (err == 0)
			pthread_detach(t);
		else
			shared_unref(r->sh);
	}
	if (err != 0) {
		probe_resolver_free(r);
		errno = err;
		return NULL;
	}
	return r;
}

static void
entries_free(struct resolve_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].addrs);
	free(e);
}

void
probe_resolver_free(struct probe_resolver *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->sh->lock);
	r->sh->stop = true;
	pthread_cond_broadcast(&r->sh->wake);
	pthread_mutex_unlock(&r->sh->lock);
	shared_unref(r->sh);
	entries_free(r->entries, r->n);
	free(r);
}

int
probe_resolver_fd(const struct probe_resolver *r)
{
	return r->sh->efd;
}

/* A literal target needs no lookup: its one address, at once. */
static int
entry_literal(struct resolve_entry *e)
{
	if ((e->addrs = malloc(sizeof(*e->addrs))) == NULL)
		return -1;
	memcpy(e->addrs, &e->target->addr, sizeof(*e->addrs));
	e->naddrs = 1;
	e->state = RESOLVE_DONE;
	return 0;
}

int
probe_resolver_load(struct probe_resolver *r, const struct echod_config *cfg)
{
	struct resolve_entry *e;
	size_t n = 0, k = 0;
	uint64_t now = r->clock(r->clock_arg);

	for (size_t i = 0; i < cfg->nprobes; i++)
		n += cfg->probes[i].ntargets;
	if ((e = calloc(n + 1, sizeof(*e))) == NULL)
		return -1;
	for (size_t i = 0; i < cfg->nprobes; i++) {
		for (size_t t = 0; t < cfg->probes[i].ntargets; t++, k++) {
			e[k].probe = &cfg->probes[i];
			e[k].target = &cfg->probes[i].targets[t];
			e[k].state = RESOLVE_WAITING;
			e[k].due_ms = now;
			if (e[k].target->literal && entry_literal(&e[k]) == -1) {
				entries_free(e, k + 1);
				errno = ENOMEM;
				return -1;
			}
		}
	}
	/* What the helpers have not started is for the old entries: drop it. */
	pthread_mutex_lock(&r->sh->lock);
	jobs_free(r->sh->todo);
	r->sh->todo = NULL;
	r->sh->todo_tail = &r->sh->todo;
	pthread_mutex_unlock(&r->sh->lock);
	entries_free(r->entries, r->n);
	r->entries = e;
	r->n = n;
	r->gen++;
	return 0;
}

/* One answer into its entry: the addresses, or the next try after the backoff. */
static void
answer_apply(struct probe_resolver *r, struct job *j, uint64_t now)
{
	struct resolve_entry *e;

	if (j->gen != r->gen || j->index >= r->n)
		return;		/* for a configuration since replaced */
	e = &r->entries[j->index];
	if (j->rc == 0) {
		free(e->addrs);
		e->addrs = j->addrs;
		e->naddrs = j->naddrs;
		j->addrs = NULL;
		e->state = RESOLVE_DONE;
		e->failures = 0;
		return;
	}
	e->state = RESOLVE_FAILED;
	e->error = j->rc;
	e->failures++;
	e->due_ms = now + probe_resolve_backoff_ms(e->failures);
}

/* An entry's lookup for the helpers; -1 when out of memory (it stays due, tried next poll). */
static int
ask(struct probe_resolver *r, size_t i)
{
	struct resolve_entry *e = &r->entries[i];
	struct job *j = calloc(1, sizeof(*j));

	if (j == NULL || (j->host = strdup(e->target->host)) == NULL) {
		free(j);
		return -1;
	}
	j->gen = r->gen;
	j->index = i;
	snprintf(j->port, sizeof(j->port), "%d", e->target->port);
	j->socktype = e->probe->proto == PROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
	pthread_mutex_lock(&r->sh->lock);
	*r->sh->todo_tail = j;
	r->sh->todo_tail = &j->next;
	pthread_cond_signal(&r->sh->wake);
	pthread_mutex_unlock(&r->sh->lock);
	e->state = RESOLVE_ASKING;
	return 0;
}

void
probe_resolver_poll(struct probe_resolver *r)
{
	uint64_t count, now = r->clock(r->clock_arg);
	struct job *done;

	/* Empty (EAGAIN) when the answers came in before the last poll took them. */
	if (read(r->sh->efd, &count, sizeof(count)) == -1 && errno != EAGAIN)
		count = 0;
	pthread_mutex_lock(&r->sh->lock);
	done = r->sh->done;
	r->sh->done = NULL;
	pthread_mutex_unlock(&r->sh->lock);
	for (struct job *j = done; j != NULL; j = j->next)
		answer_apply(r, j, now);
	jobs_free(done);
	for (size_t i = 0; i < r->n; i++) {
		const struct resolve_entry *e = &r->entries[i];

		if ((e->state == RESOLVE_WAITING || e->state == RESOLVE_FAILED) &&
		    e->due_ms <= now && ask(r, i) == -1)
			break;
	}
}

uint64_t
probe_resolver_next_ms(const struct probe_resolver *r)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i < r->n; i++)
		if ((r->entries[i].state == RESOLVE_WAITING ||
		    r->entries[i].state == RESOLVE_FAILED) && r->entries[i].due_ms < next)
			next = r->entries[i].due_ms;
	return next;
}

bool
probe_resolver_busy(const struct probe_resolver *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->entries[i].state == RESOLVE_WAITING || r->entries[i].state == RESOLVE_ASKING)
			return true;
	return false;
}

size_t
probe_resolver_count(const struct probe_resolver *r)
{
	return r->n;
}

const struct resolve_entry *
probe_resolver_entry(const struct probe_resolver *r, size_t i)
{
	return i < r->n ? &r->entries[i] : NULL;
}

bool
probe_resolve_is_own(const struct resolve_entry *e, const struct ownaddr *own)
{
	for (size_t i = 0; e->state == RESOLVE_DONE && i < e->naddrs; i++)
		if (ownaddr_contains(own, (const struct sockaddr *)&e->addrs[i]))
			return true;
	return false;
}
