/* SPDX-License-Identifier: MIT */
/* handover: files echod made as root, given to the user it becomes, so that it can remove them. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handover.h"
#include "log.h"

/* The directory part of path ("." for a bare name). */
static void
parent_of(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(dir, size, ".");
	else if (slash == path)
		snprintf(dir, size, "/");
	else
		snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

/* The permission bits st gives uid (in group gid): the owner's, the group's, or the others'. */
static mode_t
bits_for(const struct stat *st, uid_t uid, gid_t gid)
{
	if (st->st_uid == uid)
		return (st->st_mode >> 6) & 7;
	if (st->st_gid == gid)
		return (st->st_mode >> 3) & 7;
	return st->st_mode & 7;
}

bool
handover_removable(const char *path, uid_t uid, gid_t gid)
{
	char dir[PATH_MAX];
	struct stat d, f;

	parent_of(path, dir, sizeof(dir));
	if (stat(dir, &d) == -1 || lstat(path, &f) == -1)
		return false;
	/* unlink() needs write and search permission on the directory (unlink(2)). */
	if ((bits_for(&d, uid, gid) & 3) != 3)
		return false;
	/* In a sticky directory, only the file's or the directory's owner may. */
	return !(d.st_mode & S_ISVTX) || f.st_uid == uid || d.st_uid == uid;
}

void
handover_socket(const char *path, uid_t uid, gid_t gid, const char *user)
{
	char dir[PATH_MAX];

	if (lchown(path, uid, (gid_t)-1) == -1)
		log_debug("%s: cannot hand over to %s: %s", path, user, strerror(errno));
	if (handover_removable(path, uid, gid))
		return;
	parent_of(path, dir, sizeof(dir));
	log_warn("%s: once %s, echod cannot remove it when it stops (%s is not writable by "
	    "%s): the next start replaces it; echodctl says no echod runs there meanwhile",
	    path, user, dir, user);
}

void
handover_dir(const char *dir, uid_t uid, gid_t gid, const char *user)
{
	if (chown(dir, uid, gid) == -1)
		log_warn("%s: cannot hand over to %s: %s", dir, user, strerror(errno));
}
