/*
 * supervisor/daemon.h — corrald's state, shared by its files (internal to
 * the daemon):
 *   daemon.c        start-up, the epoll loop, signals, timers
 *   daemon_conn.c   client connections: lines in, responses out, SO_PEERCRED
 *   daemon_ops.c    the API operations (submit, status, list, ...)
 *   daemon_queue.c  users, the in-memory queue, dispatch through sched.c
 *   daemon_run.c    running tasks: start a jail, CPU polling and charging,
 *                   deadlines, cancel, the end of a task
 *
 * Every state change goes to the store (SQLite) first; memory only mirrors
 * it (queued tasks without their argv, running tasks with their jail).
 */
#ifndef CORRAL_SUPERVISOR_DAEMON_H
#define CORRAL_SUPERVISOR_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "policy/policy.h"
#include "runner/jail.h"
#include "supervisor/api.h"
#include "supervisor/store.h"

struct daemon;
struct client;

/* Why the daemon itself ends a running task (wins over what the jail says). */
enum end_why { END_NONE = 0, END_TIMEOUT, END_CPU_LIMIT, END_BUDGET, END_CANCEL, END_SHUTDOWN };

/* epoll's data.ptr points at an object whose first member is its kind */
enum ep_kind { EP_TIMER = 1, EP_SIGNAL, EP_LISTEN, EP_CLIENT, EP_TASK };

struct dtask {
	int ep_kind;                   /* EP_TASK: first member */
	int64_t id;
	struct duser *user;
	struct dtask *next;            /* queue link (queued) / running list link */
	uint64_t seq;                  /* submit order */
	uint64_t wall_limit_ms;        /* requested (0 = plan's) */
	uint64_t cpu_limit_ms;         /* requested (0 = plan's) */
	uint64_t memory_bytes;         /* requested (0 = plan's) */
	/* running */
	struct jail *jail;
	int pidfd;
	uint32_t uid_slot;
	uint64_t started_us;           /* wall clock (with the test offset) */
	uint64_t deadline_mono_us;     /* 0 = none */
	uint64_t kill_at_mono_us;      /* grace period end after SIGTERM; 0 = none */
	uint64_t next_check_mono_us;   /* next CPU check (near a CPU limit: sooner than the poll) */
	uint64_t cpu_limit_us;         /* reserved at start; UINT64_MAX = none */
	bool budget_capped;            /* cpu_limit_us was cut by the budget */
	uint64_t charged_us;           /* the charging cursor (as stored) */
	uint64_t memory_reserved;
	uint64_t wall_limit_effective_ms;
	enum end_why why;
	char *cancelled_by;
	bool starting;                 /* spawned; its start report not read yet */
	bool adopted;                  /* taken over from a previous corrald */
};

struct duser {
	char *name;
	struct duser *hash_next;
	struct dtask *queue_head, *queue_tail;
	uint32_t queued, running;
	uint64_t reserved_us;          /* cpu limits of running tasks */
	uint64_t pass;                 /* fair-share state (sched.h) */
	char month[8];                 /* month of used_us */
	uint64_t used_us;              /* charged this month (mirrors the store) */
};

struct waiter {
	struct waiter *next;
	struct client *client;
	char *tag_json;
	int64_t task_id;
	uint64_t expires_mono_us;      /* 0 = never */
	bool logs;                     /* a logs --follow request */
	bool stderr_stream;
	uint64_t offset, max;
};

struct daemon {
	struct policy *policy;
	char *policy_path;
	const struct policy_supervisor *cfg;
	char *state_dir, *socket_path, *db_path, *tasks_dir;
	struct store *store;
	int epfd, signal_fd, listen_fd, timer_fd, lock_fd;
	bool shutting_down;            /* draining after SIGTERM */
	uint64_t drain_deadline_mono_us;
	int64_t clock_offset_us;       /* CORRALD_CLOCK_OFFSET, for tests */

