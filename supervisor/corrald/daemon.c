/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/daemon.c — corrald's start-up and its one event loop: epoll over
 * a signalfd, a timerfd (CPU polls, deadlines, wait timeouts), the listening
 * socket, client connections and the pidfds of running jails.  No thread per
 * task.  Also the clock (with a test offset) and sd_notify.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/common/version.h"
#include "supervisor/corrald/corrald.h"
#include "supervisor/common/log.h"

static const int ep_timer = EP_TIMER, ep_signal = EP_SIGNAL, ep_listen = EP_LISTEN;

/* A `logs --follow` (corral submit --wait) sees new output within this,
 * not only at the next poll_interval (default 1 s). */
#define LOGS_FOLLOW_CHECK_US 200000u

uint64_t daemon_now_us(const struct daemon *d)
{
	struct timespec ts;

	if (d->clock.now_us)
		return d->clock.now_us(d->clock.ctx);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t daemon_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void daemon_month(const struct daemon *d, uint64_t epoch_us, char out[8])
{
	time_t t = (time_t)(epoch_us / 1000000);
	struct tm tm;

	(void)d;
	gmtime_r(&t, &tm);
	strftime(out, 8, "%Y-%m", &tm);
}

int daemon_epoll_add(struct daemon *d, int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

void daemon_epoll_del(struct daemon *d, int fd)
{
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, fd, NULL);
}

void daemon_rearm_timer(struct daemon *d)
{
	struct itimerspec its;
	uint64_t next = task_watch_next_event_mono_us(d);
	uint64_t now, logs_check = daemon_mono_us() + LOGS_FOLLOW_CHECK_US;

	if (d->next_poll_mono_us && d->next_poll_mono_us < logs_check)
		logs_check = d->next_poll_mono_us;
	for (struct waiter *w = d->waiters; w; w = w->next) {
		uint64_t at = w->expires_mono_us;

		if (w->logs && (at == 0 || at > logs_check))
			at = logs_check;
		if (at && (next == 0 || at < next))
			next = at;
	}
	if (webhook_next_event_mono_us(d) && (next == 0 || webhook_next_event_mono_us(d) < next))
		next = webhook_next_event_mono_us(d);
	if (node_next_event_mono_us(d) && (next == 0 || node_next_event_mono_us(d) < next))
		next = node_next_event_mono_us(d);
	if (cluster_next_event_mono_us(d) && (next == 0 || cluster_next_event_mono_us(d) < next))
		next = cluster_next_event_mono_us(d);
	if (d->shutting_down && (next == 0 || d->drain_deadline_mono_us < next))
		next = d->drain_deadline_mono_us;
	/* the next retention sweep */
	if (!d->shutting_down && (next == 0 || d->next_retention_mono_us < next))
		next = d->next_retention_mono_us;
	/* a requeued task's backoff ends: dispatch again */
	if (d->next_retry_mono_us && !d->shutting_down && (next == 0 || d->next_retry_mono_us < next))
		next = d->next_retry_mono_us;
	memset(&its, 0, sizeof(its));
	if (next) {
		now = daemon_mono_us();
		if (next <= now)
			next = now + 1;
		its.it_value.tv_sec = (time_t)(next / 1000000);
		its.it_value.tv_nsec = (long)(next % 1000000) * 1000;
	}
	timerfd_settime(d->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void notify_systemd(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd;

	if (!path || !*path || strlen(path) >= sizeof(addr.sun_path))
		return;
	memcpy(addr.sun_path, path, strlen(path));
	if (addr.sun_path[0] == '@')
		addr.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), 0, (struct sockaddr *)&addr, len) < 0)
		log_warning("sd_notify %s: %s", state, strerror(errno));
	close(fd);
}

