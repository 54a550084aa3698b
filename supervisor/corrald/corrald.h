/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/corrald.h — corrald's state, shared by its files (internal to
 * the daemon):
 *   daemon.c          start-up, the epoll loop, signals, timers, the store batch
 *   caller.c          who is calling: uid -> user, tenant, operator, access
 *   start_checks.c    what corrald refuses to start with (uids, dirs' owners)
 *   transport_unix.c  the Unix socket: frames lines, one caller per connection
 *   transport_http*.c the HTTP API (libmicrohttpd on this loop), http_route.c
 *                     its routes -> operations; metrics.c /metrics
 *   ops.c             the operations' dispatch (from api/api_ops.c's table),
 *                     reply sinks, status, list, queue, cancel, usage, ...
 *   op_submit.c       submit; op_wait.c: wait and logs (parked replies)
 *   op_usage_adjust.c usage_adjust: operators grant or take back CPU time
 *   queue.c           users, the in-memory queue; queue_dispatch.c dispatch
 *                     through sched/; queue_describe.c a task's queue entry
 *   running.c         the running set: the one way in and out
 *   task_start.c      start a jail for a task the scheduler picked
 *   task_watch.c      a running task: pidfd, CPU polling and charging,
 *                     deadlines, cancel
 *   task_end.c        the end of a task: its record, the batch, retries
 *   recover.c         after a restart: adopt or settle the running tasks
 *   node.c            this corrald as a node: join, heartbeat, drain, leave
 *   op_nodes.c        nodes, node_drain, node_undrain
 *   op_token.c        token_create, token_list, token_revoke; bearer tokens -> callers
 *   tenants.c         tenant records in memory; THE resolution of a tenant's limits
 *   op_tenant.c       tenant_set, tenant_show, tenant_list, tenant_delete
 *   webhook.c         result webhooks: libcurl's multi interface on this loop
 *   netns_pool.c      network namespaces made ahead for the jails
 * (supervisor/README.md has the whole map.)
 *
 * An operation is (caller, request) -> replies through a reply sink: the
 * transports only frame bytes and say who is calling, so the Unix socket and
 * an HTTP listener call the same handlers.
 *
 * Every state change goes to the store (SQLite) first; memory only mirrors
 * it (queued tasks without their argv, running tasks with their jail).
 */
#ifndef CORRAL_SUPERVISOR_CORRALD_H
#define CORRAL_SUPERVISOR_CORRALD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "policy/policy.h"
#include "runner/jail.h"
#include "supervisor/api/api.h"
#include "supervisor/common/macros.h"
#include "supervisor/sched/sched.h"
#include "supervisor/store/store.h"
#include "supervisor/store/store_cluster.h"
#include "supervisor/store/store_node.h"

struct daemon;
struct client;

/* Who is calling (caller.c).  A transport sets uid, gid and pid from the
 * kernel, never from a request, and calls caller_identify(). */
struct caller {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	char *user;     /* Unix user name, or "uid<N>" when unknown */
	char *tenant;   /* the tenant it acts as (NULL when unknown) */
	bool operator_; /* policy [access] operators */
	bool allowed;   /* may use corral at all (policy [access]) */
	bool unknown;   /* the uid has no passwd entry: refused */
};

/* Where an operation's replies go: a transport's connection (or, for HTTP,
 * one request).  Reference counted: an answer given later (wait, logs
 * --follow, a submit answered after its commit) holds a reference.  When
 * the peer goes, the transport calls ops_sink_gone(): parked replies are
 * dropped, later sends are discarded, and the last reference frees it. */
struct reply_sink {
	void (*send)(struct reply_sink *sink, char *line); /* a response line, owned */
	void (*release)(struct reply_sink *sink);          /* no references left */
	void *ctx;                                         /* the transport's */
	unsigned refs;
	bool gone; /* the peer is gone: replies are discarded */
};

/* Why the daemon itself ends a running task (wins over what the jail says). */
enum end_why { END_NONE = 0, END_TIMEOUT, END_CPU_LIMIT, END_BUDGET, END_CANCEL, END_SHUTDOWN, END_FENCED };

/* epoll's data.ptr points at an object whose first member is its kind */
enum ep_kind { EP_TIMER = 1, EP_SIGNAL, EP_LISTEN, EP_CLIENT, EP_TASK, EP_HTTP, EP_WEBHOOK, EP_STORE };

struct dtask {
	int ep_kind; /* EP_TASK: first member */
	int64_t id;
	struct duser *user;
	struct dtask *next;        /* queue link (queued) / running list link */
	uint64_t seq;              /* submit order */
	uint64_t wall_limit_us;    /* requested (0 = plan's) */
	uint64_t cpu_request_us;   /* requested (0 = plan's) */
	uint64_t memory_bytes;     /* requested (0 = plan's) */
	uint32_t gpus;             /* needs of a node (placement): GPUs ... */
	uint64_t gpu_memory_bytes; /* ... of at least this memory each, 0 = any */
	char *labels;              /* ... and these labels ("a,b"), NULL = none */
	uint32_t cpu_millis;       /* ... and these cores x 1000 (--cpus: held while it runs,
				    * its CPU quota); 0 = none: the plan's quota, none held */
	/* running */
	struct jail *jail;
	int pidfd;
	uint32_t uid_slot;
	uint64_t started_us;         /* wall clock (with the test offset) */
	uint64_t deadline_mono_us;   /* 0 = none */
	uint64_t kill_at_mono_us;    /* grace period end after SIGTERM; 0 = none */
	uint64_t next_check_mono_us; /* next CPU check (near a CPU limit: sooner than the poll) */
	uint64_t cpu_limit_us;       /* reserved at start; LIMIT_NONE = none */
	bool budget_capped;          /* cpu_limit_us was cut by the budget */
	uint64_t charged_us;         /* the charging cursor (as stored) */
	uint64_t memory_reserved;
	uint64_t wall_limit_effective_us; /* 0 = none */
	enum end_why why;
	char *cancelled_by;
	bool starting; /* spawned; its start report not read yet */
	bool adopted;  /* taken over from a previous corrald */
	/* retries (sched/retry.h) */
	uint32_t attempts;           /* running: starts so far, this one included */
	uint32_t store_faults;       /* starts the store failed under (not attempts) */
	uint64_t cpu_prior_us;       /* CPU of the earlier attempts (their cgroups are gone) */
	uint64_t not_before_mono_us; /* queued after a failed attempt: the backoff; 0 = none */
	char *stdin_path;            /* running: its stdin file, removed once the command
					* started or the task ended (a retry needs it) */
	/* a cluster: how much of its stdout, stderr the store holds */
	uint64_t uploaded[2];
	bool uploaded_known;
};

