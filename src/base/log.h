/* SPDX-License-Identifier: MIT */
/* log: echod's logging API; the back end (journal or stderr) is chosen once in log_init(). */
#ifndef ECHOD_LOG_H
#define ECHOD_LOG_H

#include <stdarg.h>
#include <syslog.h>

enum log_target {
	LOG_TARGET_AUTO,	/* journal when stderr is connected to it, else stderr */
	LOG_TARGET_JOURNAL,
	LOG_TARGET_STDERR,
};

/* MESSAGE_IDs (generated once with systemd-id128 new; never change them). */
#define ECHOD_MSGID_START		"ebad947a41344322b5a68ca23627c15c"
#define ECHOD_MSGID_STOP		"17d16aa2104d4cda892f4f1310ff5f2d"
#define ECHOD_MSGID_RELOAD		"0985fbbf29eb4bd588b4a42c11d4c418"
#define ECHOD_MSGID_RELOAD_FAILED	"957048c8f2e844e190f662cd2be22984"
#define ECHOD_MSGID_LISTENER_OPENED	"6f4964d117174cbaa0404a19e7dbfa96"
#define ECHOD_MSGID_LISTENER_FAILED	"ce00cb20a6e540218b40bd49bf2ef139"
#define ECHOD_MSGID_STATS		"9cf4de04db8c4c37b56bee67389f06a9"
/*
 * The refusal log (refusal_log.h): the first refusal of a source for a
 * reason, the summary of the refusals counted since, and the count of
 * refusals no line told about (the line bound was hit, or the workers'
 * queue to the control thread was full).
 */
#define ECHOD_MSGID_REFUSED		"05f201104e1640d68fef835cf409241a"
#define ECHOD_MSGID_REFUSED_SUMMARY	"70a725cb9af945df823b5b04ec3d2335"
#define ECHOD_MSGID_REFUSALS_UNLOGGED	"43d77b955afa4bf08ba51780a7d6f4a2"

/* At most this many extra "KEY=value" fields per structured entry. */
#define LOG_MAX_FIELDS 32

/*
 * Choose the back end once. On stderr, lines are plain ("echod: message")
 * until log_running(), unless stderr is the journal's stream (<N> prefixes).
 * Journal entries the journal does not take go to stderr (said once there).
 */
int	log_init(enum log_target target, int max_priority);
/* Start-up is over: from now on, on a pipe or file, stderr lines carry <N> too. */
void	log_running(void);
int	log_target_parse(const char *text, enum log_target *out);
int	log_level_parse(const char *text, int *out);
int	log_enabled(int priority);

/*
 * The one structured entry point: priority, an optional MESSAGE_ID (NULL for
 * none), a NULL-terminated list of "KEY=value" journal fields (NULL for none),
 * and the message. The stderr back end prints only the message.
 */
void	log_struct(int priority, const char *message_id, const char *const *fields,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void	log_vstruct(int priority, const char *message_id, const char *const *fields,
	    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

/* log_warn() appends strerror(errno): call it right after the failing call. */
void	log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
