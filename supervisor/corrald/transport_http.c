/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/transport_http.c — corrald's HTTP listeners ([http]
 * listen, repeatable: IPv4, IPv6, Unix socket paths), served by
 * libmicrohttpd in external-poll mode: each listener's epoll fd sits in
 * corrald's epoll set and MHD_run() runs on the loop's thread, so the
 * operations see one thread as they do for the Unix socket.  Here: the
 * listeners, TLS, the limits (bodies, header memory, connections per
 * client, idle and slow clients), bearer tokens on every request but the
 * health checks (and /metrics unless [http] metrics_token), failed logins
 * counted per client address and refused with 429 past the limit.  One
 * request's life: transport_http_reply.c; a submit's files in its body
 * (multipart, tar): http_upload.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <nettle/memops.h>

#include "supervisor/common/log.h"
#include "supervisor/common/macros.h"
#include "supervisor/corrald/transport_http.h"

#define AUTH_SLOTS 64
#define AUTH_WINDOW_US (60u * 1000000u)
#define HEADER_MEMORY (32u << 10) /* request line and headers: more is 431 */

struct http_listener {
	int ep_kind; /* EP_HTTP: first member */
	struct daemon *d;
	struct MHD_Daemon *mhd;
	int epoll_fd;
	const char *unix_path;
};

struct auth_slot {
	char addr[INET6_ADDRSTRLEN + 2];
	uint64_t window_start_mono_us;
	uint32_t failures;
};

struct http_server {
	struct http_listener listeners[POLICY_HTTP_MAX_LISTEN];
	size_t n_listeners;
	struct http_conn *conns;
	bool resumed; /* run MHD before the loop sleeps */
	struct auth_slot auth[AUTH_SLOTS];
	char *tls_cert, *tls_key;
};

/* ---- failed logins ------------------------------------------------------ */

static struct auth_slot *auth_slot(struct http_server *s, const char *addr, bool create)
{
	struct auth_slot *oldest = &s->auth[0];
	uint64_t now = daemon_mono_us();

	for (size_t i = 0; i < AUTH_SLOTS; i++) {
		struct auth_slot *a = &s->auth[i];

		if (a->addr[0] && now - a->window_start_mono_us > AUTH_WINDOW_US)
			a->addr[0] = '\0';
		if (a->addr[0] && strcmp(a->addr, addr) == 0)
			return a;
		if (a->window_start_mono_us < oldest->window_start_mono_us)
			oldest = a;
	}
	if (!create)
		return NULL;
	snprintf(oldest->addr, sizeof(oldest->addr), "%s", addr);
	oldest->window_start_mono_us = now;
	oldest->failures = 0;
	return oldest;
}

/* *ok with c->caller set (the token's tenant and scope); else the
 * refusal (401, 429, 503) is queued. */
