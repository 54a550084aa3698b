/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral-run/run_args.h — corral-run's command line -> a struct jail_spec.
 * Pure: parses and validates text, touches no namespace or cgroup, so it is
 * unit-tested without root.
 */
#ifndef CORRAL_SUPERVISOR_RUN_ARGS_H
#define CORRAL_SUPERVISOR_RUN_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runner/jail.h"
#include "supervisor/common/error.h"

struct run_options {
	struct jail_spec spec;     /* what to run; its pointers point into this struct */
	struct jail_mount *mounts; /* owned */
	size_t n_mounts;
	char **env; /* owned (not its strings), NULL-terminated, NULL when no --env */
	size_t n_env;
	char **merged_env; /* owned: the default (or profile's) env plus --env */
	bool clear_env;    /* --clear-env: spec.env is --env alone */
	bool json, quiet, help, version;
	int json_fd;         /* --json-fd; -1: none */
	bool host_uid_given; /* --host-uid; otherwise one is taken from the range */
	uint32_t uid_range_first, uid_range_count;
	const char *policy_path, *profile, *user; /* --policy/--profile/--user */
};

/* Defaults; then corral-run may fill opts->spec from a policy profile. */
void run_args_init(struct run_options *opts);
/* Apply argv's flags over opts->spec.  The command after the options (or
 * after "--") becomes spec.argv.  On error: -EINVAL and err filled (a spec
 * the runner refuses keeps the runner's errno and step). */
int run_args_parse(int argc, char **argv, struct run_options *opts, struct error *err);
/* First pass: only --policy, --profile, --user (a profile is applied before
 * the other flags, which override it). */
int run_args_scan_policy(int argc, char **argv, struct run_options *opts, struct error *err);
void run_args_free(struct run_options *opts);

extern const char run_args_usage[];

/* corral-run's exit codes besides the command's own and those of the end
 * reasons, which the client shares (common/exit_code.h; corral-run(1)) */
enum {
	RUN_EXIT_USAGE = 2,
};

/* The exit code corral-run returns for a result: the command's own, 128+N
 * for signal N, else its status's row of the shared table. */
int run_args_exit_code(const struct jail_result *result);

#endif