struct duser {
	char *name;
	struct duser *hash_next;
	struct dtask *queue_head, *queue_tail;
	uint32_t queued, running;
	uint64_t reserved_us;  /* cpu limits of running tasks */
	uint64_t pass;         /* fair-share state (sched.h) */
	char month[8];         /* month of used_us */
	uint64_t used_us;      /* charged this month (mirrors the store) */
	int64_t adjust_us;     /* sum of this month's adjustments (mirrors the store) */
	uint64_t stored_bytes; /* what the store holds for its tasks (mirrors the sum of
				* their stored_bytes: loaded at start, kept by submit,
				* the end of a task and retention) */
};

struct waiter {
	struct waiter *next;
	struct reply_sink *sink; /* a reference */
	char *tag_json;
	int64_t task_id;
	uint64_t expires_mono_us; /* 0 = never */
	bool logs;                /* a logs --follow request */
	bool stderr_stream;
	uint64_t offset, max;
};

/* Where corrald reads the wall clock (epoch µs, for months, deadlines and
 * records): the real clock in production; a test injects its own through
 * daemon_main() (tests/integration/helpers/corrald-clock.c). */
struct daemon_clock {
	uint64_t (*now_us)(void *ctx);
	void *ctx;
};

/* corrald's exit status when a handover (SIGUSR2) could not execute
 * corrald again: its jails still run.  The systemd unit restarts it on this
 * status (RestartForceExitStatus). */
#define DAEMON_EXIT_HANDOVER 75

struct daemon {
	struct policy *policy;
	char *policy_path;
	const struct policy_supervisor *cfg;
	char *state_dir, *socket_path, *db_path, *tasks_dir;
	struct store *store;
	int epfd, signal_fd, listen_fd, timer_fd, lock_fd;
	bool shutting_down; /* draining after SIGTERM */
	bool handing_over;  /* SIGUSR2: exit leaving the jails to the next corrald */
	uint64_t drain_deadline_mono_us;
	struct daemon_clock clock; /* now_us NULL: CLOCK_REALTIME */

	/* users */
	struct duser **user_table;
	size_t user_buckets, n_users;
	/* queue and running */
	uint64_t next_seq;
	uint64_t virtual_time;
	size_t queued_total;
	struct dtask *running; /* list */
	uint32_t running_count;
	uint64_t memory_reserved;
	uint8_t *uid_slots; /* 1 = in use */
	uint32_t n_uid_slots;
	bool dispatch_needed;
	uint64_t dispatch_paused_until_mono_us; /* the store refused a start: wait a poll */
	uint64_t next_retry_mono_us;            /* the soonest backoff end of a requeued task; 0 = none */
	uint64_t next_poll_mono_us;

	struct client *clients;
	struct http_server *http; /* NULL without [http] listen */
	struct metrics *metrics;  /* counters for /metrics (metrics.c) */
	struct tenants *tenants;  /* tenant records (tenants.c) */
	struct webhook *webhook;  /* result webhooks in flight (webhook.c) */
	struct waiter *waiters;
	/* submits in the current store batch, answered after it commits */
	struct pending_submit *pending;
	bool batch_open;
	struct unfinished *unfinished;                /* ends the store could not record yet */
	struct requeue_held *requeues_held;           /* requeues the store could not record yet */
	struct filter_cache *filters;                 /* compiled seccomp filters per profile */
	struct ended *ended;                          /* ends in the open store batch */
	struct task_workdir_pending *workdir_pending; /* artifact bytes counted at the commit */

	/* this corrald as a node of the store (node.c) */
	char node_name[64];
	char node_incarnation[33];
	uint64_t node_memory_bytes; /* the host's MemTotal */
	bool node_joined;
	bool node_draining;           /* an operator drained it: nothing new starts */
	uint32_t gpus_reserved;       /* GPUs held by running tasks */
	uint64_t cpu_millis_reserved; /* cores x 1000 held by running tasks (--cpus) */
	uint32_t detected_cores;      /* the CPUs corrald may run on, at its start */
	/* the GPUs this node offers (node_gpu.c): declared, else nvidia-smi's */
	uint32_t node_gpus;
	uint64_t node_gpu_memory_bytes; /* per GPU (the smallest one's) */
	uint32_t detected_gpus;         /* nvidia-smi's answer at start */
	uint64_t detected_gpu_memory_bytes;
	bool heartbeat_failing;
	uint64_t next_heartbeat_mono_us;
	uint64_t next_retention_mono_us; /* storage_retention_tick: once a poll interval */
	size_t retention_cursor;         /* the user-table bucket it visits next */

	/* the cluster (cluster.c): a PostgreSQL store shared by several nodes */
	bool cluster;                  /* this store is shared: the cluster's rules apply */
	bool cluster_leader;           /* this node holds the scheduler's lease */
	int64_t leader_term;           /* ... with this term */
	uint64_t next_cluster_mono_us; /* the next tick: renew, take assignments, schedule */
	uint64_t next_leader_mono_us;  /* the next try for (or renewal of) the scheduler's lease */
	uint64_t lease_ok_mono_us;     /* when the last renewal that worked was sent */
	bool fenced;                   /* the leases ran out: every jail here was killed */
	int wake_fd;                   /* the store's socket in epoll (NOTIFY), -1 = none */
	int wake_gen;                  /* ... of this connection (store_cluster_wake_generation) */
	bool notify_pending;           /* tell the other nodes after this turn's commit */

	/* the pushed policy this node runs (cluster_policy.c) */
	struct cluster_policy *cluster_policy;

