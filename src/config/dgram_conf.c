/* SPDX-License-Identifier: MIT */
/* dgram_conf: a configured listener's datagram handler, from its protocol and rules. */
#include "dgram_conf.h"
#include "dgram_echo.h"
#include "udp_stamp.h"

void
dgram_conf_handler(struct dgram_handler *h, const struct listener_spec *spec)
{
	*h = (struct dgram_handler){
		.acl = &spec->acl,
		.min_source_port = spec->udp_min_source_port,
		.limit = SRCLIMIT_ECHO,
	};
	if (spec->proto == PROTO_STAMP) {
		udp_stamp_handler(h, spec->stamp.run, spec->stamp.key_path != NULL);
	} else if (spec->reflect_dscp) {
		h->reply = dgram_echo_reflect_dscp;
		h->ctx = &spec->dscp_allow;
	}
}