int daemon_policy_report(const char *path, int r, const struct policy_errors *errors, char **errors_text)
{
	if (errors_text)
		*errors_text = NULL;
	if (r < 0) {
		char line[1024];
		size_t size = 0;
		FILE *text = errors_text ? open_memstream(errors_text, &size) : NULL;

		for (size_t i = 0; i < errors->count; i++) {
			policy_error_format(&errors->items[i], line, sizeof(line));
			log_error("%s", line);
			if (text)
				fprintf(text, "%s%s", i ? "\n" : "", line);
		}
		if (errors->omitted) {
			log_error("... and %zu more errors", errors->omitted);
			if (text)
				fprintf(text, "\n... and %zu more errors", errors->omitted);
		}
		if (!errors->count) {
			log_error("cannot load policy %s: %s", path, strerror(-r));
			if (text)
				fprintf(text, "cannot load policy %s: %s", path, strerror(-r));
		}
		if (text)
			fclose(text);
	}
	return r;
}

/* Load a policy file; on failure log every error and, if errors_text is
 * not NULL, return them joined by newlines (malloc'd). */
static int load_policy(const char *path, struct policy **out, char **errors_text)
{
	struct policy_errors errors = { 0 };
	int r = daemon_policy_report(path, policy_load(path, out, &errors), &errors, errors_text);

	policy_errors_free(&errors);
	return r;
}

static int make_dirs(const char *path, mode_t mode)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Is a live corrald answering on this socket? (ping within 100 ms) */
static bool socket_is_alive(const struct sockaddr_un *addr)
{
	static const char ping[] = "{\"op\":\"ping\"}\n";
	struct pollfd pfd;
	char buf[64];
	bool alive = false;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return false;
	if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0 &&
	    write(fd, ping, sizeof(ping) - 1) == (ssize_t)sizeof(ping) - 1) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		alive = poll(&pfd, 1, 100) == 1 && read(fd, buf, sizeof(buf)) > 0;
	}
	close(fd);
	return alive;
}

static int open_socket(struct daemon *d)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char dir[4096], *slash;
	int fd;

	if (strlen(d->socket_path) >= sizeof(addr.sun_path)) {
		log_error("socket path %s is too long", d->socket_path);
		return -ENAMETOOLONG;
	}
	snprintf(dir, sizeof(dir), "%s", d->socket_path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (make_dirs(dir, 0755) < 0) {
			log_error("create socket directory %s: %s", dir, strerror(errno));
			return -errno;
		}
	}
	strcpy(addr.sun_path, d->socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* a socket that answers ping belongs to a live corrald (another state
	 * dir); a listener that accepts but never answers is a dying one's fd
	 * still held by a jail being cloned: give it up to 2 s */
	for (int tries = 0; socket_is_alive(&addr); tries++) {
		if (tries >= 20) {
			close(fd);
			log_error("socket %s is in use by another corrald", d->socket_path);
			return -EADDRINUSE;
		}
		usleep(100000);
	}
	unlink(d->socket_path); /* a stale socket */
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || chmod(d->socket_path, 0666) < 0 ||
	    listen(fd, 512) < 0) {
		int e = errno;

		log_error("listen on %s: %s", d->socket_path, strerror(e));
		close(fd);
		return -e;
	}
	d->listen_fd = fd;
	return 0;
}

static int lock_state_dir(struct daemon *d)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/corrald.lock", d->state_dir);
	d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (d->lock_fd < 0) {
		log_error("open %s: %s", path, strerror(errno));
		return -errno;
	}
	/* a corrald killed a moment ago may still have its lock held for a few
	 * milliseconds by a jail it was cloning: wait up to 2 s before refusing */
	for (int tries = 0; flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0; tries++) {
		if (errno != EWOULDBLOCK || tries >= 40) {
			log_error("another corrald is running on state dir %s (%s is locked)", d->state_dir,
				  path);
			return -EBUSY;
		}
		usleep(50000);
	}
	return 0;
}

/* Pure cgroup v2: a subtree of our own, ourselves in its leaf "supervisor",
 * controllers enabled for the jails (runner/jail.h).  Nothing on hybrid hosts. */
