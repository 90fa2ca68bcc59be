/* SPDX-License-Identifier: MIT */
/* stamp_conf: what a stamp listener needs at run time: its key, its session table. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "stamp_conf.h"

/*
 * A key named without a directory is a systemd credential (LoadCredential=
 * in a drop-in): the service manager copies it, readable by echod only,
 * into $CREDENTIALS_DIRECTORY. Anything else is a path.
 */
static int
key_file(const char *name, char *buf, size_t size, const char **why)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");

	if (strchr(name, '/') != NULL) {
		snprintf(buf, size, "%s", name);
		return 0;
	}
	if (dir == NULL || dir[0] == '\0') {
		*why = "is a credential name (no '/'), but echod was given no credentials "
		    "(LoadCredential= in the unit)";
		return -1;
	}
	if (snprintf(buf, size, "%s/%s", dir, name) >= (int)size) {
		*why = "is too long";
		return -1;
	}
	return 0;
}

static const char *
key_error(int error)
{
	switch (error) {
	case EPERM:
		return "others may read it or its group may write it (chmod 0640, or 0600)";
	case EINVAL:
		return "it must hold one line of 32 to 128 hex digits (openssl rand -hex 32)";
	default:
		return strerror(error);
	}
}

/* The previous configuration's runtime for the same listener, if any. */
static const struct stamp_runtime *
previous(const struct listener_spec *spec, const struct echod_config *old)
{
	for (size_t i = 0; old != NULL && i < old->nlisteners; i++)
		if (old->listeners[i].proto == PROTO_STAMP &&
		    old->listeners[i].stamp.run != NULL &&
		    listener_spec_same(&old->listeners[i], spec))
			return old->listeners[i].stamp.run;
	return NULL;
}

/*
 * name's key into key: 0, or -1 with errno, and *why set when name is a
 * credential echod was not given (path then holds nothing).
 */
static int
key_read(const char *name, struct stamp_key *key, char *path, size_t size, const char **why)
{
	*why = NULL;
	if (key_file(name, path, size, why) == -1) {
		errno = ENOENT;
		return -1;
	}
	return stamp_key_load(path, key);
}

/* "file:line: KEYWORD ...: why" for a key key_read() could not read. */
static void
key_report(const char *keyword, const char *name, const char *path, const char *why,
    int error, const char *where, struct config_errors *errs)
{
	char msg[4096 + 256];

	if (why != NULL)
		snprintf(msg, sizeof(msg), "%s '%s' %s", keyword, name, why);
	else
		snprintf(msg, sizeof(msg), "%s %s: %s", keyword, path, key_error(error));
	config_errors_add(errs, where, msg);
}

int
stamp_conf_key_read(const char *name, const char *keyword, const char *where,
    struct stamp_key *key, struct config_errors *errs)
{
	char path[4096] = "";
	const char *why;
	int saved;

	if (key_read(name, key, path, sizeof(path), &why) == 0)
		return 0;
	saved = errno;
	key_report(keyword, name, path, why, saved, where, errs);
	errno = saved;
	return -1;
}

static int
load_key(struct listener_spec *spec, const struct stamp_runtime *before,
    struct stamp_runtime *run, struct config_errors *errs)
{
	char path[4096] = "";
	const char *why;

	if (key_read(spec->stamp.key_path, &run->key, path, sizeof(path), &why) == 0)
		return 0;
	/* Read as root at start; echod runs as its own user by the time of a reload. */
	if (errno == EACCES && before != NULL && before->reflector.key != NULL) {
		log_warnx("%s: cannot read %s now (permission denied): keeping the key read "
		    "before", spec->stamp.key_where, path);
		run->key = before->key;
		return 0;
	}
	key_report("stamp_auth_key", spec->stamp.key_path, path, why, errno,
	    spec->stamp.key_where, errs);
	return -1;
}

int
stamp_conf_probe_keys(const struct echod_config *cfg, struct config_errors *errs)
{
	struct stamp_key key;
	int r = 0;

	for (size_t i = 0; i < cfg->nprobes; i++)
		if (cfg->probes[i].key_path != NULL &&
		    stamp_conf_key_read(cfg->probes[i].key_path, "auth_key_file",
		    cfg->probes[i].key_where, &key, errs) == -1)
			r = -1;
	/* Only a check: the probe engine reads its own copy. */
	explicit_bzero(&key, sizeof(key));
	return r;
}

static int
make_sessions(struct listener_spec *spec, const struct stamp_runtime *before,
    struct stamp_runtime *run, struct config_errors *errs)
{
	char msg[256];

	run->sessions = spec->stamp.sessions;
	run->session_timeout = spec->stamp.session_timeout;
	/*
	 * The table is sized once (workers never allocate): another size or
	 * timeout is another table, and its sessions start again at zero.
	 */
	if (before != NULL && before->reflector.sessions != NULL &&
	    before->sessions == run->sessions && before->session_timeout == run->session_timeout) {
		run->reflector.sessions = stamp_sessions_ref(before->reflector.sessions);
		return 0;
	}
	run->reflector.sessions = stamp_sessions_new((size_t)run->sessions,
	    (uint32_t)run->session_timeout);
	if (run->reflector.sessions != NULL)
		return 0;
	snprintf(msg, sizeof(msg), "cannot make the stateful session table: %s",
	    strerror(errno));
	config_errors_add(errs, spec->where, msg);
	return -1;
}

static int
prepare_one(struct listener_spec *spec, const struct echod_config *old,
    struct config_errors *errs)
{
	const struct stamp_runtime *before = previous(spec, old);
	struct stamp_runtime *run = calloc(1, sizeof(*run));

	if (run == NULL) {
		config_errors_add(errs, spec->where, "out of memory");
		return -1;
	}
	spec->stamp.run = run;
	spec->stamp.release = stamp_conf_release;
	run->reflector.fmt = spec->stamp.format;
	run->reflector.tlvs = true;
	run->reflector.short_drop = spec->stamp.short_drop;
	run->reflector.dscp_allow = spec->dscp_allow;
	run->reflector.sync_src = spec->stamp.format == STAMP_TS_PTP ? STAMP_SYNC_PTP :
	    STAMP_SYNC_NTP;
	/* Both from the kernel's clock in software: SO_TIMESTAMPNS in, clock_gettime() out. */
	run->reflector.ts_in = STAMP_TSM_SW;
	run->reflector.ts_out = STAMP_TSM_SW;
	if (spec->stamp.key_path != NULL) {
		if (load_key(spec, before, run, errs) == -1)
			return -1;
		run->reflector.key = &run->key;
	}
	if (spec->stamp.stateful && make_sessions(spec, before, run, errs) == -1)
		return -1;
	return 0;
}

int
stamp_conf_prepare(struct echod_config *cfg, const struct echod_config *old,
    struct config_errors *errs)
{
	int r = 0;

	for (size_t i = 0; i < cfg->nlisteners; i++)
		if (cfg->listeners[i].proto == PROTO_STAMP &&
		    prepare_one(&cfg->listeners[i], old, errs) == -1)
			r = -1;
	return r;
}

void
stamp_conf_release(struct stamp_spec *spec)
{
	struct stamp_runtime *run = spec->run;

	if (run == NULL)
		return;
	stamp_sessions_free(run->reflector.sessions);
	/* Key material does not linger in freed memory. */
	explicit_bzero(&run->key, sizeof(run->key));
	free(run);
	spec->run = NULL;
	spec->release = NULL;
}
