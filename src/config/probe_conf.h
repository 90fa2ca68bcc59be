/* SPDX-License-Identifier: MIT */
/* probe_conf: a file's probes = ( ... ); into struct probe_spec, with file:line errors. */
#ifndef ECHOD_PROBE_CONF_H
#define ECHOD_PROBE_CONF_H

#include <libconfig.h>

#include "probe_spec.h"

/*
 * Where a problem goes, as "file:line" and a message: config.c's error list
 * (a callback, so that this module needs nothing of config's).
 */
typedef void probe_conf_error_cb(void *arg, const char *where, const char *msg);

/*
 * root's probes list (absent: nothing), appended to *probes (*n of them,
 * realloc()ed); path is the file being read (for a setting libconfig gives
 * no file). A name defined in an earlier file or earlier in this one is an
 * error naming both places. Each problem goes to err(arg, ...). Returns the
 * number of problems; a probe with any is left out. Resolves nothing.
 */
int	probe_conf_parse(const config_setting_t *root, const char *path,
	    struct probe_spec **probes, size_t *n, probe_conf_error_cb *err, void *arg);
/* What a configuration owns in one probe (config_free() calls it for each). */
void	probe_spec_free(struct probe_spec *spec);
/* The probe called name among n, or NULL. */
const struct probe_spec *probe_conf_find(const struct probe_spec *probes, size_t n,
	    const char *name);

#endif