	/* starts recorded in the open store batch, spawned once it commits
	 * (task_start.c) */
	struct task_start_pending *starts_pending;

	/* network namespaces made ahead for the jails (netns_pool.c) */
	struct netns_pool *netns_pool;
};

/* daemon.c */
uint64_t daemon_now_us(const struct daemon *d); /* epoch µs (d->clock) */
/* CLOCK_BOOTTIME µs: monotonic, and it counts the time a suspended host
 * slept (as the database's clock and the other nodes do), so a lease, a
 * wall limit or a drain timeout that ran out in a sleep has run out. */
uint64_t daemon_mono_us(void);
/* Open the loop's store batch if needed (true when one is open). */
bool daemon_batch(struct daemon *d);
/* Commit it now and settle what waited for it (submits, ends). */
void daemon_commit_batch(struct daemon *d);
void daemon_month(const struct daemon *d, uint64_t epoch_us, char out[8]); /* "YYYY-MM" UTC */
void daemon_rearm_timer(struct daemon *d);
int daemon_epoll_add(struct daemon *d, int fd, uint32_t events, void *ptr);
void daemon_epoll_del(struct daemon *d, int fd);
/* Re-read the policy file; a policy with errors is refused (errors joined
 * in *errors_text, malloc'd, when not NULL) and the old one stays. */
int daemon_reload_policy(struct daemon *d, char **errors_text);
/* Put a loaded policy in force (d takes it): caller rights, filters, cfg. */
void daemon_policy_install(struct daemon *d, struct policy *fresh);
/* r < 0: log every error of a load of path and, if errors_text is not
 * NULL, join them by newlines (malloc'd).  Returns r. */
int daemon_policy_report(const char *path, int r, const struct policy_errors *errors, char **errors_text);
/* Stop as on SIGTERM (drain, then exit), saying why. */
void daemon_stop(struct daemon *d, const char *why);
/* Run corrald until SIGTERM/SIGINT: 0, or 1 after printing why it cannot
 * start.  clock NULL: the real wall clock. */
int daemon_main(const char *policy_path, const char *state_dir, const char *socket_path,
		const struct daemon_clock *clock);

/* cluster_policy.c: the cluster's policy (`corral policy push`), the same on
 * every node over each node's own [supervisor] and [http] */
/* After cluster_start: the latest pushed generation over the file (the
 * first node of a cluster pushes its file's).  0, or -errno when the store
 * fails; a generation that does not load here is logged, the file stays. */
int cluster_policy_start(struct daemon *d);
/* Each cluster tick: apply a newer generation (one cheap read). */
void cluster_policy_poll(struct daemon *d);
/* SIGHUP / policy_reload in a cluster: the file again with the latest text. */
int cluster_policy_reload(struct daemon *d, char **errors_text);
void cluster_policy_free(struct daemon *d);
/* fresh (taken) is generation's policy: put it in force. */
void cluster_policy_installed(struct daemon *d, struct policy *fresh, int64_t generation);
/* The generation in force here (0: the file's own policy); the latest one
 * that did not load here (0: none) and why (NULL: none). */
int64_t cluster_policy_applied(const struct daemon *d, int64_t *failed, const char **error);
/* op_policy.c: policy_push and policy_current */
void op_policy(struct daemon *d, const struct caller *c, const struct api_request *req,
	       struct reply_sink *sink);

/* cluster.c: several corralds on one PostgreSQL store */
/* After node_join: a shared store makes this corrald a node of the
 * cluster (fenced writes, adoption of its tasks by name).  0 or -errno. */
int cluster_start(struct daemon *d);
/* The tick (when due; at once with force): renew this node's leases (or
 * fence itself when it cannot), take its assignments, notice cancels and
 * lost leases, keep or seek the scheduler's lease, and as the scheduler
 * reap expired leases and place queued tasks on nodes. */
void cluster_tick(struct daemon *d, bool force);
/* The in-memory queue from the store (unassigned queued tasks) and the
 * cluster-wide running counts and reservations of every user. */
int cluster_sync_queue(struct daemon *d);
/* A node that stopped renewing its leases gets nothing new for a while. */
bool cluster_node_suspect(const struct store_node *n);
/* cluster_sched.c: the scheduler's round */
/* The scheduler places what it can now (after a submit or an end). */
void cluster_schedule(struct daemon *d);
/* The whole queue from the store (and the live load: cluster_sched_sync). */
int cluster_sched_load(struct daemon *d);
int cluster_sched_sync(struct daemon *d);
/* Not the scheduler: no queue in memory. */
void cluster_sched_forget(struct daemon *d);
/* This node put tasks back in the store's queue: compare at the next round. */
void cluster_sched_queue_changed(void);
/* The cluster as one host, read now, as a round sees it (the online
 * nodes' slots, memory, GPUs, labels and what holds them); the most GPUs
 * free on one node (may be NULL).  free(tg->capacity.labels).  0 or -errno. */
struct queue_target;
int cluster_sched_view(struct daemon *d, struct queue_target *tg, uint32_t *gpus_free_most,
		       uint64_t *cpu_free_most);
/* cluster_fair.c: the scheduler's fairness state in the store */
/* Save the passes of users (repeats allowed) and the virtual time. */
void cluster_fair_save(struct daemon *d, struct duser *const *users, size_t n);
/* The saved state into memory (a tenant without one: no pass of its own). */
int cluster_fair_load(struct daemon *d);
/* cluster_output.c: outputs in the store, readable through any node */
/* Copy what t's output files gained to the store (all of it: final). */
void cluster_output_upload(struct daemon *d, struct dtask *t, bool final);
/* Up to max bytes of task id's stream from offset, from the store
 * (malloc'd *data); *size = what the store holds in all. */
int cluster_output_read(struct daemon *d, int64_t id, bool err_stream, uint64_t offset, uint64_t max,
			unsigned char **data, size_t *n, uint64_t *size);
/* The same for any stream (0 = stdin, 1 = stdout, 2 = stderr). */
int cluster_output_read_stream(struct daemon *d, int64_t id, int stream, uint64_t offset, uint64_t max,
			       unsigned char **data, size_t *n, uint64_t *size);
