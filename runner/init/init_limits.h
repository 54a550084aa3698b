/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/init/init_limits.h — corral-init's own wall-clock and CPU limits
 * (runner/init/init_limits.c), the backstop for a late caller, and the
 * leash (its supervisor's lease on the task, read from a host file).
 */
#ifndef CORRAL_RUNNER_INIT_LIMITS_H
#define CORRAL_RUNNER_INIT_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

#include "runner/init_protocol.h"

struct init_limits {
	int wall_fd;  /* timerfd: the deadline, then the end of the grace; -1 = none */
	int cpu_fd;   /* timerfd: the next look at cpu.stat; -1 = none */
	int leash_fd; /* timerfd: every INIT_LEASH_LOOK_MS, a look at the leash; -1 = none */
	int cpu_stat_fd, leash_file_fd;
	uint64_t kill_grace_us, cpu_limit_us;
	uint32_t cpu_rate_millis;
	bool terminated;     /* SIGTERM sent at the deadline, the grace runs */
	enum init_limit hit; /* the first limit reached */
};

/* Arm the timers of cfg's limits (once the command runs).  0 or -errno. */
int init_limits_start(struct init_limits *l, const struct init_config *cfg);
/* fd (l->wall_fd, l->cpu_fd or l->leash_fd) is readable: act on it (signal every other
 * process of the jail, record which limit was hit, rearm). */
void init_limits_fired(struct init_limits *l, int fd);
/* Disarm them all (the jail is being killed for another cause). */
void init_limits_stop(struct init_limits *l);

#endif