static int enter_cgroup_subtree(struct daemon *d)
{
	struct jail_error jerr;
	const char *subtree = NULL;
	int r = jail_supervisor_enter("supervisor", "corrald", d->cfg->cgroup_parent, &subtree, &jerr);

	if (r < 0) {
		log_error("cgroup v2: %s", jerr.message);
		return r;
	}
	if (r > 0)
		log_info("cgroup v2: corrald runs in %s/supervisor; jails go below %s%s%s", subtree,
			 d->cfg->cgroup_parent[0] == '/' ? "" : subtree,
			 d->cfg->cgroup_parent[0] == '/' ? "" : "/", d->cfg->cgroup_parent);
	return 0;
}

/* At exit, after the jails' parent is gone: back where we were started,
 * our leaf (and a subtree we made) removed. */
static void leave_cgroup_subtree(void)
{
	struct jail_error jerr;

	if (jail_supervisor_leave(&jerr) < 0)
		log_warning("cgroup v2: %s", jerr.message);
}

/* Which host /etc paths every jail gets: scanned here, at start and on a
 * reload, rather than by the first task (runner/jail.h). */
static int refresh_host_etc(void)
{
	struct jail_error jerr;
	int r = jail_host_etc_refresh(&jerr);

	if (r < 0)
		log_error("%s", jerr.message);
	return r;
}

/* The jails' /etc prepared once in <state dir>/etc (runner/host_etc_dir.c)
 * and bound into each, instead of built in every jail: the state dir is
 * 0711, so the jails' uids pass through it to the sets (0755).  Best
 * effort: where a set cannot be made or reached (a parent others may not
 * search, a private umask), corral-init builds /etc itself as before. */
static void prepare_etc_sets(const struct daemon *d)
{
	char real[PATH_MAX], path[PATH_MAX + 8];
	struct jail_error jerr;

	if (!realpath(d->state_dir, real)) {
		log_warning("the jails' /etc: resolve %s: %s; each jail builds its own", d->state_dir,
			    strerror(errno));
		return;
	}
	snprintf(path, sizeof(path), "%s/etc", strcmp(real, "/") == 0 ? "" : real);
	if (jail_host_etc_prepare_in(path, &jerr) < 0)
		log_warning("the jails' /etc: %s; each jail builds its own", jerr.message);
	/* a host file changed reaches the jails started 0.1 s later on; not
	 * stamping it at every start saves the loop ~0.1 ms a task */
	jail_host_etc_restamp_after(100000);
}