/* A submit's stdin into the store too (the loop's batch), so any node can
 * run the task. */
int cluster_output_store_stdin(struct daemon *d, int64_t id, const char *data, size_t len);
/* A task taken by another node: its stdin from the store into this node's
 * task dir; st->stdin_path then names that file.  0 or -errno. */
int cluster_output_fetch_stdin(struct daemon *d, struct store_task *st);
/* When the next tick is due (CLOCK_MONOTONIC µs; 0 = not a cluster). */
uint64_t cluster_next_event_mono_us(const struct daemon *d);
/* The store's socket is readable: NOTIFY from another node, tick now. */
void cluster_wake_event(struct daemon *d);
/* A clean stop: resign the scheduler's lease. */
void cluster_stop(struct daemon *d);

/* leash.c: in a cluster, the file whose deadline a task's jail kills
 * itself at (runner/jail.h, leash_path) */
/* <task dir>/leash into buf. */
const char *leash_path(struct daemon *d, int64_t id, char *buf, size_t size);
/* The deadline now: the last renewal that worked + 3/4 of the lease. */
uint64_t leash_deadline_us(const struct daemon *d);
/* Create the task's leash with that deadline (its path into path): 0 or -errno. */
int leash_create(struct daemon *d, int64_t id, char *path, size_t size);
/* A renewal held the task's lease: move its leash on (logged on failure). */
void leash_renewed(struct daemon *d, int64_t id);

/* node.c: this corrald as a node of the store (store_node.h) */
/* Join with this host's capacity (name: node_name, else the host name);
 * 0, or -errno after logging why (corrald does not start). */
int node_join(struct daemon *d);
/* Heartbeat when due: what is free; learns the drain flag; a node taken
 * over by another corrald stops this one. */
void node_heartbeat(struct daemon *d);
/* A drain or undrain of this node by an operator, now. */
void node_set_draining(struct daemon *d, bool draining);
/* A clean stop: the node is offline at once. */
void node_leave(struct daemon *d);

/* node_gpu.c: the GPUs of this node.  node_gpu_detect asks nvidia-smi (at
 * start; absent, failing or slow: none); node_gpu_apply sets node_gpus and
 * node_gpu_memory_bytes from the policy's declaration, else the detected,
 * after every policy load.  node_gpu_parse reads nvidia-smi's
 * `--query-gpu=memory.total --format=csv,noheader,nounits` answer: the
 * count of GPUs and the smallest's memory; -EINVAL on anything else. */
void node_gpu_detect(struct daemon *d);
void node_gpu_apply(struct daemon *d);
int node_gpu_parse(const char *text, uint32_t *count, uint64_t *min_memory_bytes);
/* The cores tasks may hold here (--cpus), x 1000: [supervisor] cores, else
 * the CPUs corrald may run on (its affinity mask at start). */
uint64_t node_cpu_capacity(const struct daemon *d);
/* When the next heartbeat is due (CLOCK_MONOTONIC µs; 0 = none). */
uint64_t node_next_event_mono_us(const struct daemon *d);
/* Whether this node could ever run t (its cores, GPUs, GPU memory, labels
 * and memory against the node's capacity); false with why in buf. */
bool node_task_fits(const struct daemon *d, const struct dtask *t, uint64_t memory_bytes, char *buf,
		    size_t size);
/* What a node offers a task (this one, or another node of a cluster). */
struct node_capacity {
	const char *name;
	uint64_t memory_bytes; /* 0 = unknown: no memory check */
	uint64_t cpu_millis;   /* cores x 1000; 0 = unknown: no check */
	uint32_t gpus;
	uint64_t gpu_memory_bytes;
	const char *labels; /* "a,b" */
};
void node_capacity_self(const struct daemon *d, struct node_capacity *cap);
/* node_task_fits() against any node's capacity. */
bool node_capacity_fits(const struct node_capacity *cap, const struct dtask *t, uint64_t memory_bytes,
			char *buf, size_t size);
/* op_nodes.c */
void op_nodes_list(struct daemon *d, const struct caller *c, const struct api_request *req,
		   struct reply_sink *sink);
void op_nodes_drain(struct daemon *d, const struct caller *c, const struct api_request *req,
		    struct reply_sink *sink);

/* op_token.c: API tokens */
/* The uid an HTTP caller acting through a token is recorded with. */
#define OP_TOKEN_UID ((uid_t)65534)
void op_token(struct daemon *d, const struct caller *c, const struct api_request *req,
	      struct reply_sink *sink);
/* SHA-256 of a token as lowercase hex. */
void op_token_hash(const char *secret, size_t len, char out[65]);
/* The caller a bearer token stands for (tenant, operator rights): 0;
 * -EACCES for an unknown, revoked, expired or malformed token; another
 * -errno when the store failed.  caller_clear() it after 0. */
int op_token_authenticate(struct daemon *d, const char *secret, size_t len, struct caller *out);

/* tenants.c: tenant records; a tenant's limits ([user], record, [default]) */
struct store_tenant;
int tenants_load(struct daemon *d); /* at start, from the store */
/* Read them again (with each heartbeat: what operators changed through
 * another node of a shared store). */
int tenants_refresh(struct daemon *d);
void tenants_free(struct daemon *d);
const struct store_tenant *tenants_find(const struct daemon *d, const char *name);
/* Add or replace a record (copied) / drop one, after the store took it. */
int tenants_remember(struct daemon *d, const struct store_tenant *t);
void tenants_forget(struct daemon *d, const char *name);
size_t tenants_count(const struct daemon *d);
const struct store_tenant *tenants_at(const struct daemon *d, size_t i); /* by name */
/* A tenant's limits now and where they came from (source may be NULL):
 * 0, or -ENOENT (no [user], no usable record, no [default]).  Every
 * lookup of a tenant's plan in corrald goes through these two. */
int tenants_resolve(const struct daemon *d, const char *tenant, struct policy_limits *lim,
		    enum policy_limits_source *source);
int tenants_limits_for(const struct daemon *d, const char *tenant, struct policy_limits *lim);
/* op_tenant.c */
void op_tenant(struct daemon *d, const struct caller *c, const struct api_request *req,
	       struct reply_sink *sink);

