/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/cgroup.h — internal to runner/: one jail's cgroup, on pure cgroup v2
 * hosts and on hybrid hosts (v1 controllers for limits, the unified v2 tree
 * for membership, cgroup.kill, cgroup.events and cpu.stat).
 *
 * Not for callers outside runner/: they see only runner/jail.h.
 */
#ifndef CORRAL_RUNNER_CGROUP_H
#define CORRAL_RUNNER_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "runner/jail.h"

struct jail_cgroup;

struct cgroup_limits {
	uint64_t memory_bytes; /* 0 = none; swap is always 0 when a limit is set */
	uint64_t pids_max;     /* 0 = none */
	uint32_t cpu_millis;   /* 0 = none; 1000 = one full CPU */
};

/* Create <own cgroup>/<parent>/<name> (or /<parent>/<name> when parent is
 * absolute) in the unified tree and in every v1 hierarchy whose controller a
 * limit needs, and set the limits.  Fails with a clear message when a needed
 * controller is missing. */
int cgroup_create(const char *parent, const char *name, const struct cgroup_limits *limits,
		  struct jail_cgroup **out, struct jail_error *err);

/* Open an existing jail cgroup (a restarted supervisor adopting a jail). */
int cgroup_open(const char *parent, const char *name, struct jail_cgroup **out, struct jail_error *err);

/* O_DIRECTORY fd of the unified-tree cgroup, for clone3(CLONE_INTO_CGROUP). */
int cgroup_dir_fd(const struct jail_cgroup *cg);

/* Move pid into the v1 hierarchies of this cgroup (and into the unified one
 * too when in_unified is true: when CLONE_INTO_CGROUP was not used). */
int cgroup_attach(struct jail_cgroup *cg, pid_t pid, bool in_unified, struct jail_error *err);

/* The jail's child joins the v1 hierarchies itself: open each v1 leaf's
 * "tasks" file (O_WRONLY, close-on-exec) for it to write "0" to, before it
 * runs anything else (single-threaded then: "tasks" moves the writer, which
 * is the whole process).  A thread moving itself takes no cgroup-wide lock;
 * writing another pid to cgroup.procs does, and that lock's first writer
 * after an idle while waits for an RCU grace period (10-15 ms).  Up to max
 * fds into fds, their number in *n (0 where limits live in the unified
 * tree).  On failure none stay open. */
#define CGROUP_V1_TASKS_MAX 4
int cgroup_open_v1_tasks(const struct jail_cgroup *cg, int *fds, size_t max, size_t *n,
			 struct jail_error *err);
/* Move pid into the unified cgroup (when CLONE_INTO_CGROUP was not used). */
int cgroup_attach_unified(struct jail_cgroup *cg, pid_t pid, struct jail_error *err);

/* fd on cgroup.events (poll POLLPRI: "populated" changed), owned by cg. */
int cgroup_events_fd(const struct jail_cgroup *cg);
/* 1 if any process is still in the cgroup, 0 if empty, -errno. */
int cgroup_populated(const struct jail_cgroup *cg);

/* SIGKILL everything in the cgroup (cgroup.kill). */
int cgroup_kill(struct jail_cgroup *cg);

/* CPU time from the unified cpu.stat (usage_usec, user_usec, system_usec). */
int cgroup_read_cpu(const struct jail_cgroup *cg, struct jail_cpu *cpu);
/* Peak memory (0 if unknown) and how many processes the OOM killer killed
 * in the cgroup (v1 memory.oom_control, v2 memory.events: oom_kill; 0 when
 * the kernel does not count them). */
int cgroup_read_memory(const struct jail_cgroup *cg, uint64_t *peak_bytes, uint64_t *oom_kills);
/* Memory charged now and the peak so far (0 if unknown), while it runs. */
int cgroup_read_memory_now(const struct jail_cgroup *cg, uint64_t *current_bytes, uint64_t *peak_bytes);

/* Unified-tree directory path (host path). */
const char *cgroup_path(const struct jail_cgroup *cg);

/* Kill what is left, wait until empty (bounded), remove the cgroup from every
 * hierarchy, free cg.  cg may be NULL.  cg is freed even on failure (EBUSY:
 * processes still there after ~2 s); cgroup_open() it again to retry.  The
 * shared parent directories are left in place. */
int cgroup_destroy(struct jail_cgroup *cg, struct jail_error *err);

/* For a supervisor, on hosts whose limits live in the unified tree (pure
 * cgroup v2; a no-op returning 0 on hybrid hosts): get a subtree of its own
 * where controllers can be enabled for its jails, and move the calling
 * process into its leaf <subtree>/<leaf>.  The subtree is the caller's own
 * cgroup when nobody else is in it (delegated: systemd Delegate=yes), or
 * <root>/<subtree_name> when started in the root cgroup (relative parents
 * then resolve below it).  Enables memory, pids and cpu for the jails down
 * to jails_parent (may be NULL).  1 and *base_cgroup (the subtree's cgroup
 * path, static) when done; -errno with err saying why and what to do (a
 * cgroup shared with other processes, controllers not delegated). */
int cgroup_supervisor_enter(const char *leaf, const char *subtree_name, const char *jails_parent,
			    const char **base_cgroup, struct jail_error *err);

/* Undo cgroup_supervisor_enter() when no jail cgroup is left in the
 * subtree: disable what it enabled, move back to the original cgroup,
 * remove the leaf (and the subtree it made).  1 undone, 0 nothing to undo
 * (also when it started in its leaf: a supervisor that executed itself
 * again), -EBUSY when jails are left (all stays in place), -errno. */
int cgroup_supervisor_leave(struct jail_error *err);

/* Remove the (empty) parent <own>/<parent> from every hierarchy, best
 * effort: one still in use stays.  Returns how many were removed. */
int cgroup_remove_parent(const char *parent);

/* Names of the cgroups below <own>/<parent> in the unified tree (malloc'd
 * array of malloc'd strings).  A missing parent gives 0 names. */
int cgroup_list_children(const char *parent, char ***names, size_t *n);

/* Release the handle without touching the cgroup (adopted by someone else). */
void cgroup_close(struct jail_cgroup *cg);

#endif