	/* users */
	struct duser **user_table;
	size_t user_buckets, n_users;
	/* queue and running */
	uint64_t next_seq;
	uint64_t virtual_time;
	size_t queued_total;
	struct dtask *running;         /* list */
	uint32_t running_count;
	uint64_t memory_reserved;
	uint8_t *uid_slots;            /* 1 = in use */
	uint32_t n_uid_slots;
	bool dispatch_needed;
	uint64_t dispatch_paused_until_mono_us;  /* the store refused a start: wait a poll */
	uint64_t next_poll_mono_us;

	struct client *clients;
	struct waiter *waiters;
	/* submits in the current store batch, answered after it commits */
	struct pending_submit *pending;
	bool batch_open;
	struct unfinished *unfinished;  /* ends the store could not record yet */
	struct filter_cache *filters;   /* compiled seccomp filters per profile */
	struct ended *ended;            /* ends in the open store batch */
};

/* daemon.c */
uint64_t daemon_now_us(const struct daemon *d);         /* epoch µs (+ test offset) */
uint64_t daemon_mono_us(void);                          /* CLOCK_MONOTONIC µs */
/* Open the loop's store batch if needed (true when one is open). */
bool daemon_batch(struct daemon *d);
/* Commit it now and settle what waited for it (submits, ends). */
void daemon_commit_batch(struct daemon *d);
void daemon_month(const struct daemon *d, uint64_t epoch_us, char out[8]);  /* "YYYY-MM" UTC */
void daemon_rearm_timer(struct daemon *d);
int daemon_epoll_add(struct daemon *d, int fd, uint32_t events, void *ptr);
void daemon_epoll_del(struct daemon *d, int fd);
/* Re-read the policy file; a policy with errors is refused (errors joined
 * in *errors_text, malloc'd, when not NULL) and the old one stays. */
int daemon_reload_policy(struct daemon *d, char **errors_text);
/* Run corrald until SIGTERM/SIGINT: 0, or 1 after printing why it cannot start. */
int daemon_main(const char *policy_path, const char *state_dir, const char *socket_path);

