/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/webhook.c — result webhooks: when a task with a
 * callback_url ends, POST its TASK JSON there, signed (X-Corral-Signature:
 * HMAC-SHA256 of the body with [http] callback_secret), retried with
 * backoff (webhook_rules.h), at least once: the delivery state lives in the
 * store (store_callback.h), so a restart picks up what was not delivered.
 *
 * Never blocking the loop: libcurl's multi interface driven by this epoll
 * loop (curl_multi_socket_action): curl says which sockets to watch
 * (on_socket: EP_WEBHOOK entries in corrald's epoll) and when to call it
 * back (on_timer: webhook_next_event_mono_us feeds the loop's timerfd).
 * Name resolution uses curl's threaded resolver.  No redirects, http and
 * https only, no proxy from the environment, and the URL is checked
 * against the policy again before every attempt (the policy may have
 * changed since the submit).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <curl/curl.h>

#include "supervisor/common/log.h"
#include "supervisor/common/version.h"
#include "supervisor/corrald/corrald.h"
#include "supervisor/corrald/webhook_rules.h"
#include "supervisor/store/store_callback.h"

#define WEBHOOK_MAX_IN_FLIGHT 16
#define WEBHOOK_SCAN_US (5ull * 1000000)    /* look for due callbacks at least this often */
#define WEBHOOK_KICK_US (10ull * 1000)      /* ... and this soon after tasks ended */
#define WEBHOOK_LEASE_US (120ull * 1000000) /* a claimed attempt is due again after this */
#define WEBHOOK_TIMEOUT_MS 30000L           /* one attempt, connect to answer */
#define WEBHOOK_CONNECT_TIMEOUT_MS 10000L

/* A socket curl asked us to watch.  Never freed while corrald runs: a
 * removed one goes to a spare list (fd -1) and is reused, so an epoll event
 * still queued in this turn for a socket curl just closed points at live
 * memory, and is ignored. */
struct webhook_socket {
	int ep_kind; /* EP_WEBHOOK: first member */
	int fd;      /* -1: spare */
	struct webhook_socket *next_spare;
};

struct delivery {
	struct delivery *next;
	int64_t task_id;
	uint32_t attempt; /* this one, 1-based */
	CURL *easy;
	struct curl_slist *headers;
	char error[CURL_ERROR_SIZE];
};

struct webhook {
	CURLM *multi;
	uint64_t curl_timer_mono_us; /* 0 = none */
	uint64_t next_scan_mono_us;
	struct delivery *in_flight;
	size_t n_in_flight;
	struct webhook_socket *spare, *all[64]; /* every one made (to free at the end) */
	size_t n_all;
};

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct daemon *d = userp;
	struct webhook_socket *s = socketp;
	struct epoll_event ev = { 0 };

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			daemon_epoll_del(d, fd);
			curl_multi_assign(d->webhook->multi, fd, NULL);
			s->fd = -1;
			s->next_spare = d->webhook->spare;
			d->webhook->spare = s;
		}
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (s) {
		ev.data.ptr = s;
		if (epoll_ctl(d->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
			log_warning("webhook: watch socket %d: %s", fd, strerror(errno));
		return 0;
	}
	if (d->webhook->spare) {
		s = d->webhook->spare;
		d->webhook->spare = s->next_spare;
	} else if (d->webhook->n_all < sizeof(d->webhook->all) / sizeof(d->webhook->all[0]) &&
		   (s = calloc(1, sizeof(*s))) != NULL) {
		d->webhook->all[d->webhook->n_all++] = s;
	} else {
		return -1; /* the transfer fails, and is retried later */
	}
	s->ep_kind = EP_WEBHOOK;
	s->fd = fd;
	ev.data.ptr = s;
	if (daemon_epoll_add(d, fd, ev.events, s) < 0) {
		log_warning("webhook: watch socket %d: %s", fd, strerror(errno));
		s->fd = -1;
		s->next_spare = d->webhook->spare;
		d->webhook->spare = s;
		return -1;
	}
	curl_multi_assign(d->webhook->multi, fd, s);
	return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct daemon *d = userp;

	(void)multi;
	d->webhook->curl_timer_mono_us = timeout_ms < 0 ? 0
							: daemon_mono_us() + (uint64_t)timeout_ms * 1000 + 1;
	return 0;
}

static size_t discard(char *data, size_t size, size_t n, void *userp)
{
	(void)data;
	(void)userp;
	return size * n;
}

int webhook_start(struct daemon *d)
{
	struct webhook *w;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("webhook: libcurl would not start");
		return -EIO;
	}
	w = calloc(1, sizeof(*w));
	if (!w || !(w->multi = curl_multi_init())) {
		free(w);
		log_error("webhook: out of memory");
		return -ENOMEM;
	}
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, d);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, d);
	w->next_scan_mono_us = daemon_mono_us(); /* what a previous corrald left */
	d->webhook = w;
	return 0;
}

