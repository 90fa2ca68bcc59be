/* SPDX-License-Identifier: MIT */
/* echo-client with several HOSTs: all probed at once by the probe engine (src/probe/), one
 * summary per target, as fping does. */
#ifndef ECHOD_CLIENT_MULTI_H
#define ECHOD_CLIENT_MULTI_H

#include <stdio.h>

#include "client-opts.h"
#include "probe.h"

/* One target of the run: what echo-client prints about it. */
struct multi_target {
	const char *host;		/* as given */
	char peer[128];			/* "127.0.0.1:862": the address probed */
	struct probe_target *t;
};

/* Probe every host of o (o->nhosts > 1) and print the summaries. Returns echo-client's exit
 * status: 0 when every probe of every target was answered in time, 1 otherwise, 2 when a
 * HOST does not resolve (nothing is probed then). */
int	multi_run(const struct client_opts *o);

/* One target's summary: a text line, or with json one JSON object on a line. */
void	multi_report(const struct multi_target *m, const struct client_opts *o, double now,
	    FILE *f);

#endif
