/* SPDX-License-Identifier: MIT */
/* activation: takes the sockets systemd passed, tells what each is, matches them to the config. */
#ifndef ECHOD_ACTIVATION_H
#define ECHOD_ACTIVATION_H

#include <stdbool.h>

#include "config.h"
#include "listener.h"

/*
 * Call first, before echod opens any descriptor of its own. A launcher that
 * claims more sockets in LISTEN_FDS than it passed (LISTEN_FDS=2, only fd 3
 * open) would make activation_collect() take, and close, whatever echod has
 * opened since at fd 4. Trims LISTEN_FDS and LISTEN_FDNAMES to the
 * descriptors really open from fd 3 on, with a warning. Returns how many
 * remain, or -1 (errno: setenv() failed).
 */
int	activation_validate(void);

/*
 * Take every socket passed with LISTEN_FDS (the variables are unset after),
 * classify it, and append a listener for each usable one to out, described
 * as it is bound (spec.where: its FileDescriptorName); what each serves is
 * decided against the configuration later (apply.c). Unusable ones (not a
 * listening stream or a datagram socket of a supported family) are logged
 * and closed. The socket named "metrics" (FileDescriptorName=metrics, the
 * Prometheus endpoint's) is no echo listener: it is held for
 * activation_take_metrics_fd(). A datagram socket that cfg's stamp
 * listeners serve is taken as a stamp listener. Returns the number of
 * sockets passed, or -1.
 */
int	activation_collect(struct listener_set *out, const struct echod_config *cfg);

/*
 * The listening TCP socket systemd passed under the name "metrics" (made
 * non-blocking and close-on-exec), once: the caller owns it and later
 * calls get -1. -1 when none was passed (or before activation_collect()).
 */
int	activation_take_metrics_fd(void);

/*
 * Would activation_collect() find a usable "metrics" socket among those
 * passed (LISTEN_FDS, left in place)? What `echod -t` asks.
 */
bool	activation_passes_metrics(void);

/*
 * Would the sockets passed to this process (LISTEN_FDS, left in place for
 * activation_collect()) serve every address of the configured listener?
 * What `echod -t` asks before calling a privileged port unobtainable.
 */
bool	activation_provides(const struct listener_spec *configured);

#endif