static void delivery_free(struct daemon *d, struct delivery *dl)
{
	struct delivery **p = &d->webhook->in_flight;

	while (*p && *p != dl)
		p = &(*p)->next;
	if (*p) {
		*p = dl->next;
		d->webhook->n_in_flight--;
	}
	curl_multi_remove_handle(d->webhook->multi, dl->easy);
	curl_easy_cleanup(dl->easy);
	curl_slist_free_all(dl->headers);
	free(dl);
}

void webhook_stop(struct daemon *d)
{
	struct error err;

	if (!d->webhook)
		return;
	/* attempts cut short are due again at once after a restart */
	while (d->webhook->in_flight) {
		struct delivery *dl = d->webhook->in_flight;

		if (store_callback_retry(d->store, dl->task_id, (int64_t)daemon_now_us(d),
					 "corrald stopped during the attempt", &err) < 0)
			log_task(LOG_LEVEL_WARNING, dl->task_id, "webhook: %s", err.message);
		delivery_free(d, dl);
	}
	curl_multi_cleanup(d->webhook->multi);
	for (size_t i = 0; i < d->webhook->n_all; i++)
		free(d->webhook->all[i]);
	free(d->webhook);
	d->webhook = NULL;
	curl_global_cleanup();
}

/* The attempt ended: delivered, or retried later, or given up. */
static void attempt_done(struct daemon *d, struct delivery *dl, CURLcode result)
{
	long status = 0;
	char why[STORE_CALLBACK_ERROR_MAX];
	uint64_t backoff;
	int64_t now = (int64_t)daemon_now_us(d);
	struct error err;
	int r;

	curl_easy_getinfo(dl->easy, CURLINFO_RESPONSE_CODE, &status);
	if (result == CURLE_OK && status >= 200 && status < 300) {
		log_task(LOG_LEVEL_INFO, dl->task_id, "webhook delivered (HTTP %ld, attempt %u)", status,
			 dl->attempt);
		metrics_webhook_attempt(d, "delivered");
		if (store_callback_settle(d->store, dl->task_id, true, now, "", &err) < 0)
			log_task(LOG_LEVEL_WARNING, dl->task_id, "webhook: record the delivery: %s",
				 err.message);
		return;
	}
	if (result != CURLE_OK)
		snprintf(why, sizeof(why), "%s", dl->error[0] ? dl->error : curl_easy_strerror(result));
	else if (status >= 300 && status < 400)
		snprintf(why, sizeof(why), "HTTP %ld: redirects are not followed", status);
	else
		snprintf(why, sizeof(why), "HTTP %ld", status);
	backoff = webhook_rules_backoff_us(policy_http(d->policy)->callback_backoff_ms, dl->attempt);
	metrics_webhook_attempt(d, backoff ? "retry" : "failed");
	if (!backoff) {
		log_task(LOG_LEVEL_WARNING, dl->task_id, "webhook failed for good after %u attempts: %s",
			 dl->attempt, why);
		r = store_callback_settle(d->store, dl->task_id, false, now, why, &err);
	} else {
		log_task(LOG_LEVEL_NOTICE, dl->task_id, "webhook attempt %u failed (%s): again in %.1f s",
			 dl->attempt, why, (double)backoff / 1e6);
		r = store_callback_retry(d->store, dl->task_id, now + (int64_t)backoff, why, &err);
		if (d->webhook->next_scan_mono_us > daemon_mono_us() + backoff)
			d->webhook->next_scan_mono_us = daemon_mono_us() + backoff;
	}
	if (r < 0)
		log_task(LOG_LEVEL_WARNING, dl->task_id, "webhook: record the attempt: %s", err.message);
}

