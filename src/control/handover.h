/* SPDX-License-Identifier: MIT */
/*
 * handover: the files echod made as root (Unix listener sockets, the control
 * socket and the directory it made for it) given to the user it becomes, so
 * that it can remove them when it stops; a warning, at start, for each one
 * that user will not be able to remove.
 */
#ifndef ECHOD_HANDOVER_H
#define ECHOD_HANDOVER_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * Make the socket file path uid's (the group stays), so that uid may remove
 * it where a sticky directory asks the file's owner; warn when uid will not
 * be able to remove it all the same (its directory not writable by uid).
 */
void	handover_socket(const char *path, uid_t uid, gid_t gid, const char *user);
/* A directory echod made (as RuntimeDirectory= does): uid's, so uid may empty it. */
void	handover_dir(const char *dir, uid_t uid, gid_t gid, const char *user);
/* May uid (in group gid) remove path: write and search on its directory, sticky rules? */
bool	handover_removable(const char *path, uid_t uid, gid_t gid);

#endif
