/* SPDX-License-Identifier: MIT */
/* The probe engine: many targets probed at once over a few shared sockets, driven by the
 * caller's event loop (no threads inside, nothing blocks), with per-target figures. */
#ifndef ECHOD_PROBE_H
#define ECHOD_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <sys/socket.h>

#include "probe_hist.h"
#include "stamp.h"

/* Probes outstanding per target: the sequence window. A probe whose slot is needed again
 * before it was answered is counted lost; a reply older than the window is unexpected. */
#define PROBE_WINDOW	64
/* The engine's shared sockets: one per address family and datagram protocol, created on
 * first use. A TCP target has a connection of its own besides. */
#define PROBE_MAX_FDS	4

enum probe_proto { PROBE_STAMP, PROBE_UDP, PROBE_TCP };

/* One target, as the caller asks for it. */
struct probe_target_conf {
	const char *name;		/* label: a host name or address, copied */
	const struct sockaddr *addr;	/* AF_INET or AF_INET6, with the port */
	socklen_t addrlen;
	enum probe_proto proto;
	double interval;		/* seconds between probes (> 0) */
	double timeout;			/* seconds before an unanswered probe is lost (> 0) */
	size_t size;			/* payload bytes: the whole STAMP test packet */
	int dscp;			/* DSCP the probes are sent with; -1: the default */
	bool cos;			/* STAMP: ask for the Class of Service TLV */
	uint16_t ssid;			/* STAMP Session-Sender Identifier */
	const struct stamp_key *key;	/* STAMP authenticated mode, copied; NULL: not */
	unsigned long count;		/* probes to send, then stop; 0: until removed */
	unsigned up_intervals;		/* up: a reply within this many intervals (0: 3) */
};

/* A target's figures since it was added: every counter only grows, but lost_unknown, which
 * falls when a later reply tells the direction of a loss. */
struct probe_figures {
	unsigned long long sent, received;	/* received: first replies, late ones too */
	unsigned long long late;		/* of received: after the timeout */
	unsigned long long lost;		/* no reply within the timeout (or window),
						 * late ones included */
	/* lost, split: STAMP to a stateful reflector, by echo-client's rule (probe_loss.h);
	 * unknown the rest (late replies, UDP and TCP echo, a stateless reflector). */
	unsigned long long lost_forward, lost_backward, lost_unknown;
	unsigned long long duplicates, bad;	/* bad: wrong bytes, or HMAC not verified */
	unsigned long long unexpected;		/* replies to a probe not in the window */
	unsigned long long pending;		/* sent, not answered, not yet lost */
	struct probe_hist rtt;			/* in-time replies' round trips */
	struct probe_hist forward, backward;	/* one-way delays, both clocks synchronised */
	struct probe_hist dwell;		/* time inside the reflector */
	const char *reflector;			/* "stateful", "stateless" or "unknown" */
	int hops;				/* last hops forward (TTL at reflector), -1 */
	int reflector_dscp;			/* DSCP the probe arrived with (CoS TLV), -1 */
	int reply_dscp;				/* DSCP the last reply came back with, -1 */
	double last_reply;			/* CLOCK_REALTIME seconds; 0: never */
	double last_reply_age;			/* seconds since it, -1 when never */
	bool up;				/* a reply within up_intervals intervals */
	bool oneway;				/* one-way delays were given */
};

struct probe_engine;
struct probe_target;

/* A new engine, with no sockets yet; NULL with errno ENOMEM. */
struct probe_engine *probe_engine_new(void);
/* Close its sockets and free it and every target. */
void	probe_engine_free(struct probe_engine *e);
/*
 * The sockets to watch and for what (POLLIN, and POLLOUT while a TCP connection is being
 * made or has bytes to write), into pfd[0 .. max). Returns how many there are in all: call
 * again with more room when that is more than max. The set changes with probe_target_add()
 * and _remove(), and with each tick and ready call (TCP connections come and go).
 */
int	probe_engine_pollfds(const struct probe_engine *e, struct pollfd *pfd, int max);
/* When probe_engine_tick() is next due: a probe_now() time, or INFINITY when nothing is. */
double	probe_engine_next(const struct probe_engine *e);
/* Send what is due and count as lost what timed out, at now (probe_now()). */
void	probe_engine_tick(struct probe_engine *e, double now);
/* fd is ready with poll()'s revents: take every reply queued on it, write what is
 * waiting, finish a connection (it never blocks). */
void	probe_engine_ready(struct probe_engine *e, int fd, short revents, double now);
/* Datagrams read that are for no target (another source, SSID or target id, too short). */
unsigned long long probe_engine_unmatched(const struct probe_engine *e);
/* Every target with a count has sent it and has nothing pending. */
bool	probe_engine_done(const struct probe_engine *e);
/* The monotonic clock in seconds: the time every call above takes. */
double	probe_now(void);

/* Add a target; its first probe goes out at the next tick. NULL with errno: EINVAL (a bad
 * conf: size too small for the mode, interval <= 0), EEXIST (the same address, protocol and
 * SSID twice), ENOMEM, or a socket's error. */
struct probe_target *probe_target_add(struct probe_engine *e, const struct probe_target_conf *c);
/* Remove and free a target: later replies to it are unexpected; the others go on. */
void	probe_target_remove(struct probe_engine *e, struct probe_target *t);
/* Its figures at now. */
void	probe_target_figures(const struct probe_target *t, double now, struct probe_figures *f);
/* Its name, as given. */
const char *probe_target_name(const struct probe_target *t);
/* The p-th percentile (0 < p <= 100) of its round trips answered within the last minute, in
 * seconds (the last PROBE_RECENT of them at most); -1 when there are none. */
double	probe_target_recent(const struct probe_target *t, double now, double p);

#endif
