/* SPDX-License-Identifier: MIT */
/* privdrop: started as root, become the configured user and group and keep no capability. */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privdrop.h"

static int __attribute__((format(printf, 4, 5)))
fail(char *err, size_t errlen, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	errno = error;
	return -1;
}

/* Not found and failed to look up are the same to the caller: it cannot be resolved. */
static int
lookup_failed(char *err, size_t errlen, const char *what, const char *name, int error)
{
	if (error == 0 || error == ENOENT || error == ESRCH || error == EBADF || error == EPERM)
		return fail(err, errlen, ENOENT, "no such %s '%s'", what, name);
	return fail(err, errlen, ENOENT, "cannot look up %s '%s': %s", what, name,
	    strerror(error));
}

/*
 * Every capability out of the bounding set: not even an exec could bring one
 * back. EINVAL: past the last capability this kernel knows. EPERM (root
 * without CAP_SETPCAP, in some containers) is not fatal: setresuid() empties
 * the other sets and no_new_privs already makes file capabilities inert.
 */
static int
drop_bounding_set(void)
{
	for (unsigned long cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		return errno == EINVAL || errno == EPERM ? 0 : -1;
	}
	return 0;
}

/*
 * After the uid switch, which empties only the effective, permitted and
 * ambient sets: a launcher may hand down an inheritable set (systemd-nspawn,
 * older Docker) or SECBIT_NO_SETUID_FIXUP, which keeps the permitted set
 * across the switch. Lowering every set needs no capability.
 */
static int
clear_capabilities(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) == -1)
		return -1;
	/* EINVAL: a kernel before 4.3 has no ambient set. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 && errno != EINVAL)
		return -1;
	return 0;
}

static int
capabilities_empty(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) == -1)
		return 0;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective != 0 || data[i].permitted != 0 || data[i].inheritable != 0)
			return 0;
	return 1;
}

/* The switch must be one way: any path back to root is a failure. */
static int
verify(uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1)
		return -1;
	if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid)
		return -1;
	if (setuid(0) != -1 || seteuid(0) != -1 || setgid(0) != -1)
		return -1;
	return capabilities_empty() ? 0 : -1;
}

int
privdrop_apply(const char *user, const char *group, char *err, size_t errlen)
{
	struct passwd *pw;
	struct group *gr;
	uid_t uid;
	gid_t gid;
	int pdeath = 0;

	if (geteuid() != 0)
		return 0;
	errno = 0;
	pw = getpwnam(user);
	if (pw == NULL)
		return lookup_failed(err, errlen, "user", user, errno);
	uid = pw->pw_uid;
	errno = 0;
	gr = getgrnam(group);
	if (gr == NULL)
		return lookup_failed(err, errlen, "group", group, errno);
	gid = gr->gr_gid;
	if (uid == 0 || gid == 0)
		return fail(err, errlen, EINVAL, "user '%s' and group '%s' must not be root's",
		    user, group);
	(void)prctl(PR_GET_PDEATHSIG, &pdeath, 0, 0, 0);
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1)
		return fail(err, errlen, errno, "cannot become group '%s': %s", group,
		    strerror(errno));
	if (drop_bounding_set() == -1)
		return fail(err, errlen, errno, "cannot empty the capability bounding set: %s",
		    strerror(errno));
	/* A launcher's securebits, best effort (needs CAP_SETPCAP, unlocked bits): see below. */
	(void)prctl(PR_SET_SECUREBITS, 0, 0, 0, 0);
	if (setresuid(uid, uid, uid) == -1)
		return fail(err, errlen, errno, "cannot become user '%s': %s", user,
		    strerror(errno));
	if (clear_capabilities() == -1)
		return fail(err, errlen, errno, "cannot empty the capability sets: %s",
		    strerror(errno));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return fail(err, errlen, errno, "cannot set no_new_privs: %s", strerror(errno));
	if (verify(uid, gid) == -1)
		return fail(err, errlen, EPERM, "root privileges still reachable as user '%s'",
		    user);
	/* Whoever started us asked to be followed in death; the identity change cleared it. */
	if (pdeath != 0)
		(void)prctl(PR_SET_PDEATHSIG, (unsigned long)pdeath, 0, 0, 0);
	return 1;
}