/* webhook.c: result webhooks (callback_url), libcurl multi on the loop */
struct webhook_socket;
int webhook_start(struct daemon *d); /* 0, or -errno after logging */
void webhook_stop(struct daemon *d);
/* A socket of a delivery is ready (EP_WEBHOOK). */
void webhook_event(struct daemon *d, struct webhook_socket *s, uint32_t events);
/* Tasks ended: look for due callbacks soon. */
void webhook_kick(struct daemon *d);
/* Timers: curl's, retries, the periodic look for due callbacks. */
void webhook_tick(struct daemon *d);
uint64_t webhook_next_event_mono_us(const struct daemon *d); /* 0 = none */

/* caller.c */
/* Name, groups, tenant, operator and access of c->uid under policy (again
 * after a reload); the tenant_from = group tenant is the passwd primary
 * group, not c->gid.  0, -ENOENT when the uid has no passwd entry (then
 * c->unknown is set and there is no tenant: ops_handle refuses it), or
 * another -errno when something could not be read (c is still filled with
 * what could: a caller without groups). */
int caller_identify(struct caller *c, const struct policy *policy);
/* Every group id of user (primary included), however many: *gids is
 * malloc'd.  0, -ENOMEM, or -E2BIG when the count keeps changing. */
int caller_group_ids(const char *user, gid_t primary, gid_t **gids, size_t *count);
/* The pure decision: operator, access and tenant of c->user in these groups
 * (names, NULL-terminated) with this primary group name (may be NULL). */
void caller_decide(struct caller *c, const struct policy *policy, const char *const *groups,
		   const char *primary_group);
void caller_clear(struct caller *c);

/* start_checks.c */
/* Before corrald opens anything: the uid range against the host's users
 * and subordinate ids, the state, tasks and socket dirs (and parents)
 * owned and writable by root only.  Every problem is logged with its fix;
 * 0, or -EPERM when corrald must not start. */
int start_checks_run(const struct daemon *d);

/* transport_unix.c */
void transport_unix_accept(struct daemon *d);
void transport_unix_event(struct daemon *d, struct client *c, uint32_t events);
void transport_unix_flush_all(struct daemon *d);
/* Connections with requests left for a later turn (round robin): the loop
 * must not sleep while this is true. */
bool transport_unix_has_backlog(const struct daemon *d);
/* One more turn: up to a few requests of every connection with some left. */
void transport_unix_serve_backlog(struct daemon *d);
/* After a policy reload: operator rights, access and tenant of every open
 * connection are worked out again. */
void transport_unix_reidentify_all(struct daemon *d);
void transport_unix_close_all(struct daemon *d);

/* transport_http.c: the HTTP API ([http] listen; transport_http.h) */
/* Open every listener: 0, or -errno after logging (corrald does not start). */
int transport_http_start(struct daemon *d);
/* A listener's epoll fd is ready. */
void transport_http_event(struct daemon *d, void *listener);
/* Run every listener once (answers that came this turn go out). */
void transport_http_run(struct daemon *d);
/* The loop's epoll timeout with HTTP's: 0 while answers wait to go out. */
int transport_http_wait_ms(const struct daemon *d, int wait_ms);
/* Answer what is suspended, close the listeners. */
void transport_http_stop(struct daemon *d);

/* netns_pool.c: network namespaces (lo up) made while the loop is idle,
 * each for one jail (struct jail_spec's netns_fd). */
struct netns_pool_stats {
	uint64_t made, taken;
	uint64_t missed;       /* starts that found the pool empty (their clone made one) */
	uint64_t dropped;      /* closed unused (the setting was lowered) */
	uint64_t failures;     /* attempts to make one that failed */
	uint64_t child_cpu_us; /* the making children's own CPU; the namespaces' creation
				* itself (in the clone) is corrald's */
	size_t ready;
};
/* The loop makes one when it saw no event for this long: a jail that just
 * started (its command loading) and the next request keep the CPUs. */
#define NETNS_POOL_QUIET_MS 4
int netns_pool_create(struct daemon *d); /* 0 or -ENOMEM */
void netns_pool_free(struct daemon *d);  /* closes the unused ones */
/* Below its size, not paused after a failure, and no jail is setting
 * itself up (it needs the CPUs). */
bool netns_pool_wants_more(const struct daemon *d);
/* Make one (~0.7 ms), unless none is wanted. */
void netns_pool_fill_one(struct daemon *d);
/* One for a start: an fd the caller closes after jail_spawn_start(), or -1
 * (empty: the jail's clone makes its own). */
int netns_pool_take(struct daemon *d);
/* A spawn failed to enter the one it took (step "setns", errno err): the
 * pool pauses as after a failure to make one. */
void netns_pool_spawn_refused(struct daemon *d, int err);
void netns_pool_stats(const struct daemon *d, struct netns_pool_stats *out);

/* metrics.c: what /metrics shows (Prometheus text format) */
int metrics_create(struct daemon *d);
void metrics_free(struct daemon *d);
void metrics_http_request(struct daemon *d, int route, unsigned status, uint64_t duration_us);
/* Feeds (tenant: its plan labels the series). */
void metrics_task_submitted(struct daemon *d, const char *tenant);
/* A start and how long the task queued. */
void metrics_task_started(struct daemon *d, const char *tenant, uint64_t queued_us);
/* The command runs: how long its jail took to set up. */
void metrics_task_spawned(struct daemon *d, uint64_t spawn_us);
/* An end (ran: it started, run_us counts). */
void metrics_task_ended(struct daemon *d, const char *tenant, const char *reason, uint64_t run_us, bool ran);
void metrics_cpu_charged(struct daemon *d, const char *tenant, uint64_t cpu_us);
/* A webhook attempt ended: "delivered", "retry" or "failed". */
void metrics_webhook_attempt(struct daemon *d, const char *result);
void metrics_sched_decision(struct daemon *d, uint64_t us);
void metrics_store_commit(struct daemon *d, uint64_t us);
/* The page, malloc'd (NULL: out of memory). */
char *metrics_render(struct daemon *d);

