/* SPDX-License-Identifier: MIT */
/* probe_conf: a file's probes = ( ... ); into struct probe_spec, with file:line errors. */
#ifndef ECHOD_PROBE_CONF_H
#define ECHOD_PROBE_CONF_H

#include <libconfig.h>

#include "config.h"

/*
 * root's probes list (absent: nothing), appended to cfg->probes; path is the
 * file being read (for a setting libconfig gives no file). A name defined in
 * an earlier file or earlier in this one is an error naming both places.
 * Each problem is appended to errs as "file:line: message". Returns the
 * number of problems; a probe with any is left out. Resolves nothing.
 */
int	probe_conf_parse(const config_setting_t *root, const char *path,
	    struct echod_config *cfg, struct config_errors *errs);
/* What a configuration owns in one probe (config_free() calls it for each). */
void	probe_spec_free(struct probe_spec *spec);
/* The probe called name, or NULL. */
const struct probe_spec *probe_conf_find(const struct echod_config *cfg, const char *name);

#endif
