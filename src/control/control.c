/* SPDX-License-Identifier: MIT */
/* control: the local socket echodctl talks to (one command per connection, lines back). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "listener.h"
#include "log.h"

#define CONTROL_DEFAULT_PATH	"/run/echod/control"
/* A command is one short word; anything longer is not echodctl talking. */
#define CONTROL_LINE_MAX	128
/*
 * Clients at once: root's tools, not a crowd. When full, a new client takes
 * the place of the oldest one the server is not answering (see make_room()):
 * idle connections must never lock out echodctl, and with it ExecReload.
 */
#define CONTROL_MAX_CLIENTS	32
/* echodctl sends its command at once: a client silent this long is not echodctl working. */
#define CONTROL_READ_TIMEOUT_MS	5000
/* A reply that makes no progress this long has no reader left: the memory goes back. */
#define CONTROL_WRITE_TIMEOUT_MS 10000
#define CONTROL_NO_DEADLINE	UINT64_MAX

struct control_client {
	struct control *ctl;
	struct watcher w;
	char line[CONTROL_LINE_MAX];
	size_t len;
	bool answering;			/* command taken: no more reading */
	bool watching;			/* in the loop (not while the server works on it) */
	bool evicted;			/* fd closed; freed at the next control_tick() */
	uint64_t deadline_ms;		/* closed when the loop's clock passes it */
	char *out;			/* the reply, and how much of it went out */
	size_t out_len, out_sent;
	struct control_client *prev, *next;
};

struct control {
	struct loop *loop;
	struct watcher w;
	char *path;
	char *made_dir;			/* the directory control_open() made for it (NULL: none) */
	control_request_cb *cb;
	void *arg;
	struct control_client *clients;
	size_t nclients;
	int spare_fd;			/* given up to turn a client away when out of fds */
};

const char *
control_default_path(void)
{
	static char path[PATH_MAX];
	const char *dir = getenv("RUNTIME_DIRECTORY");
	size_t len;

	if (dir == NULL || dir[0] != '/')
		return CONTROL_DEFAULT_PATH;
	/* systemd joins several RuntimeDirectory= entries with ':': the first is echod's. */
	len = strcspn(dir, ":");
	snprintf(path, sizeof(path), "%.*s/control", (int)len, dir);
	return path;
}

static void
client_free(struct control_client *c)
{
	struct control *ctl = c->ctl;

	if (!c->evicted) {
		if (c->watching)
			loop_del(ctl->loop, &c->w);
		close(c->w.fd);
		ctl->nclients--;
	}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		ctl->clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	free(c->out);
	free(c);
}

static void client_cb(int fd, uint32_t events, void *arg);

/* Write what the socket takes; the rest when it says it can take more. */
static void
client_flush(struct control_client *c)
{
	while (c->out_sent < c->out_len) {
		ssize_t n = send(c->w.fd, c->out + c->out_sent, c->out_len - c->out_sent,
		    MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			/* Already waiting for EPOLLOUT (a later part of a long reply): wait again. */
			if (!c->watching && loop_add(c->ctl->loop, &c->w, c->w.fd, EPOLLOUT,
			    client_cb, c) == -1)
				break;
			c->watching = true;
			return;
		}
		if (n == -1)
			break;
		c->out_sent += (size_t)n;
		c->deadline_ms = loop_now(c->ctl->loop) + CONTROL_WRITE_TIMEOUT_MS;
	}
	client_free(c);
}

void
control_answer(struct control_client *c, const struct report *rep)
{
	size_t size = 32;
	char *p;

	for (size_t i = 0; i < rep->count; i++)
		size += strlen(rep->lines[i]) + 1;
	c->out = malloc(size);
	if (c->out == NULL) {
		client_free(c);
		return;
	}
	p = c->out;
	for (size_t i = 0; i < rep->count; i++)
		p += sprintf(p, "%s\n", rep->lines[i]);
	p += sprintf(p, "result: %s\n", rep->failed ? "failed" : "ok");
	c->out_len = (size_t)(p - c->out);
	c->answering = true;
	c->deadline_ms = loop_now(c->ctl->loop) + CONTROL_WRITE_TIMEOUT_MS;
	client_flush(c);
}

