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
#define MAX_CLIENTS_PER_UID 64   /* one user cannot take every connection (operators: root too) */
#define MAX_OUTPUT (16u << 20)   /* a client that does not read its answers is dropped */

struct client {
	int ep_kind;                 /* EP_CLIENT: first member */
	struct client *next;
	int fd;
	struct caller caller;
	struct reply_sink *sink;     /* replies to this connection (ctx: back to us) */
	char *in;                    /* bytes read, not yet a full line */
	size_t in_len, in_cap;
	bool skipping;               /* discarding the rest of an oversized line */
	char *out;
	size_t out_len, out_off, out_cap;
	bool dead;
	bool want_write;
	struct daemon *daemon;       /* for the sink's send */
};

static size_t n_clients;

static void client_queue_line(struct daemon *d, struct client *c, char *line);

static void identify(struct daemon *d, struct client *c)
{
	int r = caller_identify(&c->caller, d->policy);

	if (c->caller.unknown)
		return;  /* no tenant: ops_handle answers forbidden */
	if (r < 0)
		log_warning_errno(r, "uid %u (pid %d): cannot read every group; group rules "
				  "see only those read", (unsigned)c->caller.uid, (int)c->caller.pid);
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
	if (c->caller.unknown)  /* every request is answered forbidden (ops_handle) */
		log_notice("uid %u (pid %d) has no passwd entry: its requests are refused",
			   (unsigned)c->caller.uid, (int)c->caller.pid);
	if (daemon_epoll_add(d, fd, EPOLLIN | EPOLLRDHUP, c) < 0) {
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
			log_warning("refusing a connection: %s", n_clients >= MAX_CLIENTS ? "too many clients"
				    : strerror(errno));
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
	if (c->out_len - c->out_off + len > MAX_OUTPUT) {
		log_warning("client pid %d does not read its answers; dropping it", (int)c->caller.pid);
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

static void handle_line(struct daemon *d, struct client *c, const char *line, size_t len)
{
	struct api_request req;
	enum api_error_code code = API_ERR_NONE;
	struct error err;

	while (len && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return;
	memset(&req, 0, sizeof(req));
	if (api_request_parse(line, len, &req, &code, &err) < 0) {
		ops_reply(c->sink, api_response_error(req.tag_json, code ? code : API_ERR_BAD_REQUEST,
						      err.message));
		api_request_free(&req);
		return;
	}
	ops_handle(d, &c->caller, &req, c->sink);
	api_request_free(&req);
}

/* Read what the client sent and handle every complete line.  At most
 * READ_BUDGET bytes per event, so one flooding client cannot hold the loop
 * (the rest stays in the socket; epoll reports it again). */
#define READ_BUDGET (4 * READ_CHUNK)

static void read_input(struct daemon *d, struct client *c)
{
	for (size_t budget = READ_BUDGET; budget > 0;) {
		size_t start = 0;
		ssize_t n;
		char *nl;

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
			kill_client(d, c);
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				kill_client(d, c);
			return;
		}
		c->in_len += (size_t)n;
		budget = (size_t)n < budget ? budget - (size_t)n : 0;
		/* every complete line; the rest moves to the front once */
		while ((nl = memchr(c->in + start, '\n', c->in_len - start)) != NULL) {
			size_t len = (size_t)(nl - (c->in + start));

			if (c->skipping)
				c->skipping = false;
			else
				handle_line(d, c, c->in + start, len);
			start += len + 1;
			if (c->dead)
				return;
		}
		if (start) {
			memmove(c->in, c->in + start, c->in_len - start);
			c->in_len -= start;
		}
		if (c->in_len > API_MAX_LINE) {
			if (!c->skipping)
				ops_reply_error(c->sink, NULL, API_ERR_TOO_LARGE,
						"request line longer than %u bytes", API_MAX_LINE);
			c->skipping = true;
			c->in_len = 0;
		}
		/* keep the buffer from staying huge after one large line */
		if (c->in_len == 0 && c->in_cap > 4 * READ_CHUNK) {
			free(c->in);
			c->in = NULL;
			c->in_cap = 0;
		}
	}
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
	if (!c->dead && (events & EPOLLOUT))
		write_output(d, c);
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
		bool pending = c->out_off < c->out_len;
		if (pending != c->want_write) {
			struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | (pending ? EPOLLOUT : 0),
						  .data.ptr = c };

			epoll_ctl(d->epfd, EPOLL_CTL_MOD, c->fd, &ev);
			c->want_write = pending;
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
