/* SPDX-License-Identifier: MIT */
/* dgram_echo: the plain echo's datagram handler, reflecting the request's DSCP when allowed. */
#include <netinet/in.h>
#include <string.h>

#include "dgram_echo.h"
#include "dscp.h"

/*
 * The DSCP an echo goes back with: the request's if allow admits it, else
 * -1 (none: the socket's default, 0). The ECN bits are never copied (RFC
 * 3168: they belong to the path the request took). DSCP 0 needs no control
 * message, so the common case costs one walk of the few the kernel gave.
 */
static int
echo_dscp(struct msghdr *in, uint64_t allow)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(in); cm != NULL; cm = CMSG_NXTHDR(in, cm)) {
		int tos, d;

		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TOS)
			tos = *(const uint8_t *)CMSG_DATA(cm);	/* one octet, not an int */
		else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_TCLASS)
			memcpy(&tos, CMSG_DATA(cm), sizeof(tos));
		else
			continue;
		d = (tos & 0xff) >> 2;
		return d != 0 && (allow & DSCP_BIT(d)) != 0 ? d : -1;
	}
	return -1;
}

bool
dgram_echo_reflect_dscp(const void *ctx, const struct dgram_in *in, uint8_t *pkt, size_t *len,
    int *dscp, struct dgram_pending *p)
{
	(void)pkt;
	(void)len;
	(void)p;
	*dscp = echo_dscp(in->msg, *(const uint64_t *)ctx);
	return true;
}