static void collect(struct daemon *d)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(d->webhook->multi, &left))) {
		struct delivery *dl = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&dl);
		attempt_done(d, dl, msg->data.result);
		delivery_free(d, dl);
	}
}

/* The request of one attempt: the task's JSON, signed. */
static int prepare(struct daemon *d, struct delivery *dl, const struct store_callback *cb, char *why,
		   size_t size)
{
	const struct policy_http *h = policy_http(d->policy);
	char sig[WEBHOOK_RULES_SIGNATURE_SIZE], header[128], agent[64];
	_cleanup_free_ char *body = NULL;
	struct store_task st;
	struct error err;

	if (webhook_rules_url_check(h, cb->url, why, size) < 0 || !h->callback_secret) {
		if (!h->callback_secret)
			snprintf(why, size, "the policy has no [http] callback_secret");
		return -EPERM;
	}
	if (store_get_task(d->store, cb->task_id, &st, &err) < 0) {
		snprintf(why, size, "read the task: %.200s", err.message);
		return -ENOENT;
	}
	body = ops_task_json(d, &st);
	store_task_clear(&st);
	dl->easy = curl_easy_init();
	if (!body || !dl->easy) {
		snprintf(why, size, "out of memory");
		return -ENOMEM;
	}
	webhook_rules_signature(h->callback_secret, body, strlen(body), sig);
	snprintf(header, sizeof(header), "X-Corral-Signature: %s", sig);
	dl->headers = curl_slist_append(dl->headers, "Content-Type: application/json");
	dl->headers = curl_slist_append(dl->headers, header);
	snprintf(header, sizeof(header), "X-Corral-Task: %lld", (long long)cb->task_id);
	dl->headers = curl_slist_append(dl->headers, header);
	snprintf(header, sizeof(header), "X-Corral-Attempt: %u", dl->attempt);
	dl->headers = curl_slist_append(dl->headers, header);
	dl->headers = curl_slist_append(dl->headers, "Expect:");
	snprintf(agent, sizeof(agent), "corrald/%s", version_string());
	curl_easy_setopt(dl->easy, CURLOPT_URL, cb->url);
	curl_easy_setopt(dl->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(dl->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(dl->easy, CURLOPT_PROXY, "");
	curl_easy_setopt(dl->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(dl->easy, CURLOPT_TIMEOUT_MS, WEBHOOK_TIMEOUT_MS);
	curl_easy_setopt(dl->easy, CURLOPT_CONNECTTIMEOUT_MS, WEBHOOK_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(dl->easy, CURLOPT_USERAGENT, agent);
	curl_easy_setopt(dl->easy, CURLOPT_HTTPHEADER, dl->headers);
	curl_easy_setopt(dl->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(dl->easy, CURLOPT_COPYPOSTFIELDS, body);
	curl_easy_setopt(dl->easy, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(dl->easy, CURLOPT_ERRORBUFFER, dl->error);
	curl_easy_setopt(dl->easy, CURLOPT_PRIVATE, dl);
	return 0;
}

static bool in_flight(const struct daemon *d, int64_t task_id)
{
	for (const struct delivery *dl = d->webhook->in_flight; dl; dl = dl->next)
		if (dl->task_id == task_id)
			return true;
	return false;
}

/* Claim one due callback and start its attempt. */
static void start(struct daemon *d, const struct store_callback *cb)
{
	int64_t now = (int64_t)daemon_now_us(d);
	struct delivery *dl;
	char why[STORE_CALLBACK_ERROR_MAX];
	struct error err;
	int r = store_callback_claim(d->store, cb->task_id, now, now + (int64_t)WEBHOOK_LEASE_US, &err);

	if (r < 0) {
		if (r != -ESTALE)
			log_task(LOG_LEVEL_WARNING, cb->task_id, "webhook: claim: %s", err.message);
		return;
	}
	dl = calloc(1, sizeof(*dl));
	if (!dl)
		return; /* due again when the lease ends */
	dl->task_id = cb->task_id;
	dl->attempt = cb->attempts + 1;
	r = prepare(d, dl, cb, why, sizeof(why));
	if (r == 0 && curl_multi_add_handle(d->webhook->multi, dl->easy) != CURLM_OK) {
		snprintf(why, sizeof(why), "libcurl refused the transfer");
		r = -EIO;
	}
	if (r < 0) {
		log_task(LOG_LEVEL_WARNING, cb->task_id, "webhook not sent: %s", why);
		metrics_webhook_attempt(d, "failed");
		if (store_callback_settle(d->store, cb->task_id, false, now, why, &err) < 0)
			log_task(LOG_LEVEL_WARNING, cb->task_id, "webhook: %s", err.message);
		curl_easy_cleanup(dl->easy);
		curl_slist_free_all(dl->headers);
		free(dl);
		return;
	}
	dl->next = d->webhook->in_flight;
	d->webhook->in_flight = dl;
	d->webhook->n_in_flight++;
}

static void scan(struct daemon *d)
{
	struct store_callback_list due;
	struct error err;
	size_t room = WEBHOOK_MAX_IN_FLIGHT - d->webhook->n_in_flight;

	d->webhook->next_scan_mono_us = daemon_mono_us() + WEBHOOK_SCAN_US;
	if (!room || d->shutting_down)
		return;
	if (store_callback_due(d->store, (int64_t)daemon_now_us(d), room + d->webhook->n_in_flight, &due,
			       &err) < 0) {
		log_warning("webhook: look for due callbacks: %s", err.message);
		return;
	}
	for (size_t i = 0; i < due.count && d->webhook->n_in_flight < WEBHOOK_MAX_IN_FLIGHT; i++)
		if (!in_flight(d, due.items[i].task_id))
			start(d, &due.items[i]);
	store_callback_list_free(&due);
}

void webhook_event(struct daemon *d, struct webhook_socket *s, uint32_t events)
{
	int running = 0, flags = 0;

	if (!d->webhook || s->fd < 0)
		return;
	if (events & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(d->webhook->multi, s->fd, flags, &running);
	collect(d);
}

void webhook_kick(struct daemon *d)
{
	uint64_t soon = daemon_mono_us() + WEBHOOK_KICK_US;

	if (d->webhook && d->webhook->next_scan_mono_us > soon)
		d->webhook->next_scan_mono_us = soon;
}

void webhook_tick(struct daemon *d)
{
	uint64_t now = daemon_mono_us();
	int running = 0;

	if (!d->webhook)
		return;
	if (d->webhook->curl_timer_mono_us && now >= d->webhook->curl_timer_mono_us) {
		d->webhook->curl_timer_mono_us = 0;
		curl_multi_socket_action(d->webhook->multi, CURL_SOCKET_TIMEOUT, 0, &running);
		collect(d);
	}
	if (now >= d->webhook->next_scan_mono_us)
		scan(d);
}

uint64_t webhook_next_event_mono_us(const struct daemon *d)
{
	uint64_t next;

	if (!d->webhook)
		return 0;
	next = d->webhook->next_scan_mono_us;
	if (d->webhook->curl_timer_mono_us && d->webhook->curl_timer_mono_us < next)
		next = d->webhook->curl_timer_mono_us;
	return next;
}
