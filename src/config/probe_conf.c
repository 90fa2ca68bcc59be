/* SPDX-License-Identifier: MIT */
/* probe_conf: a file's probes = ( ... ); into struct probe_spec, with file:line errors. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "dscp.h"
#include "probe_conf.h"
#include "probe_target.h"
#include "stamp.h"

#define NAME_MAX_LEN	63

static const char *const probe_keys[] = {
	"name", "targets", "protocol", "port", "interval", "size", "dscp", "ssid",
	"auth_key_file", "skip_own", NULL
};

struct pctx {
	const char *path;
	probe_conf_error_cb *err;
	void *arg;
	int nerrors;
	struct probe_spec **probes;	/* every file's so far */
	size_t *n;
};

/* "file:line" of a setting; NULL when out of memory. */
static char *
where_of(const struct pctx *c, const config_setting_t *s)
{
	const char *file = config_setting_source_file(s);
	char *where;

	if (asprintf(&where, "%s:%u", file != NULL ? file : c->path,
	    config_setting_source_line(s)) == -1)
		return NULL;
	return where;
}

static void __attribute__((format(printf, 3, 4)))
perr(struct pctx *c, const config_setting_t *s, const char *fmt, ...)
{
	char msg[600], *where = where_of(c, s);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->nerrors++;
	c->err(c->arg, where != NULL ? where : c->path, msg);
	free(where);
}

static bool
is_int(const config_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_INT ||
	    config_setting_type(s) == CONFIG_TYPE_INT64;
}

/* An optional integer in [min, max]; *out keeps its default when absent. */
static void
get_int(struct pctx *c, const config_setting_t *g, const char *name, long min, long max,
    const char *why, long *out)
{
	const config_setting_t *s = config_setting_get_member(g, name);
	long long v;

	if (s == NULL)
		return;
	if (!is_int(s)) {
		perr(c, s, "%s must be an integer", name);
		return;
	}
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		perr(c, s, "%s %lld out of range %ld..%ld%s", name, v, min, max, why);
		return;
	}
	*out = (long)v;
}

/* An optional string member, or NULL (and an error if it is another type). */
static const char *
get_str(struct pctx *c, const config_setting_t *g, const char *name)
{
	const config_setting_t *s = config_setting_get_member(g, name);

	if (s == NULL)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		perr(c, s, "%s must be a string", name);
		return NULL;
	}
	return config_setting_get_string(s);
}

static void
check_keys(struct pctx *c, const config_setting_t *g)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *child = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(child);
		size_t k;

		for (k = 0; probe_keys[k] != NULL; k++)
			if (strcmp(name, probe_keys[k]) == 0)
				break;
		if (probe_keys[k] != NULL)
			continue;
		/* The sketch wrote the secret inline: say where it goes instead. */
		if (strcmp(name, "auth_key") == 0)
			perr(c, child, "a probe names its key's file, not the key: auth_key_file = "
			    "\"/etc/echod/probe.key\"; (the configuration is world-readable)");
		else
			perr(c, child, "unknown key '%s' in probe", name);
	}
}

/* Letters, digits, '.', '_' and '-': a word in a metric label, a log line, a column. */
static bool
name_valid(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && len <= NAME_MAX_LEN && strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == len;
}

/* name: required, well formed, not taken by a probe read before (this file's or another's). */
static void
parse_name(struct pctx *c, const config_setting_t *g, struct probe_spec *spec)
{
	const config_setting_t *s = config_setting_get_member(g, "name");
	const char *name = get_str(c, g, "name");
	const struct probe_spec *other;

	if (s == NULL) {
		perr(c, g, "probe has no name (name = \"dc1\";)");
		return;
	}
	if (name == NULL)
		return;
	if (!name_valid(name)) {
		perr(c, s, "probe name '%s' must be 1 to %d letters, digits, '.', '_' or '-'",
		    name, NAME_MAX_LEN);
		return;
	}
	if ((other = probe_conf_find(*c->probes, *c->n, name)) != NULL) {
		perr(c, s, "probe '%s' is already defined at %s", name, other->where);
		return;
	}
	if ((spec->name = strdup(name)) == NULL)
		perr(c, s, "out of memory");
}

/* protocol: "stamp" (the default), "udp" or "tcp"; with it, the default port. */
static void
parse_protocol(struct pctx *c, const config_setting_t *g, struct probe_spec *spec)
{
	const char *text = get_str(c, g, "protocol");
	long port;

	spec->proto = PROTO_STAMP;
	if (text != NULL && strcmp(text, "udp") == 0)
		spec->proto = PROTO_UDP;
	else if (text != NULL && strcmp(text, "tcp") == 0)
		spec->proto = PROTO_TCP;
	else if (text != NULL && strcmp(text, "stamp") != 0)
		perr(c, config_setting_get_member(g, "protocol"), "unknown probe protocol '%s' "
		    "(expected stamp, udp or tcp)", text);
	port = spec->proto == PROTO_STAMP ? STAMP_PORT : CONFIG_PROBE_ECHO_PORT;
	get_int(c, g, "port", 1, 65535, "", &port);
	spec->port = (int)port;
}