/* Read up to the first newline, then hand the command over (once). */
static void
client_read(struct control_client *c)
{
	char *nl;
	ssize_t n;

	do
		n = recv(c->w.fd, c->line + c->len, sizeof(c->line) - 1 - c->len, MSG_DONTWAIT);
	while (n == -1 && errno == EINTR);
	if (n == -1 && errno == EAGAIN)
		return;
	if (n <= 0) {
		client_free(c);
		return;
	}
	c->len += (size_t)n;
	c->line[c->len] = '\0';
	nl = strchr(c->line, '\n');
	if (nl == NULL && c->len < sizeof(c->line) - 1)
		return;
	if (nl == NULL) {
		struct report r = { .failed = true };

		report_add(&r, "error: command line longer than %d bytes", CONTROL_LINE_MAX - 1);
		control_answer(c, &r);
		report_clear(&r);
		return;
	}
	*nl = '\0';
	if (nl > c->line && nl[-1] == '\r')
		nl[-1] = '\0';
	/*
	 * The reply may take a while (a reload): out of the loop meanwhile, so
	 * that a client hanging up cannot free what the server will answer.
	 */
	loop_del(c->ctl->loop, &c->w);
	c->watching = false;
	c->answering = true;
	/* The server holds it now (a reload answers when the workers have applied it). */
	c->deadline_ms = CONTROL_NO_DEADLINE;
	c->ctl->cb(c, c->line, c->ctl->arg);
}

static void
client_cb(int fd, uint32_t events, void *arg)
{
	struct control_client *c = arg;

	/* Evicted earlier in this batch of events: its fd is closed, control_tick() frees it. */
	if (c->evicted)
		return;
	if (c->answering)
		client_flush(c);
	else
		client_read(c);
}

/*
 * Out of descriptors, a pending client would wake the loop again and again:
 * free the spare one, take the client and hang up on it, then keep a spare.
 */
static bool
turn_away(struct control *ctl, int fd)
{
	int cfd;

	if (ctl->spare_fd != -1)
		close(ctl->spare_fd);
	cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (cfd != -1)
		close(cfd);
	ctl->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return cfd != -1;
}

/* The server is working on its answer: it holds the pointer, nothing may free it. */
static bool
client_held(const struct control_client *c)
{
	return c->answering && c->out == NULL;
}

/*
 * Full: close the oldest client that has not sent a command yet, else the
 * oldest one still reading its reply (the list is newest first), never one
 * held by the server. Only its fd goes now: an event of it may still be
 * pending in this batch, so the memory waits for control_tick(), run after
 * the batch. False when every client waits for the server (a reload).
 */
static bool
make_room(struct control *ctl)
{
	struct control_client *c, *oldest = NULL, *oldest_idle = NULL;

	for (c = ctl->clients; c != NULL; c = c->next) {
		if (c->evicted || client_held(c))
			continue;
		oldest = c;
		if (!c->answering)
			oldest_idle = c;
	}
	if (oldest_idle != NULL)
		oldest = oldest_idle;
	if (oldest == NULL)
		return false;
	if (oldest->watching)
		loop_del(ctl->loop, &oldest->w);
	oldest->watching = false;
	close(oldest->w.fd);
	oldest->evicted = true;
	oldest->deadline_ms = 0;
	ctl->nclients--;
	log_debug("control socket full: closed its oldest client for a new one");
	return true;
}

