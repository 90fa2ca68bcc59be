/* SPDX-License-Identifier: MIT */
/* probe_describe: echod -t's line per probe: its targets as start would see them. */
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>

#include "addr.h"
#include "clock.h"
#include "dscp.h"
#include "ownaddr.h"
#include "probe_describe.h"
#include "probe_resolve.h"

/* Ask every name, and wait until all have answered or the time is up. */
static void
resolve_all(struct probe_resolver *r, uint64_t timeout_ms)
{
	uint64_t end = clock_monotonic_ms() + timeout_ms;

	probe_resolver_poll(r);
	while (probe_resolver_busy(r)) {
		uint64_t now = clock_monotonic_ms();
		struct pollfd pfd = { probe_resolver_fd(r), POLLIN, 0 };

		if (now >= end)
			break;
		(void)poll(&pfd, 1, (int)(end - now));
		probe_resolver_poll(r);
	}
}

/* One target: "192.0.2.1:862", "host.example:862 = 192.0.2.5 (and 1 more)", and why not. */
static void
describe_target(const struct resolve_entry *e, const struct ownaddr *own, FILE *out)
{
	char buf[ADDR_STRLEN];
	const struct probe_target *t = e->target;

	if (t->literal)
		fputs(addr_format((const void *)&t->addr, t->addrlen, buf, sizeof(buf)), out);
	else
		fprintf(out, "%s:%d", t->host, t->port);
	if (e->state == RESOLVE_FAILED) {
		fprintf(out, " (unresolvable: %s; asked again with backoff)",
		    gai_strerror(e->error));
		return;
	}
	if (e->state != RESOLVE_DONE) {
		fputs(" (no answer yet)", out);
		return;
	}
	if (!t->literal) {
		fprintf(out, " = %s", addr_format_peer((const void *)&e->addrs[0],
		    sizeof(e->addrs[0]), buf, sizeof(buf)));
		if (e->naddrs > 1)
			fprintf(out, " (and %zu more)", e->naddrs - 1);
	}
	if (probe_resolve_is_own(e, own))
		fputs(e->probe->probe_own ? " (own address: probed, skip_own = false)" :
		    " (own address: skipped)", out);
}

int
probe_describe(const struct echod_config *cfg, FILE *out, uint64_t timeout_ms)
{
	struct probe_resolver *r;
	struct ownaddr own;
	size_t k = 0;

	if (cfg->nprobes == 0)
		return 0;
	if (ownaddr_load(&own) == -1)
		return -1;
	if ((r = probe_resolver_new(NULL)) == NULL || probe_resolver_load(r, cfg) == -1) {
		probe_resolver_free(r);
		ownaddr_free(&own);
		return -1;
	}
	resolve_all(r, timeout_ms);
	for (size_t i = 0; i < cfg->nprobes; i++) {
		const struct probe_spec *p = &cfg->probes[i];

		fprintf(out, "probe %s: %s every %g s, %ld octets, dscp ", p->name,
		    proto_name(p->proto), p->interval, p->size);
		if (dscp_name(p->dscp) != NULL)
			fprintf(out, "%s: ", dscp_name(p->dscp));
		else
			fprintf(out, "%d: ", p->dscp);
		for (size_t t = 0; t < p->ntargets; t++, k++) {
			if (t > 0)
				fputs(", ", out);
			describe_target(probe_resolver_entry(r, k), &own, out);
		}
		fputc('\n', out);
	}
	probe_resolver_free(r);
	ownaddr_free(&own);
	return 0;
}