/* ops.c: dispatch and replies */
/* Answer req (parsed, from caller) through sink: at once, or later for
 * parked ops (they take a reference on sink). */
void ops_handle(struct daemon *d, const struct caller *c, const struct api_request *req,
		struct reply_sink *sink);
/* The transport's peer went away: drop replies parked on sink. */
void ops_sink_gone(struct daemon *d, struct reply_sink *sink);
struct reply_sink *ops_sink_ref(struct reply_sink *sink);
void ops_sink_unref(struct reply_sink *sink);
/* Send a response line (owned; NULL is ignored), unless the peer is gone. */
void ops_reply(struct reply_sink *sink, char *line);
void ops_reply_error(struct reply_sink *sink, const char *tag_json, enum api_error_code code, const char *fmt,
		     ...) __attribute__((format(printf, 4, 5)));
/* {"ok":true, ...body} (body's reference is taken). */
void ops_reply_ok_json(struct reply_sink *sink, const char *tag, json_t *body);
void ops_reply_task(struct daemon *d, struct reply_sink *sink, const char *tag, const struct store_task *st);
/* helpers the operations share */
/* The tenant a request acts for; NULL after answering forbidden. */
const char *ops_acting_tenant(const struct caller *c, const struct api_request *req, struct reply_sink *sink);
/* Load task req->id and check c may see it; false after answering. */
bool ops_load_visible_task(struct daemon *d, const struct caller *c, const struct api_request *req,
			   struct reply_sink *sink, struct store_task *st);
bool ops_is_terminal(enum store_task_state s);
char *ops_task_json(struct daemon *d, const struct store_task *t);

/* op_submit.c, op_wait.c: the parked operations */
void op_submit(struct daemon *d, const struct caller *c, const struct api_request *req,
	       struct reply_sink *sink);
void op_wait(struct daemon *d, const struct caller *c, const struct api_request *req,
	     struct reply_sink *sink);
void op_wait_logs(struct daemon *d, const struct caller *c, const struct api_request *req,
		  struct reply_sink *sink);
/* op_usage_adjust.c */
void op_usage_adjust(struct daemon *d, const struct caller *c, const struct api_request *req,
		     struct reply_sink *sink);
/* An ADJUSTMENT object (api.h). */
json_t *ops_adjustment_json(const struct store_adjustment *a);
/* A USAGE object (api.h) of user in month, read from the store. */
json_t *ops_usage_entry(struct daemon *d, const char *user, const char *month);
/* After the store batch committed (ok) or failed: answer pending submits. */
void op_submit_finish_batch(struct daemon *d, bool committed, const char *error);
/* op_status.c: a TASK object's "limits" (effective, and where each comes
 * from) and, while it runs, "live" (its figures so far). */
json_t *op_status_limits(struct daemon *d, const struct store_task *st, const struct dtask *t);
json_t *op_status_live(struct daemon *d, const struct dtask *t);
/* task_json (malloc'd, taken) with both added: a new text, or task_json. */
char *op_status_task_json(struct daemon *d, const struct store_task *st, char *task_json);
/* A task ended or produced output: answer waiters that can be answered. */
void op_wait_wake(struct daemon *d, int64_t task_id, bool ended);
/* Expired waits, follow polls. */
void op_wait_check(struct daemon *d);
/* Drop the waits parked on sink (its peer is gone). */
void op_wait_drop_sink(struct daemon *d, struct reply_sink *sink);

/* op_files.c: a submit's input files and artifact globs (checked: bad_input,
 * too_large; stored in the loop's batch beside the task; a submit naming
 * no artifact globs gets its profile's), and the ops
 * artifacts and fetch.  op_files_store_content: a file's metadata and
 * content (its sha256 computed) into the store. */
enum store_file_kind;
struct store_file;
enum api_error_code op_files_check(struct daemon *d, const char *tenant, const struct api_request *req,
				   const struct policy_limits *lim, uint64_t *bytes, char *msg, size_t size);
int op_files_store(struct daemon *d, int64_t id, const char *tenant, const struct api_request *req,
		   const char *const *profile_artifacts, struct error *err);
int op_files_store_content(struct daemon *d, int64_t id, enum store_file_kind kind, struct store_file *f,
			   const unsigned char *data, size_t len, struct error *err);
/* A task's inputs removed from the store at its (terminal) end, their bytes
 * off its stored_bytes; what was freed (0 on a failure, logged). */
uint64_t op_files_drop_inputs(struct daemon *d, int64_t id);
void op_files_artifacts(struct daemon *d, const struct caller *c, const struct api_request *req,
			struct reply_sink *sink);
void op_files_fetch(struct daemon *d, const struct caller *c, const struct api_request *req,
		    struct reply_sink *sink);
/* task_workdir.c: a task with files gets a host tmpfs at <task dir>/work
 * as its /work, its inputs written there before the spawn (1: made, path
 * filled; 0: the task has no files), its artifacts collected after any end
 * (then the tmpfs is unmounted and removed; nothing when there is none).
 * A store that fails its reads (a lost connection) fails it at step
 * TASK_STEP_STORE: the host's fault, the start is requeued (sched/retry.h). */
#define TASK_STEP_STORE "store"
int task_workdir_prepare(struct daemon *d, int64_t id, uid_t uid, gid_t gid, uint64_t bytes, char *path,
			 size_t size, struct jail_error *err);
void task_workdir_collect(struct daemon *d, int64_t id, const char *user);
/* One left behind (a requeued task cancelled while queued): removed. */
void task_workdir_drop(struct daemon *d, int64_t id);
/* Bytes a collection stored for user in the open batch: they join the
 * tenant's counter in task_workdir_batch_done() if the batch committed,
 * else they are forgotten. */
void task_workdir_count_at_commit(struct daemon *d, const char *user, uint64_t bytes);
void task_workdir_batch_done(struct daemon *d, bool committed);

/* op_upload.c: staged uploads (upload_begin, upload_chunk, upload_abort);
 * op_upload_expire: the expired ones removed (a small batch, at most every
 * few seconds unless now); how many. */
void op_upload(struct daemon *d, const struct caller *c, const struct api_request *req,
	       struct reply_sink *sink);
