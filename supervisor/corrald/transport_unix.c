/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/transport_unix.c — the Unix socket transport: accept,
 * learn the caller once per connection from SO_PEERCRED (never from the
 * request; caller.c says who that is), read lines (capped: an oversized line
 * is answered too_large and skipped), hand parsed requests to ops_handle()
 * with the connection's reply sink, queue and flush the replies.  Only bytes
 * and framing here: no operation knows about connections.  A connection that
 * misbehaves is closed; the daemon never is.  Connections are freed only at
 * the end of a loop iteration, so no epoll event can point at freed memory;
 * the sink outlives it while a reply (a submit's) still holds it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "supervisor/common/log.h"
#include "supervisor/common/macros.h"
#include "supervisor/corrald/corrald.h"

#define READ_CHUNK 65536
#define MAX_CLIENTS 4096
#define MAX_CLIENTS_PER_UID 64 /* one user cannot take every connection (operators: root too) */
#define MAX_OUTPUT (16u << 20) /* a client that does not read its answers is dropped */
/* Fairness (issue 16): each connection has at most REQUESTS_PER_TURN
 * requests handled per loop turn, round robin over the connections with
 * complete lines waiting; the rest stay buffered (and the socket unread).
 * A connection whose unread answers pass CONN_OUTPUT_SOFT, or whose uid's
 * unread answers over all its connections pass UID_OUTPUT_SOFT, has no
 * request handled until its client reads; a uid whose unread answers would
 * pass UID_OUTPUT_MAX (parked answers: wait, logs --follow) loses the
 * connection that would. */
#define REQUESTS_PER_TURN 4
#define CONN_OUTPUT_SOFT (1u << 20)
#define UID_OUTPUT_SOFT (8u << 20)
#define UID_OUTPUT_MAX (64u << 20)

struct client {
	int ep_kind; /* EP_CLIENT: first member */
	struct client *next;
	int fd;
	struct caller caller;
	struct reply_sink *sink; /* replies to this connection (ctx: back to us) */
	char *in;                /* bytes read, not yet a full line */
	size_t in_len, in_cap;
	bool skipping; /* discarding the rest of an oversized line */
	char *out;
	size_t out_len, out_off, out_cap;
	bool dead;
	bool eof;              /* the peer shut its side: answer what is buffered, then close */
	bool backlog;          /* complete lines wait in `in` for a later turn */
	uint32_t ep_events;    /* what epoll watches now */
	struct daemon *daemon; /* for the sink's send */
};

static size_t n_clients;

static void client_queue_line(struct daemon *d, struct client *c, char *line);

static void identify(struct daemon *d, struct client *c)
{
	int r = caller_identify(&c->caller, d->policy);

	if (c->caller.unknown)
		return; /* no tenant: ops_handle answers forbidden */
	if (r < 0)
		log_warning_errno(r,
				  "uid %u (pid %d): cannot read every group; group rules "
				  "see only those read",
				  (unsigned)c->caller.uid, (int)c->caller.pid);
}

static void sink_send(struct reply_sink *sink, char *line)
{
	struct client *c = sink->ctx;

	if (!c) {
		free(line);
		return;
	}
	client_queue_line(c->daemon, c, line);
}

static void sink_release(struct reply_sink *sink)
{
	free(sink);
}

static size_t clients_of_uid(const struct daemon *d, uid_t uid)
{
	size_t n = 0;

	for (const struct client *c = d->clients; c; c = c->next)
		if (!c->dead && c->caller.uid == uid)
			n++;
	return n;
}

/* Answers not yet read by uid's clients, over all its connections. */
static size_t unsent_of_uid(const struct daemon *d, uid_t uid)
{
	size_t n = 0;

	for (const struct client *c = d->clients; c; c = c->next)
		if (!c->dead && c->caller.uid == uid)
			n += c->out_len - c->out_off;
	return n;
}

/* No request of c is handled until its client reads some answers. */
static bool throttled(const struct daemon *d, const struct client *c)
{
	return c->out_len - c->out_off > CONN_OUTPUT_SOFT ||
		unsent_of_uid(d, c->caller.uid) > UID_OUTPUT_SOFT;
}

static void free_client(struct client *c);

/* A connection accepted from cred's process (takes fd). */
static int add_client(struct daemon *d, int fd, const struct ucred *cred)
{
	struct client *c = calloc(1, sizeof(*c));
	struct reply_sink *sink = calloc(1, sizeof(*sink));

	if (!c || !sink) {
		free(c);
		free(sink);
		close(fd);
		return -ENOMEM;
	}
	c->ep_kind = EP_CLIENT;
	c->fd = fd;
	c->daemon = d;
	c->caller.uid = cred->uid;
	c->caller.gid = cred->gid;
	c->caller.pid = cred->pid;
	sink->send = sink_send;
	sink->release = sink_release;
	sink->ctx = c;
	sink->refs = 1;
	c->sink = sink;
	n_clients++;
	identify(d, c);
	if (c->caller.unknown) /* every request is answered forbidden (ops_handle) */
		log_notice("uid %u (pid %d) has no passwd entry: its requests are refused",
			   (unsigned)c->caller.uid, (int)c->caller.pid);
	c->ep_events = EPOLLIN | EPOLLRDHUP;
	if (daemon_epoll_add(d, fd, c->ep_events, c) < 0) {
		int r = -errno;

		free_client(c);
		return r;
	}
	c->next = d->clients;
	d->clients = c;
	return 0;
}

void transport_unix_accept(struct daemon *d)
{
	for (;;) {
		struct ucred cred;
		socklen_t len = sizeof(cred);
		int r;
		_cleanup_close_ int fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warning("accept: %s", strerror(errno));
			return;
		}
		if (n_clients >= MAX_CLIENTS || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			log_warning("refusing a connection: %s",
				    n_clients >= MAX_CLIENTS ? "too many clients" : strerror(errno));
			continue;
		}
		if (cred.uid != 0 && clients_of_uid(d, cred.uid) >= MAX_CLIENTS_PER_UID) {
			static const char busy[] = "{\"ok\":false,\"error\":{\"code\":\"too_large\","
						   "\"message\":\"too many connections from this user\"}}\n";

			if (write(fd, busy, sizeof(busy) - 1) < 0) {
				/* it is being refused anyway */
			}
			continue;
		}
		r = add_client(d, TAKE_FD(fd), &cred);
		if (r < 0)
			log_warning_errno(r, "refusing a connection from uid %u", (unsigned)cred.uid);
	}
}