/* daemon_conn.c */
void conn_accept(struct daemon *d);
void conn_event(struct daemon *d, struct client *c, uint32_t events);
/* Queue a response line (takes ownership of line). */
void conn_send(struct daemon *d, struct client *c, char *line);
void conn_send_error(struct daemon *d, struct client *c, const char *tag_json,
		     enum api_error_code code, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void conn_flush_all(struct daemon *d);
/* After a policy reload: operator rights, access and tenant of every open
 * connection are worked out again. */
void conn_reidentify_all(struct daemon *d);
void conn_close_all(struct daemon *d);
uid_t conn_uid(const struct client *c);
const char *conn_tenant(const struct client *c);
bool conn_is_operator(const struct client *c);
bool conn_may_use(const struct client *c);

/* daemon_ops.c: helpers the operations share */
const char *ops_acting_tenant(struct daemon *d, struct client *c, const struct api_request *req);
bool ops_load_visible_task(struct daemon *d, struct client *c, const struct api_request *req,
			   struct store_task *st);
void ops_send_ok_json(struct daemon *d, struct client *c, const char *tag, json_t *body);
void ops_send_task(struct daemon *d, struct client *c, const char *tag, const struct store_task *st);
bool ops_is_terminal(enum store_task_state s);
/* daemon_submit.c, daemon_wait.c */
void ops_submit(struct daemon *d, struct client *c, struct api_request *req);
void ops_wait(struct daemon *d, struct client *c, struct api_request *req);
void ops_logs(struct daemon *d, struct client *c, struct api_request *req);

/* daemon_ops.c */
void ops_handle(struct daemon *d, struct client *c, struct api_request *req);
/* After the store batch committed (ok) or failed: answer pending submits. */
void ops_finish_batch(struct daemon *d, bool committed, const char *error);
/* A task ended or produced output: answer waiters that can be answered. */
void ops_wake_waiters(struct daemon *d, int64_t task_id, bool ended);
/* Expired waits, follow polls. */
void ops_check_waiters(struct daemon *d);
void ops_drop_client_waiters(struct daemon *d, struct client *c);
char *ops_task_json(struct daemon *d, const struct store_task *t);

/* daemon_queue.c */
struct duser *queue_user(struct daemon *d, const char *name);   /* find or create */
struct duser *queue_find_user(struct daemon *d, const char *name);
void queue_push(struct daemon *d, struct dtask *t);
void queue_push_front(struct daemon *d, struct dtask *t);   /* back at the head: a start that failed */
bool queue_remove(struct daemon *d, int64_t id);              /* a queued task */
struct dtask *queue_find(struct daemon *d, int64_t id);
/* Start what the scheduler picks, at most DISPATCH_MAX_STARTS at a time
 * (dispatch_needed stays set when more could start). */
void queue_dispatch(struct daemon *d);
#define DISPATCH_MAX_STARTS 8u
/* Limits of a user from the current policy (0, or -ENOENT). */
int queue_limits(struct daemon *d, const struct duser *u, struct policy_limits *lim);
/* The user's budget in µs (UINT64_MAX = unlimited, 0 = suspended). */
uint64_t queue_budget_us(const struct policy_limits *lim);
void queue_refresh_month(struct daemon *d, struct duser *u);
struct queue_entry {
	int64_t id;
	uint32_t position;        /* 1 = next; 0 = none (cannot start this month) */
	const char *reason;       /* sched_reason_name() */
	char message[200];
};
/* Queued tasks (of user, or all; only task only_id if not 0) in start order
 * with position and pending reason.  *entries is malloc'd. */
int queue_describe(struct daemon *d, const char *user, int64_t only_id, struct queue_entry **entries,
		   size_t *n);
void queue_free_all(struct daemon *d);
/* At start: the store's queued tasks into memory, in submit order. */
int queue_load(struct daemon *d);

#define TASK_CGROUP_PREFIX "task-"

/* daemon_end.c */
/* Record the end of task id now (outside the batch machinery); false when
 * the store refused it (then it is kept and retried). */
bool run_finish_in_store(struct daemon *d, int64_t id, enum store_task_state state,
			 enum store_task_reason reason, const char *message, const struct jail_result *res);
/* A running task's jail ended (or must be collected): record its end. */
void run_end_task(struct daemon *d, struct dtask *t);

/* daemon_run.c */
/* A task leaves the running set (counters, host uid, reservations). */
void run_release(struct daemon *d, struct dtask *t);
/* Record a start that failed (spawn_error). */
bool run_fail_start(struct daemon *d, struct dtask *t, const char *message);
/* Start a task the scheduler picked: 0, -EAGAIN when it was put back at the
 * head of its queue (the store refused, no host uid), other -errno when it
 * failed to start (recorded as spawn_error). */
int run_start(struct daemon *d, struct dtask *t, uint64_t cpu_limit_us, bool budget_capped,
	      uint64_t memory_reserved);
void run_pidfd_ready(struct daemon *d, struct dtask *t);
void run_poll(struct daemon *d);                 /* charge CPU, enforce CPU and budget */
void run_check_deadlines(struct daemon *d);      /* timeouts and grace periods */
uint64_t run_next_event_mono_us(struct daemon *d);
struct dtask *run_find(struct daemon *d, int64_t id);
void run_cancel(struct daemon *d, struct dtask *t, const char *by);
void run_shutdown_all(struct daemon *d);
/* Tasks the store says are running (a previous corrald's): adopt their
 * jails, or settle them from their status files (policy on_restart). */
void run_recover(struct daemon *d);
void run_retry_unfinished(struct daemon *d);    /* ends the store refused (disk full): again */
/* The store batch committed (or not): free the ended jails' cgroups, answer
 * waiters, or keep the ends for a retry. */
void run_batch_done(struct daemon *d, bool committed);
struct profile_spec;
/* The profile's compiled filter (extra syscall rules), cached until reload. */
int run_profile_filter(struct daemon *d, const char *profile, const struct profile_spec *ps,
		       const struct jail_filter **out, struct jail_error *err);
void run_forget_filters(struct daemon *d);
const char *run_task_dir(struct daemon *d, int64_t id, char *buf, size_t size);

#endif