static enum MHD_Result authenticate(struct http_server *s, struct http_conn *c, bool *ok)
{
	struct daemon *d = c->d;
	const struct policy_http *cfg = policy_http(d->policy);
	const char *h = MHD_lookup_connection_value(c->mhd, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	struct auth_slot *a = auth_slot(s, c->addr, false);
	int r;

	*ok = false;
	if (a && a->failures >= cfg->auth_failures_per_minute)
		return transport_http_reply_error(c, 429, "too_many_failures", 60,
						  "too many failed logins from %s; try again in a minute",
						  c->addr);
	if (!h || strncmp(h, "Bearer ", 7) != 0)
		return transport_http_reply_error(c, 401, "unauthorized", 0,
						  "an API token is required: Authorization: Bearer TOKEN");
	r = op_token_authenticate(d, h + 7, strlen(h + 7), &c->caller);
	if (r == -EACCES) {
		a = auth_slot(s, c->addr, true);
		a->failures++;
		log_warning(
			"HTTP: refused a request from %s: unknown, revoked or expired API token (%u failures "
			"this minute)",
			c->addr, a->failures);
		return transport_http_reply_error(c, 401, "unauthorized", 0,
						  "the API token is unknown, revoked or expired");
	}
	if (r < 0)
		return transport_http_reply_error(c, 503, "storage_full", 10, "cannot check the token now");
	c->authenticated = true;
	*ok = true;
	return MHD_YES;
}

/* /metrics with [http] metrics_token: compared in constant time. */
static bool metrics_token_ok(const struct policy_http *cfg, struct http_conn *c)
{
	const char *h = MHD_lookup_connection_value(c->mhd, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	char want[65], got[65];

	if (!cfg->metrics_token)
		return true;
	if (!h || strncmp(h, "Bearer ", 7) != 0)
		return false;
	op_token_hash(cfg->metrics_token, strlen(cfg->metrics_token), want);
	op_token_hash(h + 7, strlen(h + 7), got);
	return memeql_sec(want, got, 64);
}

/* ---- a request ---------------------------------------------------------- */

static enum MHD_Result first_call(struct http_server *s, struct http_conn *c, const char *url,
				  const char *method)
{
	const struct policy_http *cfg = policy_http(c->d->policy);
	const char *length = MHD_lookup_connection_value(c->mhd, MHD_HEADER_KIND,
							 MHD_HTTP_HEADER_CONTENT_LENGTH);
	bool ok, upload = http_upload_wanted(c, url, method);
	enum MHD_Result r;

	if (strcmp(url, "/v1/healthz") == 0 || strcmp(url, "/v1/readyz") == 0)
		return MHD_YES;
	if (strcmp(url, "/metrics") == 0) {
		if (!metrics_token_ok(cfg, c))
			return transport_http_reply_error(
				c, 401, "unauthorized", 0,
				"/metrics needs the metrics token ([http] metrics_token)");
		return MHD_YES;
	}
	/* a submit with files in its body: its cap needs the caller's plan */
	if (!upload && length && strtoull(length, NULL, 10) > cfg->max_body_bytes)
		return transport_http_reply_error(c, 413, "too_large", 0,
						  "the body is larger than %llu bytes",
						  (unsigned long long)cfg->max_body_bytes);
	r = authenticate(s, c, &ok);
	return ok && upload ? http_upload_begin(c) : r;
}

static bool take_body(struct http_conn *c, const char *data, size_t len)
{
	uint64_t max = policy_http(c->d->policy)->max_body_bytes;

	if (c->too_large || c->body_len + len > max) {
		c->too_large = true;
		return true;
	}
	if (c->body_len + len + 1 > c->body_cap) {
		size_t cap = c->body_cap * 2 > c->body_len + len + 1 ? c->body_cap * 2
								     : c->body_len + len + 1;
		char *p = realloc(c->body, cap);

		if (!p)
			return false;
		c->body = p;
		c->body_cap = cap;
	}
	memcpy(c->body + c->body_len, data, len);
	c->body_len += len;
	c->body[c->body_len] = '\0';
	return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct http_listener *l = cls;
	struct http_server *s = l->d->http;
	struct http_conn *c = *con_cls;

	if (!c) {
		c = transport_http_reply_new(l->d, mc);
		if (!c)
			return MHD_NO;
		*con_cls = c;
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		return first_call(s, c, url, method);
	}
	if (*upload_data_size) {
		bool ok = c->phase != HC_NEW ||
			(c->upload ? http_upload_take(c, upload_data, *upload_data_size)
				   : take_body(c, upload_data, *upload_data_size));

		*upload_data_size = 0;
		return ok ? MHD_YES : MHD_NO;
	}
	if (c->phase == HC_ANSWERED)
		return MHD_YES;
	return transport_http_reply_serve(c, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
			 enum MHD_RequestTerminationCode why)
{
	struct http_listener *l = cls;
	struct http_server *s = l->d->http;
	struct http_conn *c = *con_cls;

	if (!c)
		return;
	metrics_http_request(l->d, c->route.route, c->status ? c->status : 499,
			     daemon_mono_us() - c->started_mono_us);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	*con_cls = NULL;
	transport_http_reply_done(c);
}

void transport_http_reply_resume(struct http_conn *c)
{
	c->d->http->resumed = true;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_debug("HTTP: %s", msg);
}

/* ---- listeners ---------------------------------------------------------- */

static int listen_socket(const struct policy_http_listen *l)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, fd, family;

	memset(&ss, 0, sizeof(ss));
	if (l->path) {
		struct sockaddr_un *un = (struct sockaddr_un *)&ss;
		struct stat st;

		family = un->sun_family = AF_UNIX;
		snprintf(un->sun_path, sizeof(un->sun_path), "%s", l->path);
		len = sizeof(*un);
		if (lstat(l->path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(l->path);
	} else if (strchr(l->host, ':')) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		family = in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(l->port);
		inet_pton(AF_INET6, l->host, &in6->sin6_addr);
		len = sizeof(*in6);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		family = in->sin_family = AF_INET;
		in->sin_port = htons(l->port);
		inet_pton(AF_INET, l->host, &in->sin_addr);
		len = sizeof(*in);
	}
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (family != AF_UNIX)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 128) < 0 ||
	    (l->path && chmod(l->path, 0666) < 0)) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

static int read_pem(const char *path, char **out)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = NULL;
	size_t n = 0, cap = 0;
	ssize_t got;

	if (fd < 0)
		return -errno;
	do {
		if (n + 4096 + 1 > cap) {
			char *p = realloc(buf, cap = n + 65536);

			if (!p || cap > (1u << 20)) {
				free(p ? p : buf);
				return p ? -EFBIG : -ENOMEM;
			}
			buf = p;
		}
		got = read(fd, buf + n, cap - n - 1);
		if (got > 0)
			n += (size_t)got;
	} while (got > 0 || (got < 0 && errno == EINTR));
	if (got < 0) {
		free(buf);
		return -errno;
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
}

static int start_listener(struct daemon *d, struct http_listener *l, const struct policy_http_listen *spec)
{
	const struct policy_http *cfg = policy_http(d->policy);
	struct http_server *s = d->http;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	int fd = listen_socket(spec);

	if (fd < 0)
		return log_error_errno(fd, "HTTP: listen on %s", spec->text);
	if (spec->host && strchr(spec->host, ':'))
		flags |= MHD_USE_IPv6;
	if (s->tls_cert)
		flags |= MHD_USE_TLS;
	l->ep_kind = EP_HTTP;
	l->d = d;
	l->unix_path = spec->path;
	l->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, l, MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->max_connections_per_ip,
				  MHD_OPTION_CONNECTION_TIMEOUT,
				  (unsigned)((cfg->connection_timeout_ms + 999) / 1000),
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HEADER_MEMORY,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, l, MHD_OPTION_EXTERNAL_LOGGER,
				  mhd_log, NULL, s->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END,
				  s->tls_cert, MHD_OPTION_HTTPS_MEM_KEY, s->tls_key, MHD_OPTION_END);
	if (!l->mhd) {
		close(fd);
		log_error("HTTP: cannot serve on %s (libmicrohttpd refused; TLS files valid?)", spec->text);
		return -EINVAL;
	}
	info = MHD_get_daemon_info(l->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	l->epoll_fd = info ? info->epoll_fd : -1;
	if (l->epoll_fd < 0 || daemon_epoll_add(d, l->epoll_fd, EPOLLIN, l) < 0)
		return log_error_errno(-EINVAL, "HTTP: add %s to the loop", spec->text);
	log_notice("HTTP API on %s%s", spec->text, s->tls_cert ? " (TLS)" : "");
	return 0;
}

int transport_http_start(struct daemon *d)
{
	const struct policy_http *cfg = policy_http(d->policy);
	int r;

	if (cfg->n_listen == 0)
		return 0;
	d->http = calloc(1, sizeof(*d->http));
	if (!d->http)
		return -ENOMEM;
	if (cfg->tls_cert) {
		if ((r = read_pem(cfg->tls_cert, &d->http->tls_cert)) < 0)
			return log_error_errno(r, "HTTP: read tls_cert %s", cfg->tls_cert);
		if ((r = read_pem(cfg->tls_key, &d->http->tls_key)) < 0)
			return log_error_errno(r, "HTTP: read tls_key %s", cfg->tls_key);
	}
	for (size_t i = 0; i < cfg->n_listen; i++) {
		r = start_listener(d, &d->http->listeners[i], &cfg->listen[i]);
		if (r < 0)
			return r;
		d->http->n_listeners++;
	}
	return 0;
}

void transport_http_event(struct daemon *d, void *listener)
{
	MHD_run(((struct http_listener *)listener)->mhd);
}

void transport_http_run(struct daemon *d)
{
	if (!d->http)
		return;
	d->http->resumed = false;
	for (size_t i = 0; i < d->http->n_listeners; i++) {
		MHD_UNSIGNED_LONG_LONG ms;

		/* a response queued in this run is written in the next: run
		 * again while libmicrohttpd has work now (a few times at most) */
		for (int run = 0; run < 4; run++) {
			MHD_run(d->http->listeners[i].mhd);
			if (MHD_get_timeout(d->http->listeners[i].mhd, &ms) != MHD_YES || ms > 0)
				break;
		}
	}
}

int transport_http_wait_ms(const struct daemon *d, int wait_ms)
{
	if (!d->http)
		return wait_ms;
	if (d->http->resumed || d->batch_open)
		return 0;
	for (size_t i = 0; i < d->http->n_listeners; i++) {
		MHD_UNSIGNED_LONG_LONG ms;

		if (MHD_get_timeout(d->http->listeners[i].mhd, &ms) == MHD_YES &&
		    (wait_ms < 0 || ms < (MHD_UNSIGNED_LONG_LONG)wait_ms))
			wait_ms = ms > INT32_MAX ? INT32_MAX : (int)ms;
	}
	return wait_ms;
}

void transport_http_stop(struct daemon *d)
{
	struct http_server *s = d->http;

	if (!s)
		return;
	/* MHD must not stop with suspended connections: answer them first */
	for (struct http_conn *c = s->conns; c; c = c->next) {
		c->sink->conn = NULL; /* later answers are dropped */
		if (!c->suspended)
			continue;
		if (!c->reply && c->phase != HC_ANSWERED)
			c->reply = api_response_error(NULL, API_ERR_SHUTTING_DOWN, "corrald is stopping");
		c->logs.failed = true; /* a log stream ends */
		c->suspended = false;
		MHD_resume_connection(c->mhd);
	}
	for (size_t i = 0; i < s->n_listeners; i++) {
		MHD_run(s->listeners[i].mhd);
		daemon_epoll_del(d, s->listeners[i].epoll_fd);
		MHD_stop_daemon(s->listeners[i].mhd);
		if (s->listeners[i].unix_path)
			unlink(s->listeners[i].unix_path);
	}
	free(s->tls_cert);
	free(s->tls_key);
	free(s);
	d->http = NULL;
}