/* interval: seconds, an integer or a float. */
static void
parse_interval(struct pctx *c, const config_setting_t *g, struct probe_spec *spec)
{
	const config_setting_t *s = config_setting_get_member(g, "interval");
	double v;

	spec->interval = CONFIG_DEFAULT_PROBE_INTERVAL;
	if (s == NULL)
		return;
	if (config_setting_type(s) == CONFIG_TYPE_FLOAT)
		v = config_setting_get_float(s);
	else if (is_int(s))
		v = (double)config_setting_get_int64(s);
	else {
		perr(c, s, "interval must be a number of seconds (interval = 0.5;)");
		return;
	}
	/* Written so that a NaN fails too. */
	if (!(v >= CONFIG_PROBE_INTERVAL_MIN && v <= CONFIG_PROBE_INTERVAL_MAX)) {
		perr(c, s, "interval %g out of range %g..%g seconds", v, CONFIG_PROBE_INTERVAL_MIN,
		    CONFIG_PROBE_INTERVAL_MAX);
		return;
	}
	spec->interval = v;
}

/* dscp: a name or a number 0..63, as dscp_allow takes them. */
static void
parse_dscp(struct pctx *c, const config_setting_t *g, struct probe_spec *spec)
{
	const config_setting_t *s = config_setting_get_member(g, "dscp");
	char num[24];
	const char *text;

	if (s == NULL)
		return;
	if (is_int(s)) {
		snprintf(num, sizeof(num), "%lld", config_setting_get_int64(s));
		text = num;
	} else if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		text = config_setting_get_string(s);
	} else {
		perr(c, s, "dscp must be a DSCP name or number");
		return;
	}
	spec->dscp = dscp_parse(text);
	if (spec->dscp == -1) {
		spec->dscp = 0;
		perr(c, s, "dscp '%s' is not a DSCP (a number 0..63, or ef, af11..af43, cs0..cs7, "
		    "default, be)", text);
	}
}

/* ssid and auth_key_file: STAMP's alone. */
static void
parse_stamp_keys(struct pctx *c, const config_setting_t *g, struct probe_spec *spec)
{
	static const char *const keys[] = { "ssid", "auth_key_file" };
	const config_setting_t *s = config_setting_get_member(g, "auth_key_file");
	const char *key;

	if (spec->proto != PROTO_STAMP) {
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (config_setting_get_member(g, keys[i]) != NULL)
				perr(c, config_setting_get_member(g, keys[i]), "%s is for stamp "
				    "probes, not %s", keys[i], spec->proto == PROTO_UDP ? "udp" :
				    "tcp");
		return;
	}
	get_int(c, g, "ssid", 0, 65535, "", &spec->ssid);
	if ((key = get_str(c, g, "auth_key_file")) == NULL)
		return;
	if (key[0] == '\0') {
		perr(c, s, "auth_key_file is empty (leave it out for unauthenticated mode)");
		return;
	}
	spec->key_path = strdup(key);
	spec->key_where = where_of(c, s);
	if (spec->key_path == NULL || spec->key_where == NULL)
		perr(c, s, "out of memory");
}

/* size: STAMP's whole test packet (at least its base) or an echo payload (tcp: not empty). */
static void
parse_size(struct pctx *c, const config_setting_t *g, struct probe_spec *spec)
{
	bool auth = spec->key_path != NULL;
	long min = spec->proto == PROTO_UDP ? 0 : spec->proto == PROTO_TCP ? 1 :
	    auth ? STAMP_AUTH_LEN : STAMP_UNAUTH_LEN;
	char why[160] = "";

	spec->size = spec->proto == PROTO_STAMP ? min : CONFIG_DEFAULT_PROBE_SIZE;
	if (spec->proto == PROTO_STAMP)
		snprintf(why, sizeof(why), " (a STAMP test packet%s is at least its %s base, "
		    "RFC 8762 4.2)", auth ? " with auth_key_file" : "",
		    auth ? "authenticated" : "unauthenticated");
	else if (spec->proto == PROTO_TCP)
		snprintf(why, sizeof(why), " (an empty probe is a udp datagram: a stream has "
		    "nothing to echo)");
	get_int(c, g, "size", min, CONFIG_PROBE_SIZE_MAX, why, &spec->size);
}

/* Twice the same host and port in one probe would be measured twice under one label. */
static bool
target_repeated(const struct probe_spec *spec, const struct probe_target *t)
{
	for (size_t i = 0; i < spec->ntargets; i++)
		if (spec->targets[i].port == t->port &&
		    (t->literal && spec->targets[i].literal ?
		    addr_equal((const void *)&t->addr, (const void *)&spec->targets[i].addr) :
		    strcasecmp(spec->targets[i].host, t->host) == 0))
			return true;
	return false;
}