static int setup(struct daemon *d, const char *policy_path, const char *state_dir, const char *socket_path)
{
	struct error serr;
	/* one corrald per database, but a PostgreSQL store is a cluster's */
	struct store_options sopts = { .exclusive = true };
	struct signalfd_siginfo unused;
	char path[4096];
	sigset_t mask;
	int r;

	(void)unused;
	d->epfd = d->signal_fd = d->listen_fd = d->timer_fd = d->lock_fd = -1;
	d->policy_path = strdup(policy_path);
	if (load_policy(policy_path, &d->policy, NULL) < 0)
		return -EINVAL;
	d->cfg = policy_supervisor(d->policy);
	if (!d->cfg->gpus_declared || !d->cfg->gpu_memory_declared)
		node_gpu_detect(d);
	node_gpu_apply(d);
	d->state_dir = strdup(state_dir ? state_dir : d->cfg->state_dir);
	d->socket_path = strdup(socket_path ? socket_path : d->cfg->socket);
	/* [supervisor] store: a path or a URI (postgresql://...); never logged
	 * whole (it may carry a password). */
	snprintf(path, sizeof(path), "%s/corral.db", d->state_dir);
	d->db_path = strdup(d->cfg->store ? d->cfg->store : path);
	snprintf(path, sizeof(path), "%s/tasks", d->state_dir);
	d->tasks_dir = strdup(path);
	if (make_dirs(d->state_dir, 0711) < 0 || make_dirs(d->tasks_dir, 0711) < 0) {
		log_error("create state dir %s: %s", d->state_dir, strerror(errno));
		return -errno;
	}
	snprintf(path, sizeof(path), "%s", d->socket_path);
	if (strrchr(path, '/') && strrchr(path, '/') != path) {
		*strrchr(path, '/') = '\0';
		if (make_dirs(path, 0755) < 0) {
			log_error("create socket directory %s: %s", path, strerror(errno));
			return -errno;
		}
	}
	r = start_checks_run(d);
	if (r < 0)
		return r;
	r = lock_state_dir(d);
	if (r < 0)
		return r;
	task_start_spread_dirs(d);
	r = enter_cgroup_subtree(d);
	if (r < 0)
		return r;
	r = refresh_host_etc();
	if (r < 0)
		return r;
	prepare_etc_sets(d);
	{
		const char *backend = NULL, *location = NULL;

		if (store_uri_parse(d->db_path, &backend, &location, NULL) == 0 &&
		    strcmp(backend, "postgresql") == 0) {
			sopts.exclusive = false;
			/* a node frozen in a transaction holds its row locks until the
			 * server ends its session: no longer than its lease (its jails
			 * are dead by 3/4 of it), 2-30 s */
			sopts.idle_tx_timeout_ms = (int)(d->cfg->lease_ms < 2000 ? 2000
								 : d->cfg->lease_ms > 30000
								 ? 30000
								 : d->cfg->lease_ms);
		}
	}
	r = store_open(d->db_path, &sopts, &d->store, &serr);
	if (r < 0) {
		log_error("open the store: %s", serr.message);
		return r;
	}
	r = node_join(d);
	if (r < 0)
		return r;
	r = cluster_start(d);
	if (r == 0)
		r = cluster_policy_start(d);
	if (r < 0)
		return r;
	d->n_uid_slots = d->cfg->uid_last - d->cfg->uid_first + 1;
	d->uid_slots = calloc(d->n_uid_slots, 1);
	d->user_buckets = 1024;
	d->user_table = calloc(d->user_buckets, sizeof(*d->user_table));
	if (!d->uid_slots || !d->user_table || netns_pool_create(d) < 0)
		return -ENOMEM;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR2);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->timer_fd = timerfd_create(CLOCK_BOOTTIME, TFD_CLOEXEC | TFD_NONBLOCK);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->signal_fd < 0 || d->timer_fd < 0 || d->epfd < 0)
		return -errno;
	r = open_socket(d);
	if (r < 0)
		return r;
	if ((r = metrics_create(d)) < 0 || (r = transport_http_start(d)) < 0 || (r = webhook_start(d)) < 0)
		return r;
	if (daemon_epoll_add(d, d->signal_fd, EPOLLIN, (void *)&ep_signal) < 0 ||
	    daemon_epoll_add(d, d->timer_fd, EPOLLIN, (void *)&ep_timer) < 0 ||
	    daemon_epoll_add(d, d->listen_fd, EPOLLIN, (void *)&ep_listen) < 0)
		return -errno;

	r = tenants_load(d);
	if (r == 0)
		r = storage_load(d);
	if (r < 0)
		return r;
	handover_reap_children();
	recover_running(d);
	r = queue_load(d);
	if (r < 0)
		return r;
	d->next_poll_mono_us = daemon_mono_us() + d->cfg->poll_interval_ms * 1000;
	d->next_retention_mono_us = daemon_mono_us(); /* a first sweep right away */
	d->dispatch_needed = true;
	return 0;
}

int daemon_reload_policy(struct daemon *d, char **errors_text)
{
	struct policy *fresh = NULL;

	if (d->cluster) /* the file's per-host sections, the cluster's text */
		return cluster_policy_reload(d, errors_text);
	log_notice("reloading policy %s", d->policy_path);
	if (load_policy(d->policy_path, &fresh, errors_text) < 0) {
		log_error("policy %s has errors; keeping the policy in force", d->policy_path);
		return -EINVAL;
	}
	daemon_policy_install(d, fresh);
	log_notice("policy reloaded: new decisions use it; running tasks keep their limits");
	return 0;
}

