/* SPDX-License-Identifier: MIT */
/* confdir: the drop-in files of a configuration directory, in the order they are read. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "confdir.h"

static int
is_dropin_name(const char *name)
{
	size_t len = strlen(name);

	/* Hidden files are editors' and dpkg's leftovers (.swp, .dpkg-new is not *.conf). */
	return name[0] != '.' && len > 5 && strcmp(name + len - 5, ".conf") == 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
append(char ***files, size_t *n, const char *dir, const char *name)
{
	char *path, **grown;
	struct stat st;

	if (asprintf(&path, "%s/%s", dir, name) == -1)
		return -1;
	/* A dangling link or a subdirectory named x.conf is not a drop-in. */
	if (stat(path, &st) == -1 || !S_ISREG(st.st_mode)) {
		free(path);
		return 0;
	}
	grown = realloc(*files, (*n + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(path);
		return -1;
	}
	*files = grown;
	(*files)[(*n)++] = path;
	return 0;
}

int
confdir_list(const char *dir, char ***files, size_t *nfiles)
{
	struct dirent *de;
	DIR *d;
	int saved;

	*files = NULL;
	*nfiles = 0;
	d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((errno = 0, de = readdir(d)) != NULL)
		if (is_dropin_name(de->d_name) && append(files, nfiles, dir, de->d_name) == -1)
			goto fail;
	if (errno != 0)
		goto fail;
	closedir(d);
	/* Paths share the directory prefix: sorting them sorts the names. */
	if (*nfiles > 1)
		qsort(*files, *nfiles, sizeof(**files), by_name);
	return 0;
fail:
	saved = errno;
	closedir(d);
	confdir_free(*files, *nfiles);
	*files = NULL;
	*nfiles = 0;
	errno = saved;
	return -1;
}

void
confdir_free(char **files, size_t nfiles)
{
	for (size_t i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
}

char *
confdir_resolve(const char *main_file, const char *dir)
{
	const char *slash = strrchr(main_file, '/');
	char *path;

	if (dir[0] == '/' || slash == NULL)
		return strdup(dir);
	if (asprintf(&path, "%.*s/%s", (int)(slash - main_file), main_file, dir) == -1)
		return NULL;
	return path;
}
