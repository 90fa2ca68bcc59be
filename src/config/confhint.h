/* SPDX-License-Identifier: MIT */
/* confhint: says more than libconfig about why a file could not be read or parsed. */
#ifndef ECHOD_CONFHINT_H
#define ECHOD_CONFHINT_H

#include <stddef.h>

/*
 * Why path cannot be read, asked again: libconfig keeps no errno (and what
 * it left may be isatty()'s ENOTTY). A directory says so. Static text.
 */
const char *confhint_read_failure(const char *path);

/*
 * libconfig's message for file:line into out, and, where the file shows a
 * common mistake, what it means: a unit on a number, [ { instead of ( {,
 * off/on, a missing comma between groups, an unquoted string; the name a
 * "duplicate setting name" leaves out and where it was first set.
 */
void	confhint_explain(const char *file, int line, const char *error, char *out,
	    size_t size);

#endif
