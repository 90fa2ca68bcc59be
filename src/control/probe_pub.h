/* SPDX-License-Identifier: MIT */
/* probe_pub: the probes' figures as the control thread last published them, for any thread. */
#ifndef ECHOD_PROBE_PUB_H
#define ECHOD_PROBE_PUB_H

#include <pthread.h>
#include <stddef.h>

#include "addr.h"
#include "probe.h"

/* One target's figures at one moment: a copy, nothing borrowed from the engine. */
struct probe_row {
	char *probe;			/* the probe's name */
	char *target;			/* the target's text, as the configuration writes it */
	char address[ADDR_STRLEN];	/* what it resolved to, with the port */
	const char *protocol;		/* "stamp", "udp" or "tcp" */
	struct probe_figures f;		/* f.reflector: a string constant */
	double p50, p99;		/* round trips of the last minute, s; -1: none */
};

/*
 * The engine is the control thread's alone: it publishes copies here (after
 * ticks, at most every PROBE_RUN_PUBLISH_MS) and the metrics thread and the
 * control socket read copies of those.
 */
struct probe_pub {
	pthread_mutex_t lock;
	struct probe_row *rows;
	size_t n;
};

void	probe_pub_init(struct probe_pub *pub);
void	probe_pub_fini(struct probe_pub *pub);
/* Replace the rows with rows (n of them, malloc'd: pub's from here on); frees the old. */
void	probe_pub_swap(struct probe_pub *pub, struct probe_row *rows, size_t n);
/* A copy of the rows now into *rows (free with probe_rows_free()). 0, or -1 (ENOMEM). */
int	probe_pub_copy(struct probe_pub *pub, struct probe_row **rows, size_t *n);
void	probe_rows_free(struct probe_row *rows, size_t n);

#endif
