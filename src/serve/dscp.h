/* SPDX-License-Identifier: MIT */
/* dscp: DSCP names (RFC 2474, 2597, 3246, 4594) <-> values, and the sets dscp_allow lists. */
#ifndef ECHOD_DSCP_H
#define ECHOD_DSCP_H

#include <stdint.h>

#define DSCP_MAX	63
#define DSCP_CS6	48
#define DSCP_CS7	56
/*
 * The classes a reflector may send with unless configured otherwise: all but
 * CS6 and CS7, network control (RFC 4594 3.2), which a test sender on the
 * far side of an administrative boundary has no business asking for.
 */
#define DSCP_ALLOW_DEFAULT	(~(UINT64_C(1) << DSCP_CS6 | UINT64_C(1) << DSCP_CS7))

/* Bit d of a set: DSCP d. */
#define DSCP_BIT(d)	(UINT64_C(1) << (d))

/*
 * A DSCP written as a name ("ef", "af11".."af43", "cs0".."cs7", "default" or
 * "be", any case) or a decimal number 0..63. The value, or -1.
 */
int	dscp_parse(const char *text);
/* The name of d ("ef", "af21", "cs3", "default"), or NULL for a number without one. */
const char *dscp_name(int d);

#endif
