/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/lib/corrald_inspect.h — looking at a test's corrald (tests/lib/
 * corrald.h) from outside: its own figures (RSS, fds, CPU time), and what
 * lies below its own cgroup parent and state dir: task cgroups, their
 * processes (through cgroup.procs, never the host's process list), mounts.
 * Two test runs on one machine never see each other's things here.
 */
#ifndef CORRAL_TESTS_LIB_CORRALD_INSPECT_H
#define CORRAL_TESTS_LIB_CORRALD_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "tests/lib/corrald.h"

/* corrald's resident set (kB from /proc/PID/status) and its open fds; -1 on
 * error. */
long corrald_rss_kb(const struct corrald *d);
long corrald_fd_count(const struct corrald *d);
/* Of those, the network namespaces it holds (its pool's, made ahead). */
long corrald_netns_fd_count(const struct corrald *d);
/* corrald's own CPU time (user + system, ms), or -1. */
long corrald_cpu_ms(const struct corrald *d);
/* Directories below the test's cgroup parent, summed over every hierarchy
 * (0 when no jail's cgroup is left). */
int corrald_count_task_cgroups(const struct corrald *d);
/* Is there a cgroup dir name (e.g. "task-3") below the test's cgroup
 * parent, in any hierarchy? */
bool corrald_task_cgroup_exists(const struct corrald *d, const char *name);
/* The first line of file (e.g. "cpu.max", "cpu.cfs_quota_us") of the cgroup
 * name below the test's cgroup parent, from the first hierarchy that has
 * it, into buf: 0, or -ENOENT when none has it. */
int corrald_task_cgroup_read(const struct corrald *d, const char *name, const char *file, char *buf,
			     size_t size);
/* Processes below the test's cgroup parent (its jails), each counted once:
 * up to max of them into pids (NULL with max 0 to count); the number. */
size_t corrald_list_processes(const struct corrald *d, pid_t *pids, size_t max);
int corrald_count_processes(const struct corrald *d);
/* Is a process with exactly this cmdline (NUL-separated, len bytes) below
 * the test's cgroup parent? */
bool corrald_process_with_cmdline(const struct corrald *d, const char *cmdline, size_t len);
/* rmdir the cgroup name below the test's cgroup parent in every hierarchy
 * (it must be empty): the number removed. */
int corrald_remove_task_cgroup(const struct corrald *d, const char *name);
/* Mounts whose mount point lies under the test's state dir or cgroup
 * parent (0 when nothing was left mounted). */
int corrald_count_mounts(const struct corrald *d);

/* Cleanup after a failed test: SIGKILL the jails left below the test's
 * cgroup parent (cgroup.kill), then rmdir its cgroups and itself. */
void corrald_kill_leftover_jails(const struct corrald *d);
void corrald_remove_cgroup_parent(const struct corrald *d);

#endif
