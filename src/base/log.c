/* SPDX-License-Identifier: MIT */
/* log: formats entries and sends them to the journal or to stderr. */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "log.h"

/*
 * Where sd_journal_sendv() sends. When it does not exist, sd_journal_sendv()
 * drops the entry and returns 0 ("fail silently if the journal is not
 * available", systemd 252): look before relying on its answer.
 */
#define JOURNAL_SOCKET	"/run/systemd/journal/socket"

enum stderr_style { STYLE_PLAIN, STYLE_PREFIXED };

static struct {
	enum log_target target;		/* JOURNAL or STDERR once resolved */
	enum stderr_style style;
	bool stderr_journal;		/* stderr is a stream to journald */
	bool journal_missing;		/* no JOURNAL_SOCKET at start */
	int max_priority;
} logger = { LOG_TARGET_STDERR, STYLE_PLAIN, false, false, LOG_INFO };

/* Set once the journal refused an entry and that was said on stderr. */
static atomic_flag journal_fallback_said = ATOMIC_FLAG_INIT;

static const char *const level_names[] = {
	[LOG_ERR] = "err", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

/* systemd sets JOURNAL_STREAM to "dev:inode" of the stream it connected to stderr. */
static int
stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (env == NULL || sscanf(env, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

int
log_init(enum log_target target, int max_priority)
{
	struct stat st;

	logger.stderr_journal = stderr_is_journal();
	if (target == LOG_TARGET_AUTO)
		target = logger.stderr_journal ? LOG_TARGET_JOURNAL : LOG_TARGET_STDERR;
	logger.target = target;
	logger.journal_missing = target == LOG_TARGET_JOURNAL &&
	    (stat(JOURNAL_SOCKET, &st) == -1 || !S_ISSOCK(st.st_mode));
	logger.max_priority = max_priority;
	/*
	 * <N> prefixes mean something to journald, not to whoever reads `echod -t`
	 * or a failed start through a pipe: plain until log_running().
	 */
	logger.style = logger.stderr_journal ? STYLE_PREFIXED : STYLE_PLAIN;
	return 0;
}

void
log_running(void)
{
	int saved = errno;

	/* A service's stderr on a pipe goes to a log collector, which reads the priority. */
	if (!logger.stderr_journal && !isatty(STDERR_FILENO))
		logger.style = STYLE_PREFIXED;
	/* isatty() leaves ENOTTY behind: never let it stand in for a caller's reason. */
	errno = saved;
}

int
log_target_parse(const char *text, enum log_target *out)
{
	if (strcmp(text, "auto") == 0)
		*out = LOG_TARGET_AUTO;
	else if (strcmp(text, "journal") == 0)
		*out = LOG_TARGET_JOURNAL;
	else if (strcmp(text, "stderr") == 0)
		*out = LOG_TARGET_STDERR;
	else
		return -1;
	return 0;
}

int
log_level_parse(const char *text, int *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (level_names[i] != NULL && strcasecmp(text, level_names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	}
	return -1;
}

int
log_enabled(int priority)
{
	return priority <= logger.max_priority;
}

/* 0, or a negative errno when the journal did not take the entry. */
static int
send_journal(int priority, const char *message_id, const char *const *fields,
    const char *message)
{
	struct iovec iov[LOG_MAX_FIELDS + 4];
	char prio[16], msgid[48];
	char *msg;
	int n = 0, r;

	if (asprintf(&msg, "MESSAGE=%s", message) == -1)
		return -ENOMEM;
	snprintf(prio, sizeof(prio), "PRIORITY=%d", priority);
	iov[n++] = (struct iovec){ msg, strlen(msg) };
	iov[n++] = (struct iovec){ prio, strlen(prio) };
	iov[n++] = (struct iovec){ (char *)"SYSLOG_IDENTIFIER=echod", 23 };
	if (message_id != NULL) {
		snprintf(msgid, sizeof(msgid), "MESSAGE_ID=%s", message_id);
		iov[n++] = (struct iovec){ msgid, strlen(msgid) };
	}
	for (int i = 0; fields != NULL && fields[i] != NULL && i < LOG_MAX_FIELDS; i++)
		iov[n++] = (struct iovec){ (char *)fields[i], strlen(fields[i]) };
	r = sd_journal_sendv(iov, n);
	free(msg);
	return r < 0 ? r : 0;
}

/* One write(2) per line, so that lines from several threads never interleave. */
static void
send_stderr(int priority, const char *message)
{
	char line[2048];
	int len;

	if (logger.style == STYLE_PREFIXED)
		len = snprintf(line, sizeof(line), "<%d>%s\n", priority, message);
	else
		len = snprintf(line, sizeof(line), "echod: %s\n", message);
	if (len < 0)
		return;
	if ((size_t)len >= sizeof(line)) {
		len = sizeof(line) - 1;
		line[len - 1] = '\n';
	}
	(void)!write(STDERR_FILENO, line, (size_t)len);
}

static void
log_fallback_notice(int error)
{
	char message[256];

	snprintf(message, sizeof(message), "cannot log to the journal (%s: %s): logging to stderr",
	    JOURNAL_SOCKET, strerror(error));
	send_stderr(LOG_WARNING, message);
}

void
log_vstruct(int priority, const char *message_id, const char *const *fields,
    const char *fmt, va_list ap)
{
	char message[1536];
	int saved = errno;

	if (!log_enabled(priority))
		return;
	vsnprintf(message, sizeof(message), fmt, ap);
	if (logger.target == LOG_TARGET_JOURNAL) {
		int r = logger.journal_missing ? -ENOENT :
		    send_journal(priority, message_id, fields, message);

		if (r == 0) {
			errno = saved;
			return;
		}
		/* No journald (a container, early boot, a test): a lost error helps no one. */
		if (!atomic_flag_test_and_set(&journal_fallback_said))
			log_fallback_notice(-r);
	}
	send_stderr(priority, message);
	errno = saved;
}

void
log_struct(int priority, const char *message_id, const char *const *fields,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vstruct(priority, message_id, fields, fmt, ap);
	va_end(ap);
}

#define LOG_WRAPPER(name, priority)					\
void									\
name(const char *fmt, ...)						\
{									\
	va_list ap;							\
									\
	va_start(ap, fmt);						\
	log_vstruct(priority, NULL, NULL, fmt, ap);			\
	va_end(ap);							\
}

LOG_WRAPPER(log_err, LOG_ERR)
LOG_WRAPPER(log_warnx, LOG_WARNING)
LOG_WRAPPER(log_notice, LOG_NOTICE)
LOG_WRAPPER(log_info, LOG_INFO)
LOG_WRAPPER(log_debug, LOG_DEBUG)

void
log_warn(const char *fmt, ...)
{
	char message[1024];
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	log_struct(LOG_WARNING, NULL, NULL, "%s: %s", message, strerror(saved));
}
