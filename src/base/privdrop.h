/* SPDX-License-Identifier: MIT */
/* privdrop: started as root, become the configured user and group and keep no capability. */
#ifndef ECHOD_PRIVDROP_H
#define ECHOD_PRIVDROP_H

#include <stddef.h>

/*
 * Not root (effective uid not 0): does nothing and returns 0. Root: switches
 * to user and group for good (supplementary groups: group only; real, saved
 * and effective ids; every capability set empty, bounding, inheritable and
 * ambient included, whatever the launcher handed down; no_new_privs), then
 * checks that root cannot be regained. Call it before any thread exists.
 * The parent-death signal, which the kernel clears on an identity change, is
 * kept.
 * Returns 1 once done, or -1 with a message in err and errno: ENOENT (no
 * such user or group) or EINVAL (user or group is root's): a configuration
 * problem; anything else: a system call failed. Either way the caller must
 * not go on as root.
 */
int	privdrop_apply(const char *user, const char *group, char *err, size_t errlen);

#endif
