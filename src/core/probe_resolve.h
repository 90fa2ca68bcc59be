/* SPDX-License-Identifier: MIT */
/* probe_resolve: probes' host names -> addresses, off the control thread, retried with backoff. */
#ifndef ECHOD_PROBE_RESOLVE_H
#define ECHOD_PROBE_RESOLVE_H

#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "ownaddr.h"

/* After n failures in a row the next try is 1 s, 2 s, 4 s ... and at most 5 min away. */
#define RESOLVE_BACKOFF_FIRST_MS	1000
#define RESOLVE_BACKOFF_MAX_MS		300000
/* Helper threads: a name that times out (resolv.conf: 5 s a try) holds up one, not all. */
#define RESOLVE_THREADS			4

/* Milliseconds until the next try after `failures` (>= 1) failures in a row. */
uint64_t probe_resolve_backoff_ms(unsigned failures);

enum resolve_state {
	RESOLVE_WAITING,	/* to be asked at due_ms */
	RESOLVE_ASKING,		/* a helper thread is asking */
	RESOLVE_DONE,		/* addrs hold the answer (a literal target: its address) */
	RESOLVE_FAILED,		/* error says why; asked again at due_ms */
};

/* One target of one probe, what its name resolved to. */
struct resolve_entry {
	const struct probe_spec *probe;		/* the configuration's: borrowed */
	const struct probe_target *target;
	enum resolve_state state;
	struct sockaddr_storage *addrs;		/* DONE: every address, the target's port */
	size_t naddrs;
	int error;				/* FAILED: getaddrinfo()'s code (gai_strerror()) */
	unsigned failures;			/* in a row; 0 once one succeeds */
	uint64_t due_ms;			/* WAITING and FAILED: when to ask */
};

/* Tests put a fake clock and a fake getaddrinfo() here. */
typedef uint64_t resolve_clock_fn(void *arg);
typedef int resolve_lookup_fn(const char *host, const char *port, const struct addrinfo *hints,
	    struct addrinfo **res);
struct resolve_ops {
	resolve_clock_fn *clock;	/* milliseconds, monotonic; NULL: clock_monotonic_ms() */
	void *clock_arg;
	/* NULL: getaddrinfo(); a fake's result is freed with freeaddrinfo() too. */
	resolve_lookup_fn *lookup;
};

struct probe_resolver;

/*
 * A resolver and its helper threads; ops NULL for the real clock and
 * getaddrinfo(). NULL with errno when a thread or the eventfd cannot be made.
 */
struct probe_resolver *probe_resolver_new(const struct resolve_ops *ops);
/* Stops the helpers: waits for the lookups they are in (bounded by resolv.conf's timeouts). */
void	probe_resolver_free(struct probe_resolver *r);

/*
 * A descriptor (eventfd) that is readable while answers wait for
 * probe_resolver_poll(): the control loop watches it.
 */
int	probe_resolver_fd(const struct probe_resolver *r);

/*
 * The targets of cfg (at start, and at each reload with the new
 * configuration): one entry each, a literal done at once, a name asked at
 * the next probe_resolver_poll(). Replaces the entries of the previous load;
 * answers still coming for them are dropped. cfg must outlive the entries.
 * 0, or -1 (ENOMEM) with the previous entries kept.
 */
int	probe_resolver_load(struct probe_resolver *r, const struct echod_config *cfg);

/*
 * Take the answers in (a failure makes the entry wait its backoff), then
 * hand every name that is due to the helpers. Never blocks on a lookup.
 */
void	probe_resolver_poll(struct probe_resolver *r);

/* When probe_resolver_poll() next has a retry to start; UINT64_MAX: none waits. */
uint64_t probe_resolver_next_ms(const struct probe_resolver *r);
/* Is any name still being asked, or due now (so the first answers are not all in)? */
bool	probe_resolver_busy(const struct probe_resolver *r);

/*
 * Would probing e mean probing this host: is any of its addresses one of
 * own's (a name of this host, or its address in a mesh every host reads)?
 * The port does not matter. false until e is resolved.
 */
bool	probe_resolve_is_own(const struct resolve_entry *e, const struct ownaddr *own);

size_t	probe_resolver_count(const struct probe_resolver *r);
const struct resolve_entry *probe_resolver_entry(const struct probe_resolver *r, size_t i);

#endif
