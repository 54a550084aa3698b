/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/api/api.h — corrald's wire protocol: one JSON object per line on a
 * Unix stream socket, each request answered by one response line (`wait` and
 * `logs` with follow may answer later).  This header is the contract between
 * corrald (supervisor/corrald/) and the client (supervisor/corral/).
 *
 * Request:  {"op": "submit", "tag": <any, echoed back>, ...op fields}
 * Response: {"ok": true, "tag": ..., ...}  or
 *           {"ok": false, "tag": ..., "error": {"code": "not_found", "message": "task 42 does not exist"}}
 *
 * The operations, their request fields (which are required), who may call
 * them and whether they change anything: the table in api_ops.c (the one
 * description of the API; the codec, corrald and the client all use it).
 * What the ops answer (fields given to an op that are not in its table
 * entry are refused as bad_request):
 *   ping / version                     -> {"version": "0.1.0", "pid": N}
 *   submit   argv: 1..256 strings, each < 64 KiB, together <= 128 KiB
 *            (API_MAX_ARGV_TOTAL; more: too_large); user: operators any
 *            tenant, others only themselves; env: "K=V" strings (<= 256,
 *            together <= 64 KiB: API_MAX_ENV_TOTAL; more: too_large)
 *            added to the default environment (the profile's env, else
 *            PATH, HOME, LANG); clear_env: env alone (needs env);
 *            stdin: content (<= 1 MiB); timeout_ms, cpu_limit_ms,
 *            memory_bytes: <= the plan's; no_queue: fail rather than
 *            queue.  What the task stores (argv, env, stdin, later its
 *            outputs) counts against the plan's max_stored: storage_quota.
 *            What it needs of a node: gpus (<= 1024), gpu_memory_bytes (per
 *            GPU), labels (<= 16 names the node must offer), cpu_millis (cores
 *            in thousandths, API_MIN_CPU_MILLIS..API_MAX_CPU_MILLIS: 500 = half
 *            a core, 2000 = two; <= the plan's cpus, else limit_exceeded):
 *            reserved of its node's cores while it runs (the sum of the
 *            running tasks' never exceeds a node's cores) and enforced as its
 *            CPU bandwidth quota (cpu.max, cpu.cfs_quota_us) instead of the
 *            plan's cpus; absent: the plan's quota, nothing reserved; a task
 *            no node could ever fit waits with pending reason no_node_fits
 *                                       -> {"task": TASK}
 *   status, cancel                     -> {"task": TASK}
 *   list     limit: default 100, <= 1000; after: an id, only older tasks
 *            (the next page); since_us, until_us: only tasks submitted in
 *            [since_us, until_us) (epoch µs)
 *                                       -> {"tasks": [SUMMARY, ...] newest first,
 *                                           "next_after": the last id when the
 *                                           page is full (more may follow), else null}
 *   queue                              -> {"queue": [SUMMARY, ...]} in start order
 *   wait     timeout_ms (0 = poll)     -> {"task": TASK} once terminal;
 *                                          error wait_timeout otherwise
 *   logs     stream: "stdout"|"stderr" (default stdout), offset, max (default/
 *            at most 1 MiB), follow
 *                                       -> {"data_base64": str, "offset": next,
 *                                           "eof": bool (task ended, nothing more)}
 *            with follow: answered when there is data past offset or the task ended.
 *   policy_reload (operators only)     -> {"policy": path, "plans": N, "users": N,
 *                                          "profiles": N}; error policy_invalid with
 *                                          every error (one per line) in the message,
 *                                          the old policy stays in force
 *   usage    month: "YYYY-MM" (default: this month, UTC)
 *                                       -> {"usage": [USAGE, ...]}
 *   usage_adjust (operators only) user: the tenant (required, must have a
 *            plan: else unknown_user); reason: 1..256 bytes (required); and
 *            exactly one of delta_us (signed, not 0: > 0 grants CPU time for
 *            this month, < 0 takes it back) or set_left_us (>= 0: the
 *            adjustment that makes what is left exactly that, now; refused
 *            for an unlimited budget); |value| <= 10^6 hours.  Appends an
 *            ADJUSTMENT to this month (UTC); the charged usage is not touched.
 *                                       -> {"adjustment": ADJUSTMENT, "usage": USAGE}
 *   nodes                              -> {"nodes": [NODE, ...]} by name
 *   node_drain, node_undrain (operators only) node: a node name (required;
 *            not_found when no such node ever joined)
 *                                       -> {"node": NODE}
 *   token_create (operators only) user: the tenant the token acts for
 *            (required); name (<= 64 bytes), operator (an operator's token: any
 *            tenant), expires_ms (from now; absent = never)
 *                                       -> {"token": TOKEN, "secret": "crl_..."}
 *            (the secret is shown once: the store keeps only its SHA-256)
 *   token_list (operators only)        -> {"tokens": [TOKEN, ...]} by id
 *   token_revoke (operators only) id   -> {"token": TOKEN}; not_found for no live token
 *   submit's idempotency_key (1..255 printable bytes): a submit with a key the
 *            tenant used before answers the task the first one created.
 *   submit's callback_url (http:// or https://, <= 2048 bytes, its host in the
 *            policy's [http] callback_hosts, else forbidden): when the task ends,
 *            corrald POSTs {"task": TASK} there with X-Corral-Signature: sha256=HEX
 *            (HMAC-SHA256 of the body with [http] callback_secret), retried with
 *            backoff; redirects are not followed.
 *   tenant_set (operators only) user: the tenant (required), plan: a plan of
 *            the policy (required; bad_request "unknown plan ..." otherwise),
 *            max_concurrent (1..100000; absent = the plan's): a tenant record,
 *            over [default], under a [user] section; audited
 *                                       -> {"tenant": TENANT}
 *   tenant_show (operators only) user   -> {"tenant": TENANT or null, "audit":
 *            [TENANT_AUDIT, ...] oldest first}; not_found when neither exists
 *   tenant_list (operators only)        -> {"tenants": [TENANT, ...]} by name
 *   tenant_delete (operators only) user -> {"tenant": TENANT} as it was;
 *            not_found for no record; audited
 *   policy_push (operators only; a cluster's nodes only, else not_clustered)
 *            text: the cluster-wide sections ([access], [default], [plan],
 *            [user], [profile]) as policy-file text (1..API_MAX_POLICY_TEXT
 *            bytes, no includes, no [supervisor] or [http]); file: the name
 *            errors give it (default "pushed").  Validated over this node's
 *            own file, stored as the next generation, applied by every node
 *            (policy_invalid with every error, file:line, one per line:
 *            nothing stored)  -> {"generation": N, "sha256", "plans", "users",
 *                                 "profiles"}
 *   policy_current (operators only)     -> {"clustered": bool, "node": this node,
 *            "policy": its file, "generation": N (the latest pushed; 0 = none or
 *            one host), "applied": N (what this node runs; 0 = its file's own),
 *            "failed": the latest generation that did not load here (0 = none),
 *            "error": why, or null, "text", "sha256", "pushed_by", "pushed_at_us"
 *            (null on one host), "nodes": [{"node", "applied", "failed", "error",
 *            "at_us"}] every node's, by name ([] on one host)}
 *   submit's files: [{"name": "src/a.c", "mode": 420, "data_base64": "..."}, {"name":
 *            "src", "mode": 493, "dir": true}, ...] (<= API_MAX_FILES entries; names
 *            relative to /work, no "..", components <= 255 bytes, paths <= 4096; in
 *            all <= the plan's max_input, else too_large; a bad name or entry:
 *            bad_input), stored with the task and written into its /work before
 *            the command starts, removed from the store when the task ends;
 *            artifacts: [GLOB, ...] (<= 64, fnmatch on paths relative to /work;
 *            none: the profile's `artifacts`): after the end the matching regular
 *            files are kept (<= the plan's max_artifact in all, <= 1000 files;
 *            what a cap cut is listed truncated)
 *            Over HTTP the files may also come in a multipart/form-data or tar body
 *            (corrald's http_upload.c): the request then carries them as
 *            req->inputs, checked and stored as files' entries are.
 *   artifacts id                       -> {"artifacts": [ARTIFACT, ...] by name}
 *   fetch    id, name, offset (a multiple of 192 KiB, the store's chunk; up to
 *            API_MAX_FILE_CHUNK bytes per answer)
 *                                       -> {"data_base64", "offset": next, "eof", "size",
 *                                           "sha256", "truncated"}; not_found for no
 *                                           such artifact
 *   upload_begin size (bytes, 1..the plan's max_input, else too_large);
 *            task_bytes (optional): the bytes of all the input files of the
 *            task it is staged for, too_large at once when over max_input (a
 *            client stages nothing of a submit that cannot be taken); user:
 *            operators any tenant, others only themselves.  Stages a file too
 *            large for one request line (a submit's line is at most
 *            API_MAX_LINE): the tenant's unfinished uploads hold at most
 *            API_UPLOAD_MAX_COUNT uploads and 2 x max_input bytes (too_large),
 *            and count with what its tasks hold against max_stored
 *            (storage_quota); an upload not taken by a submit within
 *            API_UPLOAD_TTL_S of its last chunk expires and is removed
 *                                       -> {"upload": ID, "chunk": 196608 (bytes per
 *                                           store chunk), "expires_at_us"}
 *   upload_chunk upload: ID, offset (where the last chunk ended), data_base64: a
 *            multiple of 196608 bytes, up to API_MAX_UPLOAD_CHUNK, or the rest
 *            of the file; a bad offset or size: bad_request
 *                                       -> {"upload", "received", "complete",
 *                                           "sha256" (hex, once complete, else "")}
 *            A submit's files entry {"name", "mode", "upload": ID} takes a
 *            complete upload of its tenant (another tenant's or an unknown id:
 *            bad_input; one not complete: bad_input): its bytes count in
 *            max_input and the task's stored_bytes like inline data, and the
 *            upload is gone once the submit is acknowledged.
 *   upload_abort upload: ID             -> {"upload": ID} removed; not_found for none of
 *                                           the tenant's
 * ARTIFACT: {"name", "size" (bytes kept), "sha256" (hex of those; "" when none were
 *         kept), "truncated" (cut by max_artifact or the file count), "mode"}
 *
 * TASK: {"id", "user", "profile", "argv", "state" (queued|running|succeeded|failed|cancelled),
 *        "reason" (exit_code|signal|timeout|oom|cpu_limit|budget|output_limit|cancelled|
 *        spawn_error|supervisor_lost|shutdown, or null), "message", "exit_code", "signal"
 *        (message, exit_code, signal: null when none),
 *        "submitted_at_us", "started_at_us", "ended_at_us" (epoch µs, 0 = not yet),
 *        "timeout_ms", "cpu_limit_ms", "memory_bytes", "cpu_us", "cpu_user_us",
 *        "cpu_system_us", "memory_peak_bytes", "oom_killed", "oom_kills" (processes the
 *        OOM killer killed in its cgroup: true / counted also when the task itself
 *        survived and exited 0), "stdout_bytes", "stderr_bytes",
 *        "stdout_truncated", "stderr_truncated" (stdout_bytes/stderr_bytes count what the task
 *        wrote, including what was cut off at the output limit), "attempts" (starts so
 *        far), "node" (the cluster node it was assigned to, runs or ran on; null on
 *        one host), "last_attempt_error" (why the last attempt that went back to the queue
 *        ended — its command never started; null = none),
 *        queued only: "position" (1 = next; 0 = cannot start this month: budget
 *        used up or suspended; in a cluster the scheduler's order, the same
 *        through every node), "pending_reason" (concurrency_limit|budget_exhausted|
 *        budget_reserved|host_capacity|fair_share|node_draining|no_node_fits),
 *        "pending_message"; "gpus", "gpu_memory_bytes", "labels", "cpu_millis" (what it
 *        needs of a node; cpu_millis 0 = none asked); "argv_truncated" (false in a TASK), "stored_bytes" (what the store holds
 *        for it: argv, env, stdin and, once ended, its outputs)
 *        ("timeout_ms", "cpu_limit_ms", "memory_bytes": what the submit asked
 *        for, 0 = nothing asked: the limits in force are in "limits"),
 *        corrald adds (supervisor/corrald/op_status.c):
 *        "limits": {"plan" (or null), "wall_us", "cpu_us", "memory_bytes",
 *        "output_bytes" (the limits in force: a running task's as it started,
 *        else the request over the current policy; null = unlimited, never 0),
 *        "wall_from", "cpu_from", "memory_from", "output_from" (task: asked for
 *        at submit; user: the tenant's [user] section; plan: its plan; budget:
 *        the CPU limit cut to what the month's budget left; none: unlimited)},
 *        running only: "live": {"elapsed_us", "cpu_us", "cpu_user_us",
 *        "cpu_system_us", "memory_bytes" (now), "memory_peak_bytes",
 *        "stdout_bytes", "stderr_bytes" (so far, read from the jail's cgroup and
 *        output files when asked; the stored figures are written at the end)}}
 * SUMMARY (list, queue): a TASK whose "argv" is a preview: the first arguments
 *        up to API_ARGV_PREVIEW (256) bytes in all, the last one maybe cut, and
 *        "argv_truncated": true when anything was left out (status has it all).
 *        list's carry "limits", its running ones "live", its queued ones their
 *        position and pending reason as in a TASK.
 * USAGE: {"user", "plan", "month", "cpu_used_us" (charged: exactly what the tasks
 *         used), "cpu_adjust_us" (sum of the month's adjustments), "cpu_budget_us"
 *         (the plan's plus cpu_adjust_us, never below 0; null = unlimited, 0 =
 *         suspended or taken back), "cpu_left_us" (null = unlimited), "running",
 *         "queued", "stored_bytes" (what the tenant's tasks hold in the store:
 *         inputs, outputs, artifacts; in a cluster these three count every
 *         node's tasks), "max_stored_bytes" (the plan's
 *         max_stored; null = unlimited), "adjustments": [ADJUSTMENT, ...] oldest first}
 * ADJUSTMENT: {"id", "user", "month", "delta_us", "by" (user name), "by_uid",
 *         "at_us", "reason"}
 * TOKEN: {"id", "name", "tenant", "operator", "created_at_us", "last_used_at_us",
 *         "expires_at_us", "revoked_at_us" (0 = not yet / never)}
 * TENANT: {"name", "plan" (the record's), "max_concurrent" (null = the plan's),
 *         "updated_at_us", "updated_by", "effective_plan", "source" (where the
 *         tenant's limits come from now: "user_section" (a [user] section wins),
 *         "tenant_record", or "default" (also when the record's plan is no
 *         longer in the policy)), "effective_max_concurrent"}
 * TENANT_AUDIT: {"id", "tenant", "action" (set|delete), "plan" (null for delete),
 *         "max_concurrent" (null = the plan's), "by", "by_uid", "at_us"}
 * NODE: {"name", "state" (online|draining|offline), "draining", "left" (stopped
 *         cleanly), "heartbeat_age_ms" (on the database's clock), "offline_after_ms",
 *         "version", "labels": [str], "started_at_us", "capacity": {"cores", "memory_bytes",
 *         "slots", "gpus", "gpu_memory_bytes"}, "free": {"slots", "memory_bytes", "gpus",
 *         "cpu_millis" (cores less what its tasks asked with cpu_millis, x 1000)},
 *         "running", "load" (1-minute load average), "self" (the node answering),
 *         "policy": {"applied" (the cluster policy generation it runs; 0: its own
 *         file's), "latest", "failed" (the latest that did not load there; 0: none),
 *         "error" (why; operators only, else null)} (null on one host);
 *         operators only: "stats": {"started" (attempts), "succeeded", "failed",
 *         "cancelled", "lost" (supervisor_lost), "cpu_us"}}
 *
 * Limits: a request line of at most API_MAX_LINE bytes; at most 64 connections per
 * non-root uid (the 65th gets one too_large error line and is closed); at most 256
 * waiting wait/logs requests per connection (too_large); a client that leaves more
 * than 16 MiB of answers unread is disconnected.
 *
 * Error codes (stable): bad_request, unknown_op, too_large, unknown_user, forbidden,
 * not_found, unknown_profile, limit_exceeded, concurrency_limit, budget_exhausted,
 * queue_full, wait_timeout, shutting_down, storage_full, internal, host_capacity (submit
 * with no_queue while every slot of the host is taken), policy_invalid, budget_reserved
 * (submit with no_queue while the budget left is held by the tenant's running tasks;
 * budget_exhausted means it is used up, or 0: a suspended tenant), storage_quota
 * (submit: the tenant's tasks would hold more than the plan's max_stored), not_clustered
 * (policy_push on one host: the policy file is the policy there), bad_input
 * (submit: a file name or entry of files that corrald refuses).
 */
#ifndef CORRAL_SUPERVISOR_API_H
#define CORRAL_SUPERVISOR_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "supervisor/common/error.h"

#define API_MAX_LINE (2u << 20) /* a request line longer than this: too_large */
#define API_MAX_TAG 1024u       /* a tag longer than this (as JSON): too_large */
#define API_MAX_ARGS 256
#define API_MAX_ARG_BYTES (64u << 10)
#define API_MAX_ARGV_TOTAL (128u << 10) /* argv's strings together, bytes */
#define API_MAX_ENV 256
#define API_MAX_ENV_TOTAL (64u << 10) /* env's strings together, bytes */
#define API_MAX_STDIN (1u << 20)
#define API_MAX_LOG_CHUNK (1u << 20)
#define API_DEFAULT_LIST_LIMIT 100
#define API_MAX_LIST_LIMIT 1000
#define API_MAX_QUEUE_ANSWER 10000                     /* queue: at most this many SUMMARYs */
#define API_ARGV_PREVIEW 256u                          /* a SUMMARY's argv: bytes of strings */
#define API_MAX_ADJUST_US (1000000ll * 3600 * 1000000) /* usage_adjust: 10^6 hours */
#define API_MAX_REASON 256u                            /* usage_adjust's reason, bytes */
#define API_MAX_GPUS 1024u
#define API_MIN_CPU_MILLIS 10u       /* submit's cpu_millis: 0.01 core (a 1 ms quota per 100 ms) */
#define API_MAX_CPU_MILLIS 1024000u  /* ... at most 1024 cores (STORE_MAX_CPU_MILLIS) */
#define API_MAX_LABELS 16u           /* a task's labels, each a node label name (1-63 of A-Za-z0-9._-) */
#define API_MAX_IDEMPOTENCY_KEY 255u /* submit's idempotency_key, bytes */
#define API_MAX_TOKEN_NAME 64u       /* token_create's name, bytes */
#define API_MAX_TOKEN_EXPIRES_MS (3650ull * 86400 * 1000) /* token_create: 10 years */
#define API_MAX_PLAN_NAME 128u                            /* tenant_set's plan, bytes */
#define API_MAX_TENANT_CONCURRENT 100000u                 /* tenant_set's max_concurrent */
#define API_MAX_CALLBACK_URL 2048u                        /* submit's callback_url, bytes */
#define API_MAX_POLICY_TEXT (1u << 20)                    /* policy_push's text, bytes */
#define API_MAX_POLICY_FILE 4096u                         /* policy_push's file (a name), bytes */
#define API_MAX_FILES 1000u               /* submit's files: entries (files and directories) */
#define API_MAX_ARTIFACT_PATTERNS 64u     /* submit's artifacts: globs */
#define API_MAX_FILE_CHUNK (960u << 10)   /* fetch: bytes per answer at most (5 of the store's chunks) */
#define API_MAX_UPLOAD_CHUNK (960u << 10) /* upload_chunk: bytes per request at most (5 store chunks) */
#define API_UPLOAD_MAX_COUNT 1000u        /* a tenant's unfinished uploads at most */
#define API_UPLOAD_TTL_S 900u             /* an upload untouched this long expires (seconds) */

enum api_op {
	API_OP_PING = 0,
	API_OP_VERSION,
	API_OP_SUBMIT,
	API_OP_STATUS,
	API_OP_LIST,
	API_OP_QUEUE,
	API_OP_CANCEL,
	API_OP_WAIT,
	API_OP_LOGS,
	API_OP_USAGE,
	API_OP_POLICY_RELOAD,
	API_OP_USAGE_ADJUST,
	API_OP_NODES,
	API_OP_NODE_DRAIN,
	API_OP_NODE_UNDRAIN,
	API_OP_TOKEN_CREATE,
	API_OP_TOKEN_LIST,
	API_OP_TOKEN_REVOKE,
	API_OP_TENANT_SET,
	API_OP_TENANT_SHOW,
	API_OP_TENANT_LIST,
	API_OP_TENANT_DELETE,
	API_OP_POLICY_PUSH,
	API_OP_POLICY_CURRENT,
	API_OP_ARTIFACTS,
	API_OP_FETCH,
	API_OP_UPLOAD_BEGIN,
	API_OP_UPLOAD_CHUNK,
	API_OP_UPLOAD_ABORT,
	API_OP_COUNT /* not an op: how many there are */
};

enum api_error_code {
	API_ERR_NONE = 0,
	API_ERR_BAD_REQUEST,
	API_ERR_UNKNOWN_OP,
	API_ERR_TOO_LARGE,
	API_ERR_UNKNOWN_USER,
	API_ERR_FORBIDDEN,
	API_ERR_NOT_FOUND,
	API_ERR_UNKNOWN_PROFILE,
	API_ERR_LIMIT_EXCEEDED,
	API_ERR_CONCURRENCY_LIMIT,
	API_ERR_BUDGET_EXHAUSTED,
	API_ERR_QUEUE_FULL,
	API_ERR_WAIT_TIMEOUT,
	API_ERR_SHUTTING_DOWN,
	API_ERR_STORAGE_FULL,
	API_ERR_INTERNAL,
	API_ERR_HOST_CAPACITY,
	API_ERR_POLICY_INVALID,
	API_ERR_BUDGET_RESERVED,
	API_ERR_STORAGE_QUOTA,
	API_ERR_NOT_CLUSTERED,
	API_ERR_BAD_INPUT,
};

/* "bad_request", ... ; NULL for API_ERR_NONE. */
const char *api_error_name(enum api_error_code code);
const char *api_op_name(enum api_op op);
/* Name -> value ("not_found" -> API_ERR_NOT_FOUND, "ping" -> API_OP_PING);
 * -EINVAL for an unknown name. */
int api_error_parse(const char *name, enum api_error_code *out);
int api_op_parse(const char *name, enum api_op *out);

/* ---- the operation table (api_ops.c) ------------------------------------ */

/* What a request field holds; the codec (api.c) parses and range-checks
 * each kind. */
enum api_field_kind {
	API_FIELD_ARGV,
	API_FIELD_ENV,
	API_FIELD_USER,
	API_FIELD_PROFILE,
	API_FIELD_CWD,
	API_FIELD_STDIN,
	API_FIELD_TIMEOUT,
	API_FIELD_CPU_LIMIT,
	API_FIELD_MEMORY,
	API_FIELD_NO_QUEUE,
	API_FIELD_CLEAR_ENV,
	API_FIELD_ID,
	API_FIELD_STATE,
	API_FIELD_LIMIT,
	API_FIELD_STREAM,
	API_FIELD_OFFSET,
	API_FIELD_MAX,
	API_FIELD_FOLLOW,
	API_FIELD_MONTH,
	API_FIELD_DELTA,
	API_FIELD_SET_LEFT,
	API_FIELD_REASON,
	API_FIELD_NODE,
	API_FIELD_GPUS,
	API_FIELD_GPU_MEMORY,
	API_FIELD_LABELS,
	API_FIELD_CPUS,
	API_FIELD_AFTER,
	API_FIELD_IDEMPOTENCY_KEY,
	API_FIELD_TOKEN_NAME,
	API_FIELD_OPERATOR,
	API_FIELD_EXPIRES,
	API_FIELD_PLAN,
	API_FIELD_MAX_CONCURRENT,
	API_FIELD_CALLBACK_URL,
	API_FIELD_SINCE,
	API_FIELD_UNTIL,
	API_FIELD_POLICY_TEXT,
	API_FIELD_POLICY_FILE,
	API_FIELD_FILES,
	API_FIELD_ARTIFACTS,
	API_FIELD_NAME,
	API_FIELD_SIZE,
	API_FIELD_TASK_BYTES,
	API_FIELD_UPLOAD,
	API_FIELD_DATA,
};

struct api_field {
	const char *name; /* on the wire: "timeout_ms" */
	enum api_field_kind kind;
	bool required;
};

enum api_access {
	API_ACCESS_USER,     /* any user policy [access] lets in */
	API_ACCESS_OPERATOR, /* operators only */
};

struct api_op_info {
	enum api_op op;
	const char *name; /* "submit" */
	const struct api_field *fields;
	size_t n_fields;
	enum api_access access;
	bool mutates;        /* changes tasks or the daemon (a POST, to HTTP) */
	const char *summary; /* "reload the policy": "only operators may <summary>" */
};

/* The entry of op, or NULL for a value out of range. */
const struct api_op_info *api_ops_get(enum api_op op);
/* The entry named name ("wait"), or NULL. */
const struct api_op_info *api_ops_find(const char *name);
/* op's field named name, or NULL when op takes no such field. */
const struct api_field *api_ops_field(const struct api_op_info *op, const char *name);

/* A parsed, type-checked request.  Strings point into storage owned by the
 * request (freed by api_request_free).  "has_*" says a field was given. */
struct api_request {
	enum api_op op;
	char *tag_json; /* the "tag" value re-encoded as JSON, or NULL */
	/* submit */
	char **argv; /* NULL-terminated */
	size_t argc;
	char **env; /* NULL-terminated, or NULL */
	size_t envc;
	const char *user, *profile, *cwd, *state, *month, *stream;
	char *stdin_data; /* may contain NULs: see stdin_len */
	size_t stdin_len;
	bool has_stdin;
	uint64_t timeout_ms, cpu_limit_ms, memory_bytes;
	bool has_timeout, has_cpu_limit, has_memory;
	bool no_queue, follow;
	bool clear_env; /* submit: env replaces the default environment instead of adding to it */
	/* status, cancel, wait, logs */
	int64_t id;
	bool has_id;
	uint64_t offset, max, limit;
	int64_t after;              /* list: 0 = from the newest */
	int64_t since_us, until_us; /* list: submitted in [since, until); 0 = open */
	/* usage_adjust (exactly one of delta_us, set_left_us) */
	int64_t delta_us;
	uint64_t set_left_us;
	bool has_delta, has_set_left;
	const char *reason;
	/* node_drain, node_undrain */
	const char *node;
	/* submit: what the task needs of a node */
	uint64_t gpus, gpu_memory_bytes;
	uint64_t cpu_millis; /* 0 = not asked */
	char **labels;       /* NULL-terminated, or NULL */
	size_t n_labels;
	/* submit: a retry with the same key (per tenant) answers the first task */
	const char *idempotency_key;
	/* token_create */
	const char *token_name;
	bool token_operator;
	uint64_t expires_ms; /* 0 = never */
	/* tenant_set */
	const char *plan;
	uint64_t max_concurrent; /* 0 = the plan's */
	/* submit: POST the ended task there (webhook) */
	const char *callback_url;
	/* policy_push: the cluster-wide sections as policy-file text, and the
	 * file they were read from (a name for errors) */
	const char *policy_text;
	const char *policy_file;
	/* submit: input files, an array of {"name", "mode", "data_base64"} or
	 * {"name", "mode", "dir": true} (a json_t *, checked by corrald:
	 * task_files.c); NULL = none */
	void *files;
	/* submit: artifact globs relative to /work */
	char **artifacts; /* NULL-terminated, or NULL */
	size_t n_artifacts;
	/* submit: input files given apart from the request line (an HTTP
	 * multipart or tar body, api_files_inputs.c), checked and stored like
	 * files' entries; owned by the transport, NULL = none */
	const struct api_files_inputs *inputs;
	/* fetch: the artifact's name */
	const char *name;
	/* upload_begin: the bytes to come; upload_chunk, upload_abort: the
	 * upload's id; upload_chunk: base64 text (data_b64_len characters);
	 * upload_begin's task_bytes: the input files of the task it is for, in
	 * all (0: not said) */
	uint64_t size, task_bytes;
	int64_t upload;
	const char *data_b64;
	size_t data_b64_len;
	void *json; /* internal: the parsed document */
};

/* Parse one request line (without its newline).  0, or -EINVAL with the
 * wire code in *code and err filled (the request's tag, if any could be read,
 * still goes to req->tag_json so the error can echo it).  Unknown fields,
 * wrong types, missing required fields, out-of-range values are errors.
 * Call api_request_free() after either outcome.  Defaults filled in: list's
 * limit (API_DEFAULT_LIST_LIMIT), logs' max (API_MAX_LOG_CHUNK) and stream
 * ("stdout").
 * Errors: the stable wire code is a separate out-parameter next to the
 * supervisor's one struct error (common/error.h): err.message is the text a
 * client gets, err.step the parse step ("read request", "read fields", ...). */
int api_request_parse(const char *line, size_t len, struct api_request *req, enum api_error_code *code,
		      struct error *err);
void api_request_free(struct api_request *req);

/* Build a request line (for the client): a JSON object text, malloc'd,
 * without newline.  fields_json is an object text with the op's fields
 * (e.g. "{\"id\": 3}") or NULL. */
char *api_request_build(enum api_op op, const char *fields_json);

struct store_task;

/* What the scheduler says of a queued task (for TASK's queued-only fields). */
struct api_pending {
	uint32_t position;   /* 1 = next to start; 0 = unknown */
	const char *reason;  /* "concurrency_limit", ... or NULL */
	const char *message; /* human message or NULL */
};

/* A TASK object text (malloc'd) for a stored task; pending may be NULL. */
/* A comma-joined label list ("gpu,ssd", "" or NULL) as a JSON array of
 * strings (a new reference; jansson's json_t). */
struct json_t;
struct json_t *api_task_labels_json(const char *labels);
char *api_task_json(const struct store_task *task, const struct api_pending *pending);
/* A SUMMARY (list, queue): the same with argv cut to API_ARGV_PREVIEW
 * bytes.  task->argv_json may itself be cut (store_list_tasks gives a
 * prefix of the JSON text): what can be read of it is shown. */
char *api_task_summary_json(const struct store_task *task, const struct api_pending *pending);

/* Response lines (malloc'd, WITH the trailing newline).  body_json is an
 * object text whose members are merged in after "ok" and "tag", or NULL
 * (NULL is returned if body_json is not an object text). */
char *api_response_ok(const char *tag_json, const char *body_json);
char *api_response_error(const char *tag_json, enum api_error_code code, const char *message);

/* Base64 (RFC 4648, padded) for logs' data_base64.  encode: malloc'd text;
 * decode: 0 with a malloc'd buffer in *out, or -EINVAL for bad text. */
char *api_base64_encode(const void *data, size_t len);
int api_base64_decode(const char *text, size_t len, unsigned char **out, size_t *out_len);
/* The bytes a base64 text of len characters decodes to, without decoding
 * it: len / 4 * 3 less its padding (an upper bound for bad text; 0 under
 * 4 characters). */
size_t api_base64_decoded_len(const char *text, size_t len);

/* Task files (api_files.c), the rules corrald and the client share. */
#define API_FILES_NAME_MAX 255  /* bytes of one path component */
#define API_FILES_PATH_MAX 4096 /* bytes of a whole name */
/* A file name of a submit or a fetch: relative to /work, no empty, "." or
 * ".." component, no control character, within the sizes above.  0, or -1
 * with why filled. */
int api_files_check_name(const char *name, char *why, size_t size);
/* Does path (relative to /work) match one of the globs?  fnmatch(3) without
 * flags: "*" also matches "/", so "*.txt" matches "a/b.txt". */
bool api_files_match(char *const *patterns, size_t n, const char *path);
/* The permission bits kept: 0755 for a directory or an executable, else 0644. */
uint32_t api_files_mode(uint32_t mode, bool is_dir);

/* Input files read from a body apart from the request line (HTTP multipart
 * or tar, api_files_inputs.c): names copied, data borrowed from the body. */
struct api_files_input {
	char *name;
	uint32_t mode; /* as given: api_files_mode() keeps 0755 or 0644 */
	bool is_dir;
	const unsigned char *data; /* NULL for a directory */
	uint64_t len;
};
struct api_files_inputs {
	struct api_files_input *items;
	size_t count, cap;
};
/* Append one entry (name: name_len bytes, copied).  0, -E2BIG past
 * API_MAX_FILES entries (too_large), -EINVAL for a NUL in the name, -ENOMEM. */
int api_files_inputs_add(struct api_files_inputs *in, const char *name, size_t name_len, uint32_t mode,
			 bool is_dir, const unsigned char *data, uint64_t len);
void api_files_inputs_free(struct api_files_inputs *in);

/* Tar archives (api_tar.c, pure): POSIX ustar and pax, GNU's ustar magic.
 * Parse: a whole archive -> regular files and directories appended to out
 * (data points into archive; a leading "./" is dropped, "./" itself
 * skipped; a directory's trailing '/' dropped; pax 'x' records path and
 * size honoured, 'g' skipped).  Refused: links, devices, FIFOs, GNU
 * long names and sparse files, base-256 or out-of-range sizes, a bad
 * checksum or magic, a member past the end (truncated), data after the
 * end blocks that is not zeros.  0, or -EINVAL (bad_input) / -E2BIG (more
 * than API_MAX_FILES entries: too_large) with why filled.  Names are not
 * checked here: the submit's checks (api_files_check_name) apply. */
#define API_TAR_BLOCK 512u
int api_tar_parse(const unsigned char *archive, size_t len, struct api_files_inputs *out, char *why,
		  size_t size);
/* The header blocks of one member (a regular file of size bytes): a pax
 * 'x' header first when the name does not fit ustar's name/prefix, when
 * size >= 8 GiB, or when truncated (record "CORRAL.truncated=1"), then the
 * ustar header.  buf must hold API_TAR_HEADER_MAX bytes; the length used. */
#define API_TAR_HEADER_MAX (4u * API_TAR_BLOCK + API_FILES_PATH_MAX + 512u)
size_t api_tar_header(const char *name, uint32_t mode, uint64_t size, bool truncated, int64_t mtime,
		      unsigned char *buf);
/* Bytes of padding after size bytes of data (to the next block). */
size_t api_tar_padding(uint64_t size);

#endif