size_t op_upload_expire(struct daemon *d, bool now);

/* storage.c: per-tenant storage, max_stored, retention */
#define STORAGE_RETENTION_BATCH 64   /* tasks removed per tick, at most */
#define STORAGE_RETENTION_TENANTS 32 /* tenants whose tasks are looked up per tick */
#define STORAGE_RETENTION_IDLE_S 60  /* between ticks when the last removed nothing */
/* Every tenant's counter from the store (at start, before recovery). */
int storage_load(struct daemon *d);
/* API_ERR_NONE when need more bytes fit u's max_stored, else
 * API_ERR_STORAGE_QUOTA with the message a client sees. */
enum api_error_code storage_check_quota(const struct duser *u, const struct policy_limits *lim, uint64_t need,
					char *msg, size_t size);
/* Retention: remove a small batch of expired ended tasks (and their
 * files), in their own transactions; nothing while the loop's batch is
 * open.  How many were removed (the loop comes back sooner when some were). */
size_t storage_retention_tick(struct daemon *d);

/* queue.c; queue_dispatch.c: queue_dispatch*; queue_describe.c: queue_describe */
struct duser *queue_user(struct daemon *d, const char *name); /* find or create */
struct duser *queue_find_user(struct daemon *d, const char *name);
void queue_push(struct daemon *d, struct dtask *t);
void queue_push_front(struct daemon *d, struct dtask *t); /* back at the head: a start that failed */
/* Back in its user's queue at its submit order (t->seq): a retry. */
void queue_push_in_order(struct daemon *d, struct dtask *t);
bool queue_remove(struct daemon *d, int64_t id); /* a queued task */
/* Free a task out of every list (its labels, cancelled_by; not its jail). */
void queue_task_free(struct dtask *t);
struct dtask *queue_find(struct daemon *d, int64_t id);
/* Start what the scheduler picks, at most DISPATCH_MAX_STARTS at a time
 * (dispatch_needed stays set when more could start); their records join
 * the loop's store batch, their jails spawn once it commits. */
void queue_dispatch(struct daemon *d);
/* Where a dispatch places tasks: a node of the cluster with its capacity
 * and what is used of it (queue_dispatch: this corrald, at start_here). */
struct queue_target {
	struct sched_host host;
	struct node_capacity capacity;
	size_t max_starts; /* 0 = its free slots */
	const char *incarnation;
};
/* Start what the scheduler picks for tg (NULL: this node) through start:
 * 0 started, -EAGAIN stop this round (the task is back in its queue),
 * -ESTALE stop (not ours to place any more), another -errno: that task
 * failed.  How many started. */
typedef int (*queue_start_fn)(struct daemon *d, struct dtask *t, uint64_t cpu_limit_us, bool capped,
			      uint64_t memory_bytes, void *ctx);
size_t queue_dispatch_to(struct daemon *d, const struct queue_target *tg, queue_start_fn start, void *ctx);
/* cluster_admit.c: a submit's checks over the whole cluster */
struct admit_room {
	uint32_t running;              /* the tenant's tasks holding a slot (running or assigned) */
	uint32_t queued;               /* its queued tasks nobody was assigned */
	uint64_t reserved_us;          /* its CPU reservations */
	uint32_t slots, busy;          /* the slots of the nodes that take work, and those held */
	size_t queued_total;           /* every queued task nobody was assigned */
	uint32_t gpus, gpus_free_most; /* GPUs in all; the most free on one node */
	uint64_t cpu_free_most;        /* the most cores (x 1000) not held by --cpus on one node */
	struct node_capacity capacity; /* what the largest node offers (labels: free()) */
};
/* The tenant's and the cluster's room from the store now (the scheduler
 * stays the authority: a start may still wait a round).  0 or -EIO. */
int cluster_admit_room(struct daemon *d, const char *tenant, struct admit_room *room);
void cluster_admit_room_free(struct admit_room *room);
/* A tenant's running (or assigned), queued and stored over the cluster, for
 * `usage`: load keeps this node's figures when the store cannot say. */
void cluster_admit_usage(struct daemon *d, const char *tenant, struct store_tenant_load *load);
/* The plan's max_stored over the cluster: the tenant's stored bytes on
 * every node, under its quota lock, in a batch of its own (the open one
 * is committed first); cluster_admit_release() commits it once the submit
 * is stored or refused. */
enum api_error_code cluster_admit_storage(struct daemon *d, struct duser *u, const struct policy_limits *lim,
					  uint64_t need, char *msg, size_t size);
void cluster_admit_release(struct daemon *d);
/* Queued rows (a store list) into the in-memory queue, in their order. */
int queue_push_rows(struct daemon *d, const struct store_task_list *list);
/* Forget every queued task (the users stay). */
void queue_clear(struct daemon *d);
/* Rows into the queue unless it holds them already, each in id order. */
int queue_merge_rows(struct daemon *d, const struct store_task_list *list);
/* Drop the queued tasks whose ids are in ids (sorted); how many. */
size_t queue_remove_ids(struct daemon *d, const int64_t *ids, size_t n);
#define DISPATCH_MAX_STARTS 8u
/* Limits of a user from the current policy (0, or -ENOENT). */
int queue_limits(struct daemon *d, const struct duser *u, struct policy_limits *lim);
/* The user's budget in µs (LIMIT_NONE = unlimited, 0 = suspended). */
uint64_t queue_budget_us(const struct policy_limits *lim);
/* What u may use this month: the plan's budget plus the month's
 * adjustments (admission_budget_adjusted); call queue_refresh_month first. */
uint64_t queue_user_budget_us(const struct duser *u, const struct policy_limits *lim);
/* Re-read u's usage and adjustments when the month changed (or u->month
 * was cleared to ask for it). */