void transport_unix_reidentify_all(struct daemon *d)
{
	for (struct client *c = d->clients; c; c = c->next)
		identify(d, c);
}

static void kill_client(struct daemon *d, struct client *c)
{
	if (c->dead)
		return;
	c->dead = true;
	daemon_epoll_del(d, c->fd);
	ops_sink_gone(d, c->sink);
}

static void client_queue_line(struct daemon *d, struct client *c, char *line)
{
	size_t len;

	if (!line)
		return;
	if (c->dead) {
		free(line);
		return;
	}
	len = strlen(line);
	if (c->out_len - c->out_off + len > MAX_OUTPUT ||
	    unsent_of_uid(d, c->caller.uid) + len > UID_OUTPUT_MAX) {
		log_warning("client pid %d (uid %u) does not read its answers; dropping it",
			    (int)c->caller.pid, (unsigned)c->caller.uid);
		free(line);
		kill_client(d, c);
		return;
	}
	if (c->out_off && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *p;

		while (cap < c->out_len + len)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p) {
			free(line);
			kill_client(d, c);
			return;
		}
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, line, len);
	c->out_len += len;
	free(line);
}

/* false for an empty line (nothing to do: it does not count as a request) */
static bool handle_line(struct daemon *d, struct client *c, const char *line, size_t len)
{
	struct api_request req;
	enum api_error_code code = API_ERR_NONE;
	struct error err;

	while (len && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return false;
	memset(&req, 0, sizeof(req));
	if (api_request_parse(line, len, &req, &code, &err) < 0) {
		ops_reply(c->sink,
			  api_response_error(req.tag_json, code ? code : API_ERR_BAD_REQUEST, err.message));
		api_request_free(&req);
		return true;
	}
	ops_handle(d, &c->caller, &req, c->sink);
	api_request_free(&req);
	return true;
}

/* Handle up to max complete lines buffered in c->in (fewer when c becomes
 * throttled); c->backlog says whether complete lines are left. */
static void handle_lines(struct daemon *d, struct client *c, unsigned max)
{
	size_t start = 0;
	char *nl;
	unsigned handled = 0;

	while (!c->dead && (nl = memchr(c->in + start, '\n', c->in_len - start)) != NULL) {
		size_t len = (size_t)(nl - (c->in + start));

		if (handled >= max || throttled(d, c))
			break;
		if (c->skipping) {
			c->skipping = false;
		} else if (handle_line(d, c, c->in + start, len)) {
			handled++;
		}
		start += len + 1;
	}
	if (c->dead)
		return;
	if (start) {
		memmove(c->in, c->in + start, c->in_len - start);
		c->in_len -= start;
	}
	c->backlog = memchr(c->in, '\n', c->in_len) != NULL;
	if (c->in_len > API_MAX_LINE && !c->backlog) {
		if (!c->skipping)
			ops_reply_error(c->sink, NULL, API_ERR_TOO_LARGE, "request line longer than %u bytes",
					API_MAX_LINE);
		c->skipping = true;
		c->in_len = 0;
	}
	/* keep the buffer from staying huge after one large line */
	if (c->in_len == 0 && c->in_cap > 4 * READ_CHUNK) {
		free(c->in);
		c->in = NULL;
		c->in_cap = 0;
	}
	if (c->eof && !c->backlog)
		kill_client(d, c);
}

/* Read what the client sent, at most READ_BUDGET bytes per event, and
 * handle up to REQUESTS_PER_TURN lines; nothing more is read while lines
 * wait (the socket keeps the rest: the sender blocks, not corrald). */
#define READ_BUDGET (4 * READ_CHUNK)

static void read_input(struct daemon *d, struct client *c)
{
	for (size_t budget = READ_BUDGET; budget > 0 && !c->backlog && !c->eof;) {
		ssize_t n;

		if (c->in_cap - c->in_len < READ_CHUNK) {
			size_t cap = c->in_cap ? c->in_cap * 2 : READ_CHUNK * 2;
			char *p = realloc(c->in, cap);

			if (!p) {
				kill_client(d, c);
				return;
			}
			c->in = p;
			c->in_cap = cap;
		}
		n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
		if (n == 0) {
			c->eof = true;
			break;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				kill_client(d, c);
			if (errno == EAGAIN || c->dead)
				break;
			continue;
		}
		c->in_len += (size_t)n;
		budget = (size_t)n < budget ? budget - (size_t)n : 0;
		c->backlog = memchr(c->in + c->in_len - (size_t)n, '\n', (size_t)n) != NULL || c->backlog;
		if (c->in_len > API_MAX_LINE)
			break;
	}
	if (!c->dead)
		handle_lines(d, c, REQUESTS_PER_TURN);
}

bool transport_unix_has_backlog(const struct daemon *d)
{
	for (const struct client *c = d->clients; c; c = c->next)
		if (!c->dead && c->backlog && !throttled(d, c))
			return true;
	return false;
}

void transport_unix_serve_backlog(struct daemon *d)
{
	for (struct client *c = d->clients; c; c = c->next)
		if (!c->dead && c->backlog)
			handle_lines(d, c, REQUESTS_PER_TURN);
}

static void write_output(struct daemon *d, struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			kill_client(d, c);
			return;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
}

void transport_unix_event(struct daemon *d, struct client *c, uint32_t events)
{
	if (c->dead)
		return;
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		read_input(d, c);
	if (!c->dead && (events & EPOLLOUT)) {
		write_output(d, c);
		/* answers were read: a throttled client may go on */
		if (!c->dead && c->backlog)
			handle_lines(d, c, REQUESTS_PER_TURN);
	}
}

/* The sink may live on (a pending submit's reference): it forgets us. */
static void free_client(struct client *c)
{
	c->sink->ctx = NULL;
	c->sink->gone = true;
	ops_sink_unref(c->sink);
	close(c->fd);
	free(c->in);
	free(c->out);
	caller_clear(&c->caller);
	free(c);
	n_clients--;
}

void transport_unix_flush_all(struct daemon *d)
{
	struct client **pp = &d->clients;

	while (*pp) {
		struct client *c = *pp;

		if (!c->dead && c->out_off < c->out_len)
			write_output(d, c);
		if (c->dead) {
			*pp = c->next;
			free_client(c);
			continue;
		}
		/* read only when its lines are all handled: a backlog or a
		 * throttled client leaves its bytes in the socket */
		uint32_t want = (c->eof ? 0 : EPOLLRDHUP) | (c->out_off < c->out_len ? EPOLLOUT : 0) |
			(c->backlog || c->eof ? 0 : EPOLLIN);
		if (want != c->ep_events) {
			struct epoll_event ev = { .events = want, .data.ptr = c };

			epoll_ctl(d->epfd, EPOLL_CTL_MOD, c->fd, &ev);
			c->ep_events = want;
		}
		pp = &c->next;
	}
}

void transport_unix_close_all(struct daemon *d)
{
	while (d->clients) {
		struct client *c = d->clients;

		d->clients = c->next;
		if (!c->dead) {
			daemon_epoll_del(d, c->fd);
			ops_sink_gone(d, c->sink);
		}
		free_client(c);
	}
}
