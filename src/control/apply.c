/* SPDX-License-Identifier: MIT */
/* apply: changes the open listeners to what a configuration lists, through the workers. */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply.h"
#include "generation.h"
#include "log.h"
#include "plan.h"
#include "view_build.h"

/* Below this a port needs root or CAP_NET_BIND_SERVICE (the kernel's default). */
#define PRIVILEGED_PORTS 1024

static bool
host_has_ipv6(void)
{
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd == -1)
		return errno != EAFNOSUPPORT;
	close(fd);
	return true;
}

/* "tcp 127.0.0.1:7", "unix /run/echod/echo.sock": the name the listener would have. */
static void
spec_name(const struct listener_spec *spec, char *buf, size_t size)
{
	char addr[ADDR_STRLEN];

	if (spec->proto == PROTO_UNIX)
		snprintf(buf, size, "unix %s", spec->path);
	else
		snprintf(buf, size, "%s %s", proto_name(spec->proto),
		    addr_format((const struct sockaddr *)&spec->addr, spec->addrlen, addr,
		    sizeof(addr)));
}

/* The report line of a listener that failed to open; apply_line_logged() knows it. */
#define OPEN_FAILED	": cannot open: "

bool
apply_line_logged(const char *line)
{
	return strstr(line, OPEN_FAILED) != NULL;
}

/*
 * An entry about one listener, with the journal fields echod(8) lists so that
 * "journalctl ECHOD_PORT=7" or "ECHOD_PROTOCOL=stamp" finds it. Unix listeners
 * have no port.
 */
static void __attribute__((format(printf, 4, 5)))
log_listener(int priority, const char *msgid, const struct listener_spec *spec,
    const char *fmt, ...)
{
	char proto[32], port[32];
	const char *fields[] = { proto, port, NULL };
	va_list ap;

	snprintf(proto, sizeof(proto), "ECHOD_PROTOCOL=%s", proto_name(spec->proto));
	snprintf(port, sizeof(port), "ECHOD_PORT=%d", spec->port);
	if (spec->proto == PROTO_UNIX)
		fields[1] = NULL;
	va_start(ap, fmt);
	log_vstruct(priority, msgid, fields, fmt, ap);
	va_end(ap);
}

/*
 * Why a configured listener could not be opened, and what would open it: a
 * line of rep and of unserved, and one journal entry (LISTENER_FAILED), so
 * that whoever logs rep skips that line (apply_line_logged()).
 */
static void
report_open_failure(const struct apply_ctx *ctx, const struct listener_spec *spec, int error,
    struct report *rep, struct status_rows *unserved)
{
	char name[ADDR_STRLEN + 200], label[sizeof(name) + 200], hint[200], state[300];

	hint[0] = '\0';
	spec_name(spec, name, sizeof(name));
	snprintf(label, sizeof(label), "%s (%s)", name, spec->where);
	if (error == EACCES && spec->proto != PROTO_UNIX && spec->port < PRIVILEGED_PORTS)
		snprintf(hint, sizeof(hint), ": port %d is privileged; %s", spec->port,
		    ctx->activated ? "under systemd it must come from echod.socket: "
		    APPLY_SYSTEMD_REBIND : "run echod as root or with CAP_NET_BIND_SERVICE");
	else if (error == EADDRINUSE && ctx->activated)
		snprintf(hint, sizeof(hint), "; if systemd holds the port: %s",
		    APPLY_SYSTEMD_REBIND);
	report_fail(rep, "%s" OPEN_FAILED "%s%s", label, strerror(error), hint);
	snprintf(state, sizeof(state), "not open: %s%s", strerror(error), hint);
	status_rows_add(unserved, name, NULL, spec->where, state);
	log_listener(LOG_ERR, ECHOD_MSGID_LISTENER_FAILED, spec, "cannot open %s: %s%s", label,
	    strerror(error), hint);
}

/*
 * An omitted address and "::" written out both print as [::]; one takes IPv4
 * too and the other does not (issue 22 item 14: a udp listener without
 * address answered IPv4, a stamp listener with "::" did not, and both logs
 * said [::]). The log says which.
 */
static const char *
wildcard_scope(const struct listener_spec *spec)
{
	const struct sockaddr *sa = (const struct sockaddr *)&spec->addr;

	if (spec->proto == PROTO_UNIX || sa->sa_family != AF_INET6 || !addr_is_wildcard(sa))
		return "";
	return spec->any_address ? " (IPv4 and IPv6)" : " (IPv6 only: address \"::\")";
}