void daemon_policy_install(struct daemon *d, struct policy *fresh)
{
	policy_free(d->policy);
	d->policy = fresh;
	refresh_host_etc(); /* packages installed meanwhile; on failure the old set stays */
	task_start_forget_filters(d);
	d->cfg = policy_supervisor(fresh);
	node_gpu_apply(d); /* nvidia-smi's answer of the start stays */
	d->dispatch_needed = true;
	transport_unix_reidentify_all(d);
}

/* SIGTERM: stop dispatching and refuse submits, let running tasks finish
 * for up to drain_timeout, then end them (reason shutdown).  A second
 * SIGTERM ends them at once. */
static void start_drain(struct daemon *d, int sig)
{
	if (d->shutting_down) {
		log_notice("%s again: ending %u running tasks now", strsignal(sig), d->running_count);
		d->drain_deadline_mono_us = daemon_mono_us();
		return;
	}
	d->shutting_down = true;
	d->drain_deadline_mono_us = daemon_mono_us() + d->cfg->drain_timeout_ms * 1000u;
	notify_systemd("STOPPING=1");
	if (d->cluster) {
		/* nothing new comes here: another node schedules, this one is
		 * offline to the scheduler, its unstarted assignments go back */
		cluster_stop(d);
		node_leave(d);
	}
	log_notice(
		"%s: shutting down; %u running tasks may finish within %llu ms, %zu queued tasks stay queued",
		strsignal(sig), d->running_count, (unsigned long long)d->cfg->drain_timeout_ms,
		d->queued_total);
}

void daemon_stop(struct daemon *d, const char *why)
{
	if (d->shutting_down)
		return;
	d->shutting_down = true;
	d->drain_deadline_mono_us = daemon_mono_us() + d->cfg->drain_timeout_ms * 1000u;
	notify_systemd("STOPPING=1");
	log_notice("%s: shutting down; %u running tasks may finish within %llu ms", why, d->running_count,
		   (unsigned long long)d->cfg->drain_timeout_ms);
}

/* SIGUSR2: a handover.  Stop dispatching and refuse submits, then, as soon
 * as no jail is half-way through its start, execute corrald again in this
 * process (handover.c), leaving every running jail alone: the new image
 * adopts them (recover.c), as after a crash.  A SIGTERM before still
 * drains. */
static void start_handover(struct daemon *d)
{
	if (d->shutting_down) {
		log_notice("SIGUSR2 while shutting down: ignored");
		return;
	}
	d->shutting_down = true;
	d->handing_over = true;
	/* not STOPPING=1: the process stays, and READY=1 ends the "reload" */
	notify_systemd("RELOADING=1");
	log_notice("SIGUSR2: handing over; %u running tasks keep running for the new corrald, %zu "
		   "queued tasks stay queued",
		   d->running_count, d->queued_total);
}

/* A handover leaves once no jail is still starting (its start report would
 * be lost). */
static bool handover_ready(const struct daemon *d)
{
	for (const struct dtask *t = d->running; t; t = t->next)
		if (t->starting)
			return false;
	return true;
}

/* returns false when the daemon should stop */
static bool handle_signals(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			if (d->handing_over) { /* stop means stop: drain after all */
				d->handing_over = false;
				d->shutting_down = false;
			}
			start_drain(d, (int)si.ssi_signo);
			break;
		case SIGUSR2:
			start_handover(d);
			break;
		case SIGHUP:
			daemon_reload_policy(d, NULL);
			break;
		default:
			break; /* SIGCHLD: jails are watched through their pidfds */
		}
	}
	return true;
}

