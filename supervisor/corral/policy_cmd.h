/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral/policy_cmd.h — `corral policy ...`: check policy files and show
 * what they mean, without a daemon.
 */
#ifndef CORRAL_SUPERVISOR_CLI_POLICY_H
#define CORRAL_SUPERVISOR_CLI_POLICY_H

#include <stdio.h>

/* `corral policy check|show ...`; argv[0] is "policy".  Returns the exit
 * code: 0 ok, 1 the policy has errors (or the asked-for thing is missing),
 * 2 usage error. */
int policy_cmd_main(int argc, char **argv);

/* `corral policy check FILE`: a summary on out and 0, or every error on err
 * and 1. */
int policy_cmd_check(const char *path, FILE *out, FILE *err);

enum policy_cmd_show { CLI_SHOW_SUPERVISOR, CLI_SHOW_USER, CLI_SHOW_PLAN, CLI_SHOW_PROFILE };
/* `corral policy show [--user U | --plan P | --profile P] FILE`: the
 * effective values in policy-file syntax on out.  name is ignored for
 * CLI_SHOW_SUPERVISOR.  0, or 1 with the reason on err. */
int policy_cmd_show(const char *path, enum policy_cmd_show what, const char *name, FILE *out, FILE *err);

#endif