/* In every worker's loop: only once a published generation serves it (no connection slips in unchecked). */
static void
watch(struct apply_ctx *ctx, struct listener *l)
{
	for (size_t i = 0; i < ctx->nworkers; i++)
		if (worker_add_listener(ctx->workers[i], l) == -1)
			log_warn("worker %zu cannot take %s", i, l->name);
	l->watched = true;
}

/*
 * Take l out of every worker and close it. A worker that cannot be told
 * (out of memory) keeps watching it: l then stays in the set, parked: the
 * next generation has no view for it (it serves nothing), and the next
 * reload tries again.
 */
static void
unwatch_and_release(struct apply_ctx *ctx, size_t index, struct report *rep)
{
	struct listener *l = ctx->set->items[index];
	bool told = true;

	if (l->watched)
		for (size_t w = 0; w < ctx->nworkers; w++)
			if (worker_remove_listener(ctx->workers[w], l) == -1)
				told = false;
	if (told) {
		ctx->unwatched += l->watched;
		report_add(rep, "closed %s", l->name);
		listener_set_remove_at(ctx->set, index);
		listener_release(l);
		return;
	}
	l->parked = true;
	report_fail(rep, "out of memory: %s stays open and answers nothing until the next reload",
	    l->name);
}

/* Listeners a past reload could not close: try again before planning around them. */
static void
retry_parked(struct apply_ctx *ctx, struct report *rep)
{
	for (size_t i = ctx->set->count; i-- > 0;)
		if (ctx->set->items[i]->parked)
			unwatch_and_release(ctx, i, rep);
}

/*
 * Open configured listener j. The sockets it replaces share their port with
 * it meanwhile; *forced[i] marks those that must stay because it failed.
 * The workers watch it once a generation serving it is published.
 */
static int
open_wanted(struct apply_ctx *ctx, const struct echod_config *cfg, const struct plan *plan,
    size_t j, bool *forced, struct report *rep, struct status_rows *unserved)
{
	const struct listener_spec *spec = &cfg->listeners[j];
	bool rebind = plan->how[j] == PLAN_REBIND;
	struct listener *l;
	int error;

	for (size_t i = 0; rebind && i < plan->ncurrent; i++)
		if (plan_overlaps(plan, j, i))
			(void)listener_share_port(ctx->set->items[i], true);
	l = listener_open(spec, rebind);
	if (l != NULL && listener_set_add(ctx->set, l) == 0) {
		report_add(rep, "opened %s", l->name);
		log_listener(LOG_INFO, ECHOD_MSGID_LISTENER_OPENED, &l->spec, "listening on %s%s",
		    l->name, wildcard_scope(&l->spec));
		return 0;
	}
	error = l == NULL ? errno : ENOMEM;
	if (l != NULL)
		listener_release(l);
	for (size_t i = 0; i < plan->ncurrent; i++)
		if (plan_overlaps(plan, j, i))
			forced[i] = true;
	report_open_failure(ctx, spec, error, rep, unserved);
	return -1;
}

static void
report_view(const struct listener *l, const struct listener_view *v, struct report *rep)
{
	if (!view_is_narrowed(v))
		return;
	if (v->n == 0)
		report_add(rep, "note: %s%s is in no configured listener: connections to it are "
		    "reset and datagrams dropped%s%s", l->name, l->passed ? " (passed by systemd)" :
		    "", l->passed ? "; to close it: " : "", l->passed ? APPLY_SYSTEMD_REBIND : "");
	else
		report_add(rep, "note: %s still serves only what the configuration lists on it%s%s",
		    l->name, l->passed ? "; to rebind it as listed: " : "",
		    l->passed ? APPLY_SYSTEMD_REBIND : "");
}

/* One of echod's sockets kept only because a wider listener spans it: say so. */
static void
report_kept_inside(const struct listener *l, const struct echod_config *cfg,
    struct report *rep)
{
	for (size_t j = 0; j < cfg->nlisteners; j++)
		if (listener_spec_same_port(&l->spec, &cfg->listeners[j]) &&
		    listener_spec_same(&l->spec, &cfg->listeners[j]))
			return;
	report_add(rep, "kept %s: a wider listener now spans it; it serves its addresses (no "
	    "connection is reset) until echod restarts", l->name);
}