static void handle_timer(struct daemon *d)
{
	uint64_t expirations, now = daemon_mono_us();

	if (read(d->timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		log_warning("read timerfd: %s", strerror(errno));
	if (d->next_retry_mono_us && now >= d->next_retry_mono_us) {
		d->next_retry_mono_us = 0;
		d->dispatch_needed = true;
	}
	task_watch_deadlines(d);
	task_watch_poll(d);
	op_wait_check(d);
	node_heartbeat(d);
	webhook_tick(d);
}

bool daemon_batch(struct daemon *d)
{
	struct error serr;

	if (!d->batch_open) {
		if (store_batch_begin(d->store, &serr) < 0) {
			log_error("begin a store batch: %s", serr.message);
			return false;
		}
		d->batch_open = true;
	}
	return true;
}

void daemon_commit_batch(struct daemon *d)
{
	struct error serr;
	int r;

	if (!d->batch_open)
		return;
	uint64_t begun = daemon_mono_us();

	r = store_batch_commit(d->store, &serr);
	metrics_store_commit(d, daemon_mono_us() - begun);
	d->batch_open = false;
	if (r < 0)
		log_error("commit the store batch: %s", serr.message);
	op_submit_finish_batch(d, r == 0, r == 0 ? NULL : serr.message);
	task_workdir_batch_done(d, r == 0);
	if (d->ended && r == 0)
		webhook_kick(d); /* their callbacks are due */
	task_end_batch_done(d, r == 0);
	task_start_batch_done(d, r == 0);
}

static void finish_iteration(struct daemon *d)
{
	transport_http_run(d); /* requests MHD has read join this batch */
	/* the starts' records join the turn's batch: one commit for its
	 * submits, ends and starts; the jails are spawned after it */
	if (!d->cluster && d->dispatch_needed && !d->shutting_down) {
		d->dispatch_needed = false;
		queue_dispatch(d);
	}
	daemon_commit_batch(d);
	if (!d->shutting_down && daemon_mono_us() >= d->next_retention_mono_us) {
		size_t removed = storage_retention_tick(d);

		d->next_retention_mono_us = daemon_mono_us() +
			(removed ? d->cfg->poll_interval_ms * 1000 : STORAGE_RETENTION_IDLE_S * 1000000ull);
	}
	/* answers first: a submit's ack must not wait for jails to spawn */
	transport_unix_flush_all(d);
	transport_http_run(d);
	if (d->starts_pending) {
		task_start_spawn_pending(d);
		transport_unix_flush_all(d);
	}
	if (d->cluster) {
		/* the cluster's scheduler places tasks on its nodes */
		cluster_tick(d, false);
		if (d->dispatch_needed && !d->shutting_down && d->cluster_leader)
			cluster_schedule(d);
		d->dispatch_needed = false;
		transport_unix_flush_all(d);
	}
	daemon_rearm_timer(d);
}

static void teardown(struct daemon *d)
{
	transport_http_stop(d);
	webhook_stop(d);
	transport_unix_close_all(d);
	queue_free_all(d);
	if (d->store) {
		cluster_stop(d);
		if (!d->handing_over) /* a handover is a quick restart: the node stays */
			node_leave(d);
		store_close(d->store);
	}
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		unlink(d->socket_path);
	}
	if (d->epfd >= 0)
		close(d->epfd);
	if (d->signal_fd >= 0)
		close(d->signal_fd);
	if (d->timer_fd >= 0)
		close(d->timer_fd);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	task_start_forget_filters(d);
	netns_pool_free(d);
	cluster_policy_free(d);
	policy_free(d->policy);
	free(d->user_table);
	free(d->uid_slots);
	free(d->policy_path);
	free(d->state_dir);
	free(d->socket_path);
	free(d->db_path);
	free(d->tasks_dir);
	metrics_free(d);
	tenants_free(d);
}

/* epoll timeout: 0 when tasks wait to be started, until the end of a pause
 * after the store refused a start, else sleep until an event. */
static int dispatch_wait_ms(const struct daemon *d)
{
	uint64_t now;

	if (!d->dispatch_needed || d->shutting_down)
		return -1;
	now = daemon_mono_us();
	if (now >= d->dispatch_paused_until_mono_us)
		return 0;
	return (int)((d->dispatch_paused_until_mono_us - now + 999) / 1000);
}

int daemon_main(const char *policy_path, const char *state_dir, const char *socket_path,
		const struct daemon_clock *clock)
{
	struct daemon d;
	int rc = 0;

	memset(&d, 0, sizeof(d));
	handover_remember_exe();
	if (clock)
		d.clock = *clock;
	if (getuid() != 0 || geteuid() != 0) {
		log_error("corrald must run as root (it creates namespaces, cgroups and uid maps)");
		return 1;
	}
	if (setup(&d, policy_path, state_dir, socket_path) < 0) {
		teardown(&d);
		return 1;
	}
	log_notice("corrald %s ready: socket %s, state %s, %u slots, policy %s", version_string(),
		   d.socket_path, d.state_dir, d.cfg->max_running, d.policy_path);
	notify_systemd("READY=1");
	finish_iteration(&d);
	for (;;) {
		struct epoll_event events[64];
		/* more tasks to start: look at events, but do not sleep */
		/* requests left from the last turn: look at events, do not sleep */
		int wait_ms = transport_unix_has_backlog(&d)
			? 0
			: transport_http_wait_ms(&d, dispatch_wait_ms(&d));
		/* the pool wants namespaces: one is made after a quiet while
		 * (NETNS_POOL_QUIET_MS without an event), one at a time */
		bool idle = netns_pool_wants_more(&d) && (wait_ms < 0 || wait_ms > NETNS_POOL_QUIET_MS);
		int n = epoll_wait(d.epfd, events, 64, idle ? NETNS_POOL_QUIET_MS : wait_ms);

		if (n == 0 && idle)
			netns_pool_fill_one(&d);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("epoll_wait: %s", strerror(errno));
			rc = 1;
			break;
		}
		for (int i = 0; i < n; i++) {
			int kind = *(const int *)events[i].data.ptr;

			switch (kind) {
			case EP_SIGNAL:
				handle_signals(&d);
				break;
			case EP_TIMER:
				handle_timer(&d);
				break;
			case EP_LISTEN:
				transport_unix_accept(&d);
				break;
			case EP_CLIENT:
				transport_unix_event(&d, events[i].data.ptr, events[i].events);
				break;
			case EP_TASK:
				task_watch_pidfd_ready(&d, events[i].data.ptr);
				break;
			case EP_HTTP:
				transport_http_event(&d, events[i].data.ptr);
				break;
			case EP_STORE:
				cluster_wake_event(&d);
				break;
			case EP_WEBHOOK:
				webhook_event(&d, events[i].data.ptr, events[i].events);
				break;
			default:
				break;
			}
		}
		transport_unix_serve_backlog(&d);
		finish_iteration(&d);
		if (d.handing_over && handover_ready(&d))
			break;
		if (d.shutting_down && !d.handing_over &&
		    (d.running_count == 0 || daemon_mono_us() >= d.drain_deadline_mono_us))
			break;
	}
	if (d.handing_over) {
		unsigned n = d.running_count;

		task_end_retry_unfinished(&d); /* what stays unrecorded, the next corrald settles */
		running_hand_over_all(&d);
		transport_unix_flush_all(&d);
		teardown(&d);
		log_notice("corrald handed over %u running tasks", n);
		handover_reexec();
		/* only when that failed: the unit restarts us on this status */
		log_notice("exiting with %d for a restart", DAEMON_EXIT_HANDOVER);
		return DAEMON_EXIT_HANDOVER;
	}
	if (d.running_count)
		log_notice("drain timeout: ending %u running tasks (reason shutdown)", d.running_count);
	task_end_shutdown_all(&d);
	transport_unix_flush_all(&d);
	jail_cleanup_cgroup_parent(d.cfg->cgroup_parent);
	leave_cgroup_subtree();
	teardown(&d);
	log_notice("corrald stopped");
	return rc;
}
