/* SPDX-License-Identifier: MIT */
/* stamp_conf: what a stamp listener needs at run time: its key, its session table. */
#ifndef ECHOD_STAMP_CONF_H
#define ECHOD_STAMP_CONF_H

#include "config.h"
#include "stamp.h"
#include "stamp_runtime.h"



/*
 * Read the key files and make the session tables of cfg's stamp listeners.
 * A listener that old (the configuration being replaced; NULL at start) has
 * too, stateful in both, keeps its sessions: a reload is not a restart for
 * the senders, unless stamp_sessions or stamp_session_timeout changed: then
 * a new table, and every session starts again at zero. A key file echod can no longer read (a reload after the
 * switch away from root) keeps the key it read before, with a warning.
 * 0, or -1 with a "file:line: ..." for each problem appended to errs.
 */
int	stamp_conf_prepare(struct echod_config *cfg, const struct echod_config *old,
	    struct config_errors *errs);
/*
 * Read a key as stamp_auth_key and a probe's auth_key_file name one: a path,
 * or without a '/' a systemd credential ($CREDENTIALS_DIRECTORY/name). 0, or
 * -1 with errno and "where: KEYWORD ...: why" appended to errs.
 */
int	stamp_conf_key_read(const char *name, const char *keyword, const char *where,
	    struct stamp_key *key, struct config_errors *errs);
/*
 * Every probe's auth_key_file can be read and holds a key (what start and
 * echod -t check, as root): 0, or -1 with a "file:line: ..." per problem.
 */
int	stamp_conf_probe_keys(const struct echod_config *cfg, struct config_errors *errs);
/*
 * Free what stamp_conf_prepare() made for one listener: spec->release,
 * which config_free() calls.
 */
void	stamp_conf_release(struct stamp_spec *spec);



#endif