/* Close or keep each socket open before; none shares its port any more. */
static void
settle_current(struct apply_ctx *ctx, const struct echod_config *cfg, const struct plan *plan,
    const bool *forced, struct report *rep)
{
	for (size_t i = plan->ncurrent; i-- > 0;) {
		struct listener *l = ctx->set->items[i];

		(void)listener_share_port(l, false);
		if (plan->fate[i] == PLAN_KEEP && !l->passed)
			report_kept_inside(l, cfg, rep);
		if (plan->fate[i] == PLAN_KEEP || (plan->fate[i] == PLAN_REPLACE && forced[i]))
			continue;
		log_info("closing %s: %s", l->name, plan->fate[i] == PLAN_CLOSE ?
		    "no longer configured" : "replaced");
		unwatch_and_release(ctx, i, rep);
	}
	for (size_t i = 0; i < ctx->set->count; i++)
		(void)listener_share_port(ctx->set->items[i], false);
}

int
apply_config(struct apply_ctx *ctx, const struct echod_config *cfg, struct report *rep,
    struct status_rows *unserved)
{
	size_t ncur;
	struct plan_socket *cur;
	bool *forced;
	struct plan plan;
	int failures = 0;

	retry_parked(ctx, rep);
	ncur = ctx->set->count;
	cur = calloc(ncur + 1, sizeof(*cur));
	forced = calloc(ncur + 1, sizeof(*forced));
	for (size_t i = 0; cur != NULL && i < ncur; i++) {
		const struct listener *l = ctx->set->items[i];

		cur[i] = (struct plan_socket){ &l->spec, l->passed };
	}
	if (cur == NULL || forced == NULL ||
	    plan_make(cur, ncur, cfg, host_has_ipv6(), &plan) == -1) {
		report_fail(rep, "out of memory: nothing changed");
		failures = 1;
		goto done;
	}
	/* New sockets first (appended after the current ones: indices below ncur stay). */
	for (size_t j = 0; j < plan.nwanted; j++)
		if (plan.how[j] != PLAN_SERVED &&
		    open_wanted(ctx, cfg, &plan, j, forced, rep, unserved) == -1)
			failures++;
	settle_current(ctx, cfg, &plan, forced, rep);
	plan_free(&plan);
done:
	free(cur);
	free(forced);
	return failures;
}

void
apply_publish(struct apply_ctx *ctx, struct generation *gen, struct report *rep)
{
	generation_publish(ctx->generations, gen);
	for (size_t i = 0; i < ctx->set->count; i++) {
		struct listener *l = ctx->set->items[i];
		const struct listener_view *v = generation_view(gen, l);

		if (l->parked)
			continue;
		if (!l->watched)
			watch(ctx, l);
		report_view(l, v != NULL ? v : &view_nothing, rep);
	}
}

/* Where the configured listeners a passed socket serves are ("file:line, file:line"). */
static void
configured_where(const struct listener *l, const struct echod_config *cfg, char *buf,
    size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < cfg->nlisteners && used < size; i++)
		if (listener_spec_overlap(&cfg->listeners[i], &l->spec))
			used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? ", " : "",
			    cfg->listeners[i].where);
}

static void
describe_one(const struct listener *l, const struct generation *gen,
    const struct echod_config *cfg, struct status_rows *out)
{
	const struct listener_view *v = generation_view(gen, l);
	char origin[96], state[512], where[512];
	size_t used;

	if (l->passed)
		snprintf(origin, sizeof(origin), "passed by systemd (%s)", l->spec.where);
	else
		snprintf(origin, sizeof(origin), "bound by echod");
	if (v == NULL) {
		snprintf(state, sizeof(state), "not served: %s", l->parked ? "being closed" :
		    "out of memory");
	} else if (!view_is_narrowed(v)) {
		snprintf(state, sizeof(state), "serving");
	} else if (v->n == 0) {
		snprintf(state, sizeof(state), "not served: not in the configuration");
	} else {
		used = (size_t)snprintf(state, sizeof(state), "serving");
		for (size_t i = 0; i < v->n && used < sizeof(state); i++) {
			char addr[ADDR_STRLEN];

			used += (size_t)snprintf(state + used, sizeof(state) - used, "%s%s",
			    i == 0 ? " " : ", ", local_part_format(&v->entry[i].part, addr,
			    sizeof(addr)));
		}
		if (used < sizeof(state))
			snprintf(state + used, sizeof(state) - used, " only (narrowed)");
	}
	if (l->passed)
		configured_where(l, cfg, where, sizeof(where));
	else
		snprintf(where, sizeof(where), "%s", l->spec.where);
	status_rows_add(out, l->name, origin, where, state);
}

void
apply_describe(const struct listener_set *set, const struct generation *gen,
    const struct echod_config *cfg, struct status_rows *out)
{
	for (size_t i = 0; gen != NULL && i < set->count; i++)
		describe_one(set->items[i], gen, cfg, out);
}
