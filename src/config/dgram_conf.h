/* SPDX-License-Identifier: MIT */
/* dgram_conf: a configured listener's datagram handler, from its protocol and rules. */
#ifndef ECHOD_DGRAM_CONF_H
#define ECHOD_DGRAM_CONF_H

#include "config.h"
#include "dgram.h"

/*
 * The handler serving datagrams for spec: its ACL, udp_min_source_port,
 * limit class and reply (echo, echo reflecting DSCP, or the STAMP
 * reflector). Points into spec: lives as long as spec's configuration.
 */
void	dgram_conf_handler(struct dgram_handler *h, const struct listener_spec *spec);

#endif
