/* SPDX-License-Identifier: MIT */
/* confdir: the drop-in files of a configuration directory, in the order they are read. */
#ifndef ECHOD_CONFDIR_H
#define ECHOD_CONFDIR_H

#include <stddef.h>

/*
 * Every regular file named *.conf (not starting with '.') in dir, as
 * "dir/name", sorted by name with strcmp() (the C locale's order, whatever
 * the environment says: the generator and the daemon must agree). A missing
 * directory has no files. Returns 0 with *files (free with confdir_free()),
 * or -1 with errno (ENOTDIR: dir is not a directory).
 */
int	confdir_list(const char *dir, char ***files, size_t *nfiles);
void	confdir_free(char **files, size_t nfiles);

/* dir as written in the file, resolved against the main file's directory. NULL: ENOMEM. */
char	*confdir_resolve(const char *main_file, const char *dir);

#endif
