/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/lib/cgroup_procs.h — a test finds its own processes through its
 * own cgroups (cgroup.procs below a directory it owns), never by scanning
 * the host's process list, so two test runs on one machine cannot see each
 * other's processes.
 */
#ifndef CORRAL_TESTS_LIB_CGROUP_PROCS_H
#define CORRAL_TESTS_LIB_CGROUP_PROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The pids in cgroup.procs of dir and of every cgroup below it (a missing
 * dir has none): up to max of them into pids (may be NULL with max 0); the
 * number found, which may exceed max. */
size_t cgroup_procs_list(const char *dir, pid_t *pids, size_t max);
/* Is a process with exactly this cmdline (NUL-separated, len bytes) in dir
 * or below it? */
bool cgroup_procs_find_cmdline(const char *dir, const char *cmdline, size_t len);

#endif
