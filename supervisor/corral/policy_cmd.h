/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral/policy_cmd.h — `corral policy ...`: check policy files and show
 * what they mean, without a daemon.
 */
#ifndef CORRAL_SUPERVISOR_CLI_POLICY_H
#define CORRAL_SUPERVISOR_CLI_POLICY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

struct policy;
struct policy_errors;
struct policy_limits;
struct policy_profile;
struct policy_supervisor;

/* `corral policy check|show ...`; argv[0] is "policy".  Returns the exit
 * code: 0 ok, 1 the policy has errors (or the asked-for thing is missing),
 * 2 usage error. */
int policy_cmd_main(int argc, char **argv);

/* `corral policy check FILE`: a summary on out and 0, or every error on err
 * and 1.  json: the summary or the errors as one JSON object on out. */
int policy_cmd_check(const char *path, bool json, FILE *out, FILE *err);

enum policy_cmd_show { CLI_SHOW_SUPERVISOR, CLI_SHOW_USER, CLI_SHOW_PLAN, CLI_SHOW_PROFILE };
/* `corral policy show [--user U | --plan P | --profile P] FILE`: the
 * effective values in policy-file syntax on out.  name is ignored for
 * CLI_SHOW_SUPERVISOR.  0, or 1 with the reason on err. */
int policy_cmd_show(const char *path, enum policy_cmd_show what, const char *name, bool json, FILE *out,
		    FILE *err);

/* ---- policy_json.c: the same as JSON objects (new references) ---- */

/* {"ok": true, "path", "plans", "users", "profiles", "default_plan"} */
json_t *policy_json_summary(const struct policy *p, const char *path);
/* {"ok": false, "path", "errors": [{"file", "line", "key", "message"}], "omitted"} */
json_t *policy_json_errors(const struct policy_errors *errors, const char *path);
json_t *policy_json_limits(const struct policy_limits *limits);
json_t *policy_json_profile(const struct policy_profile *profile);
json_t *policy_json_supervisor(const struct policy_supervisor *supervisor);
/* One compact line on out; takes obj's reference. */
void policy_json_print(FILE *out, json_t *obj);

#endif