static void
accept_cb(int fd, uint32_t events, void *arg)
{
	struct control *ctl = arg;
	struct control_client *c;
	int cfd;

	for (;;) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd == -1 && errno == EINTR)
			continue;
		if (cfd == -1 && (errno == EMFILE || errno == ENFILE)) {
			if (turn_away(ctl, fd))
				continue;
			return;
		}
		if (cfd == -1)
			return;
		if ((ctl->nclients >= CONTROL_MAX_CLIENTS && !make_room(ctl)) ||
		    (c = calloc(1, sizeof(*c))) == NULL) {
			close(cfd);
			continue;
		}
		c->ctl = ctl;
		c->deadline_ms = loop_now(ctl->loop) + CONTROL_READ_TIMEOUT_MS;
		if (loop_add(ctl->loop, &c->w, cfd, EPOLLIN, client_cb, c) == -1) {
			close(cfd);
			free(c);
			continue;
		}
		c->watching = true;
		c->next = ctl->clients;
		if (c->next != NULL)
			c->next->prev = c;
		ctl->clients = c;
		ctl->nclients++;
	}
}

uint64_t
control_tick(struct control *ctl, uint64_t now)
{
	struct control_client *c, *next;
	uint64_t wake = CONTROL_NO_DEADLINE;

	if (ctl == NULL)
		return wake;
	for (c = ctl->clients; c != NULL; c = next) {
		next = c->next;
		if (c->deadline_ms <= now)
			client_free(c);
		else if (c->deadline_ms < wake)
			wake = c->deadline_ms;
	}
	return wake;
}

/*
 * echod run by hand as root has no RuntimeDirectory= to make /run/echod:
 * make the last directory of the path (readable by all, like systemd's).
 */
static int
make_parent(const char *path, char **made)
{
	char dir[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return -1;
	*slash = '\0';
	if (mkdir(dir, 0755) == -1)
		return errno == EEXIST ? 0 : -1;
	/* Made here: handed to echod's user with the socket (handover.c). */
	*made = strdup(dir);
	return 0;
}

static int
control_bind(const char *path, char **made_dir)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, saved;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (listener_unlink_stale(path) == -1)
		return -1;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	/* 0600 from the start: never a moment in which anyone else could connect. */
	if (fchmod(fd, 0600) == -1)
		goto fail;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 &&
	    (errno != ENOENT || make_parent(path, made_dir) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1))
		goto fail;
	if (chmod(path, 0600) == -1 || listen(fd, CONTROL_MAX_CLIENTS) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

struct control *
control_open(const char *path, struct loop *loop, control_request_cb *cb, void *arg)
{
	struct control *ctl = calloc(1, sizeof(*ctl));
	int fd;

	if (ctl == NULL || (ctl->path = strdup(path)) == NULL) {
		free(ctl);
		errno = ENOMEM;
		return NULL;
	}
	ctl->loop = loop;
	ctl->cb = cb;
	ctl->arg = arg;
	ctl->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fd = control_bind(path, &ctl->made_dir);
	if (fd == -1 || loop_add(loop, &ctl->w, fd, EPOLLIN, accept_cb, ctl) == -1) {
		int saved = errno;

		if (fd != -1) {
			close(fd);
			(void)unlink(path);
		}
		if (ctl->spare_fd != -1)
			close(ctl->spare_fd);
		free(ctl->made_dir);
		free(ctl->path);
		free(ctl);
		errno = saved;
		return NULL;
	}
	return ctl;
}

const char *
control_path(const struct control *ctl)
{
	return ctl->path;
}

const char *
control_made_dir(const struct control *ctl)
{
	return ctl->made_dir;
}

void
control_free(struct control *ctl)
{
	if (ctl == NULL)
		return;
	while (ctl->clients != NULL)
		client_free(ctl->clients);
	loop_del(ctl->loop, &ctl->w);
	close(ctl->w.fd);
	/* After a switch away from root, only where handover.c could make it so. */
	if (unlink(ctl->path) == -1 && errno != ENOENT)
		log_warn("cannot remove the control socket %s: %s (the next start replaces it)",
		    ctl->path, strerror(errno));
	if (ctl->spare_fd != -1)
		close(ctl->spare_fd);
	free(ctl->made_dir);
	free(ctl->path);
	free(ctl);
}