/* One element of targets, appended to spec->targets (room made by the caller). */
static void
parse_target(struct pctx *c, const config_setting_t *e, struct probe_spec *spec)
{
	struct probe_target t;
	char why[400];

	if (config_setting_type(e) != CONFIG_TYPE_STRING) {
		perr(c, e, "targets: every element must be a string (\"host\", \"host:port\", "
		    "\"[IPv6]:port\")");
		return;
	}
	if (probe_target_parse(config_setting_get_string(e), spec->port, &t, why,
	    sizeof(why)) == -1) {
		perr(c, e, "target %s", why);
		return;
	}
	if (target_repeated(spec, &t)) {
		perr(c, e, "target '%s' is listed twice in probe '%s'", t.text,
		    spec->name != NULL ? spec->name : "?");
		probe_target_free(&t);
		return;
	}
	if ((t.where = where_of(c, e)) == NULL) {
		perr(c, e, "out of memory");
		probe_target_free(&t);
		return;
	}
	spec->targets[spec->ntargets++] = t;
}

/* targets: a non-empty array of strings, each parsed with the probe's port as default. */
static void
parse_targets(struct pctx *c, const config_setting_t *g, struct probe_spec *spec)
{
	const config_setting_t *s = config_setting_get_member(g, "targets");
	int n;

	if (s == NULL) {
		perr(c, g, "probe has no targets (targets = [ \"192.0.2.1\", \"host.example\" ];)");
		return;
	}
	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		perr(c, s, "targets must be an array of strings: targets = [ \"192.0.2.1\", "
		    "\"[2001:db8::1]:862\", \"host.example\" ];");
		return;
	}
	n = config_setting_length(s);
	if (n == 0 || n > CONFIG_PROBE_TARGETS_MAX) {
		perr(c, s, "targets: %d targets, not 1..%d", n, CONFIG_PROBE_TARGETS_MAX);
		return;
	}
	if ((spec->targets = calloc((size_t)n, sizeof(*spec->targets))) == NULL) {
		perr(c, s, "out of memory");
		return;
	}
	for (int i = 0; i < n; i++)
		parse_target(c, config_setting_get_elem(s, (unsigned)i), spec);
}

/*
 * skip_own = false: probe this host's own addresses too (a test mesh on
 * loopback, which ownaddr counts as this host's; a check of the local stack).
 */
static void
parse_skip_own(struct pctx *c, const config_setting_t *g, struct probe_spec *spec)
{
	const config_setting_t *s = config_setting_get_member(g, "skip_own");

	if (s == NULL)
		return;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		perr(c, s, "skip_own must be true or false");
		return;
	}
	spec->probe_own = !config_setting_get_bool(s);
}

/* One group of the list; 0, or -1 if anything in it was wrong. */
static int
parse_probe(struct pctx *c, const config_setting_t *g, struct probe_spec *spec)
{
	int before = c->nerrors;

	if (!config_setting_is_group(g)) {
		perr(c, g, "each probe must be a group { name = ...; targets = [ ... ]; }");
		return -1;
	}
	check_keys(c, g);
	if ((spec->where = where_of(c, g)) == NULL) {
		perr(c, g, "out of memory");
		return -1;
	}
	parse_name(c, g, spec);
	parse_protocol(c, g, spec);
	parse_interval(c, g, spec);
	parse_dscp(c, g, spec);
	parse_stamp_keys(c, g, spec);
	parse_size(c, g, spec);
	parse_skip_own(c, g, spec);
	/* Last: a target without a port takes the probe's (protocol and port). */
	parse_targets(c, g, spec);
	return c->nerrors == before ? 0 : -1;
}

int
probe_conf_parse(const config_setting_t *root, const char *path, struct probe_spec **probes,
    size_t *nprobes, probe_conf_error_cb *err, void *arg)
{
	const config_setting_t *list = config_setting_get_member(root, "probes");
	struct pctx c = { path, err, arg, 0, probes, nprobes };
	struct probe_spec *grown;
	int n;

	if (list == NULL)
		return 0;
	if (!config_setting_is_list(list) && !config_setting_is_array(list)) {
		perr(&c, list, "probes must be a list: probes = ( { name = \"dc1\"; targets = "
		    "[ ... ]; }, ... );");
		return c.nerrors;
	}
	n = config_setting_length(list);
	grown = realloc(*probes, (*nprobes + (size_t)n + 1) * sizeof(*grown));
	if (grown == NULL) {
		perr(&c, list, "out of memory");
		return c.nerrors;
	}
	*probes = grown;
	for (int i = 0; i < n; i++) {
		struct probe_spec *spec = &(*probes)[*nprobes];

		memset(spec, 0, sizeof(*spec));
		if (parse_probe(&c, config_setting_get_elem(list, (unsigned)i), spec) == 0)
			(*nprobes)++;
		else
			probe_spec_free(spec);
	}
	return c.nerrors;
}

void
probe_spec_free(struct probe_spec *spec)
{
	for (size_t i = 0; i < spec->ntargets; i++)
		probe_target_free(&spec->targets[i]);
	free(spec->targets);
	free(spec->name);
	free(spec->where);
	free(spec->key_path);
	free(spec->key_where);
	memset(spec, 0, sizeof(*spec));
}

const struct probe_spec *
probe_conf_find(const struct probe_spec *probes, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(probes[i].name, name) == 0)
			return &probes[i];
	return NULL;
}