void queue_refresh_month(struct daemon *d, struct duser *u);
struct queue_entry {
	int64_t id;
	uint32_t position;  /* 1 = next; 0 = none (cannot start this month) */
	const char *reason; /* sched_reason_name() */
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
/* Record the end of task id of tenant user now (outside the batch
 * machinery); false when the store refused it (then it is kept and
 * retried). */
bool task_end_record(struct daemon *d, int64_t id, const char *user, enum store_task_state state,
		     enum store_task_reason reason, const char *message, const struct jail_result *res);
/* task_requeue.c: t back in the queue at its submit order after a
 * recorded requeue (its jail handle released, the backoff as not_before). */
void task_requeue_back(struct daemon *d, struct dtask *t, uint64_t cpu_total_us, uint64_t backoff_us);
/* A start the store failed under whose requeue the store refused too: t
 * (out of the queue and the running set, its host uid given back) is
 * held and the requeue retried at every poll (task_requeue_retry_held)
 * until the store takes it (then backoff_us before the next start); a
 * cancel asked for meanwhile ends it cancelled.  0 or -ENOMEM. */
int task_requeue_hold(struct daemon *d, struct dtask *t, uint64_t backoff_us, const char *reason,
		      uint64_t cpu_total_us);
void task_requeue_retry_held(struct daemon *d);
/* After a restart: task id's running attempt is a start held when corrald
 * stopped (its command never ran); forget that once it is settled. */
bool task_requeue_was_held(struct daemon *d, int64_t id);
void task_requeue_forget_held(struct daemon *d, int64_t id);
/* At exit: what is still held stays running in the store (the next start settles it). */
void task_requeue_drop_held(struct daemon *d);
/* A running task's jail ended (or must be collected): record its end. */
void task_end(struct daemon *d, struct dtask *t);
struct retry_case;
/* An attempt of task id (of user) ended before its command started, or with
 * its end lost: back to the queue if sched/retry.h's rules and the user's
 * plan (max_attempts, retry_lost) allow it; rc's attempt fields are the
 * caller's, the plan's are filled here.  In one store transaction
 * (store_requeue: reason kept as last_attempt_error, cpu_total_us charged
 * as a finish would, the backoff as not_before).  t (NULL after a restart:
 * queue_load() picks the task up) must be out of the running set; when
 * requeued it is back in the queue at its submit order, its jail handle
 * released.  true when requeued; false: the caller ends the task. */
bool task_end_try_requeue(struct daemon *d, int64_t id, const char *user, struct dtask *t,
			  struct retry_case *rc, const char *reason, uint64_t cpu_total_us);
/* Remove a task's stdin file (it ended, or its command holds it open) and
 * forget the path. */
void task_end_drop_stdin(struct dtask *t);

/* daemon_run.c */
/* Record a start that failed (spawn_error). */
bool task_start_fail(struct daemon *d, struct dtask *t, const char *message);
/* Start a task the scheduler picked: 0, -EAGAIN when it was put back at the
 * head of its queue (the store refused, no host uid), other -errno when it
 * failed to start (recorded as spawn_error). */
int task_start(struct daemon *d, struct dtask *t, uint64_t cpu_limit_us, bool budget_capped,
	       uint64_t memory_reserved);
/* The same with its record in the loop's store batch (one commit for a
 * turn's submits, ends and starts): the jail is spawned by
 * task_start_spawn_pending() once the batch committed, never before. */
int task_start_batched(struct daemon *d, struct dtask *t, uint64_t cpu_limit_us, bool budget_capped,
		       uint64_t memory_reserved);
/* The batch is settled: not committed, the batched starts go back to
 * their queues (or away with a submit that was not stored either). */
void task_start_batch_done(struct daemon *d, bool committed);
/* Spawn the batched starts of a committed batch, in dispatch order. */
void task_start_spawn_pending(struct daemon *d);
/* The jail's start report arrived: the command runs, or setup failed. */
void task_start_reported(struct daemon *d, struct dtask *t);

/* running.c: the running set */
struct dtask *running_find(struct daemon *d, int64_t id);
/* A free host uid slot, marked taken: 0, or -EAGAIN when none is free. */
int running_take_uid_slot(struct daemon *d, uint32_t *slot);
/* The one way in (a start, an adoption): t->user, uid_slot, cpu_limit_us
 * and memory_reserved are set; counts and reservations follow. */
void running_enter(struct daemon *d, struct dtask *t);
/* The one way out: counters, host uid, reservations, its pidfd. */
void running_leave(struct daemon *d, struct dtask *t);
/* A handover (SIGUSR2): let go of every running task without ending it,
 * its jail left running for the next corrald to adopt (recover.c). */
void running_hand_over_all(struct daemon *d);

/* handover.c: at start, remember which program runs (its path); at a
 * handover, execute it again with the same arguments (returns only on
 * failure: -errno); at start, reap children a previous image left (jails'
 * inits that ended during the handover). */
void handover_remember_exe(void);
int handover_reexec(void);
void handover_reap_children(void);

/* task_watch.c */
/* The soonest CPU check of a task near its CPU limit. */
#define CPU_CHECK_MIN_US 10000u
void task_watch_pidfd_ready(struct daemon *d, struct dtask *t);
void task_watch_poll(struct daemon *d);      /* charge CPU, enforce CPU and budget */
void task_watch_deadlines(struct daemon *d); /* timeouts and grace periods */
uint64_t task_watch_next_event_mono_us(struct daemon *d);
void task_watch_cancel(struct daemon *d, struct dtask *t, const char *by);
void task_end_shutdown_all(struct daemon *d);
/* Tasks the store says are running (a previous corrald's): adopt their
 * jails, or settle them from their status files (policy on_restart). */
void recover_running(struct daemon *d);
void task_end_retry_unfinished(struct daemon *d); /* ends the store refused (disk full): again */
/* The store batch committed (or not): free the ended jails' cgroups, answer
 * waiters, or keep the ends for a retry. */
void task_end_batch_done(struct daemon *d, bool committed);
struct jailspec;
/* The profile's compiled filter (extra syscall rules), cached until reload. */
int task_start_filter(struct daemon *d, const char *profile, const struct jailspec *ps,
		      const struct jail_filter **out, struct jail_error *err);
void task_start_forget_filters(struct daemon *d);
const char *task_start_dir(struct daemon *d, int64_t id, char *buf, size_t size);
/* Task directories spread over the filesystem's groups (ext4: chattr +T). */
void task_start_spread_dirs(struct daemon *d);

#endif
