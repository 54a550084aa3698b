/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral/policy_cmd.c — `corral policy check [FILE]` and
 * `corral policy show [--user NAME | --plan NAME | --profile NAME] [FILE]`
 * work without the daemon: they load the files with policy_load().
 * `corral policy reload`, `push FILE` (a cluster's next policy generation,
 * checked here first) and `current` ask corrald.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "supervisor/corral/policy_cmd.h"
#include "supervisor/corral/connection.h"

static void policy_usage(FILE *f)
{
	fprintf(f,
		"usage: corral policy check [--json] [FILE]\n"
		"       corral policy show [--user NAME | --plan NAME | --profile NAME] [--json] [FILE]\n"
		"       corral policy reload [--json]\n"
		"       corral policy push [--json] FILE\n"
		"       corral policy current [--json]\n"
		"\n"
		"  check   validate FILE (default %s)\n"
		"          and its includes; print a summary, or every error and exit 1\n"
		"  show    print effective values: a tenant's limits (--user), a plan's,\n"
		"          a profile's, or with no option the [supervisor] settings\n"
		"  reload  ask the running corrald to re-read its policy (operators); a\n"
		"          policy with errors is refused and the old one stays in force\n"
		"          (in a cluster: the file's [supervisor] and [http] with the\n"
		"          cluster's latest pushed policy)\n"
		"  push    a cluster only (operators): check FILE, send its [access],\n"
		"          [default], [plan], [user] and [profile] sections (not its\n"
		"          [supervisor] and [http]: each node keeps its own) to corrald,\n"
		"          which checks them over its own file and stores them as the\n"
		"          cluster's next policy generation; every node applies it within\n"
		"          a cluster poll.  One host: not_clustered (the file is the policy)\n"
		"  current the cluster's latest pushed policy (its text), the generation\n"
		"          every node runs, and why the answering node could not apply\n"
		"          the latest one (then exit 1)\n"
		"  --json  one JSON object on stdout (errors too; unlimited is null)\n",
		POLICY_DEFAULT_PATH);
}

/* Load path; on failure print every error to err (json: as one object on
 * out).  NULL on failure. */
static struct policy *load_or_report(const char *path, bool json, FILE *out, FILE *err)
{
	struct policy_errors errors = { 0 };
	struct policy *p = NULL;
	int r = policy_load(path, &p, &errors);

	if (r < 0 && json) {
		policy_json_print(out, policy_json_errors(&errors, path));
	} else if (r < 0) {
		char line[1024];

		for (size_t i = 0; i < errors.count; i++) {
			policy_error_format(&errors.items[i], line, sizeof(line));
			fprintf(err, "%s\n", line);
		}
		if (errors.omitted)
			fprintf(err, "%s: ... and %zu more errors\n", path, errors.omitted);
		if (r == -EINVAL || errors.count)
			fprintf(err, "%s: %zu error%s; the policy was not loaded\n", path,
				errors.count + errors.omitted, errors.count + errors.omitted == 1 ? "" : "s");
		else
			fprintf(err, "%s: out of memory\n", path);
	}
	policy_errors_free(&errors);
	return p;
}

static void print_names(FILE *out, const struct policy *p, enum policy_kind kind, const char *label)
{
	size_t n = policy_count(p, kind);

	fprintf(out, "  %-9s %zu", label, n);
	for (size_t i = 0; i < n && i < 20; i++)
		fprintf(out, "%s%s", i ? ", " : " (", policy_name_at(p, kind, i));
	fprintf(out, "%s\n", n > 20 ? ", ...)" : n ? ")" : "");
}

int policy_cmd_check(const char *path, bool json, FILE *out, FILE *err)
{
	struct policy *p = load_or_report(path, json, out, err);
	const char *def;

	if (!p)
		return 1;
	if (json) {
		policy_json_print(out, policy_json_summary(p, path));
		policy_free(p);
		return 0;
	}
	def = policy_default_plan(p);
	fprintf(out, "%s: OK\n", path);
	print_names(out, p, POLICY_PLANS, "plans:");
	print_names(out, p, POLICY_USERS, "users:");
	print_names(out, p, POLICY_PROFILES, "profiles:");
	fprintf(out, "  default:  %s\n", def ? def : "none (users without a [user] section may not submit)");
	policy_free(p);
	return 0;
}

static const char *unlimited_or(uint64_t v, char *buf, size_t size, bool hours)
{
	if (!v)
		return "unlimited";
	if (hours && v % 3600 == 0) {
		snprintf(buf, size, "%" PRIu64 "h", v / 3600);
		return buf;
	}
	return policy_format_duration_ms(v * 1000, buf, size);
}

/* "unlimited", "0 (suspended)", "10h", "3m", "3600ms". */
static const char *monthly_budget(uint64_t ms, char *buf, size_t size)
{
	if (ms == POLICY_UNLIMITED)
		return "unlimited";
	if (ms == 0)
		return "0 (suspended)";
	if (ms % 3600000 == 0) {
		snprintf(buf, size, "%" PRIu64 "h", ms / 3600000);
		return buf;
	}
	return policy_format_duration_ms(ms, buf, size);
}

static void print_limits(FILE *out, const struct policy_limits *l)
{
	char b[32];

	fprintf(out, "plan              = %s\n", l->plan);
	if (l->n_profiles > 1) {
		fprintf(out, "profiles          =");
		for (size_t i = 0; i < l->n_profiles; i++)
			fprintf(out, " %s", l->profiles[i]);
		fprintf(out, "\n");
	} else {
		fprintf(out, "profile           = %s\n", l->profile);
	}
	fprintf(out, "max_concurrent    = %" PRIu32 "\n", l->max_concurrent);
	fprintf(out, "max_queued        = %" PRIu32 "\n", l->max_queued);
	fprintf(out, "weight            = %" PRIu32 "\n", l->weight);
	fprintf(out, "monthly_cpu_hours = %s\n", monthly_budget(l->monthly_cpu_ms, b, sizeof(b)));
	fprintf(out, "max_task_seconds  = %s\n", unlimited_or(l->max_task_seconds, b, sizeof(b), false));
	fprintf(out, "max_cpu_seconds   = %s\n", unlimited_or(l->max_cpu_seconds, b, sizeof(b), false));
	fprintf(out, "memory            = %s\n", policy_format_size(l->memory_bytes, b, sizeof(b)));
	fprintf(out, "pids              = %" PRIu64 "\n", l->pids);
	fprintf(out, "cpus              = %s\n", policy_format_cpus(l->cpu_millis, b, sizeof(b)));
	fprintf(out, "output_limit      = %s\n", policy_format_size(l->output_limit_bytes, b, sizeof(b)));
	fprintf(out, "max_stored        = %s\n",
		l->max_stored_bytes ? policy_format_size(l->max_stored_bytes, b, sizeof(b)) : "unlimited");
	fprintf(out, "retention         = %s\n", unlimited_or(l->retention_seconds, b, sizeof(b), false));
	fprintf(out, "max_input         = %s\n", policy_format_size(l->max_input_bytes, b, sizeof(b)));
	fprintf(out, "max_artifact      = %s\n", policy_format_size(l->max_artifact_bytes, b, sizeof(b)));
	fprintf(out, "artifact_retention = %s\n",
		unlimited_or(l->artifact_retention_seconds, b, sizeof(b), false));
}

static void print_profile(FILE *out, const struct policy_profile *pf)
{
	char b[32];

	if (pf->file)
		fprintf(out, "# [profile %s] from %s:%u\n", pf->name, pf->file, pf->line);
	else
		fprintf(out, "# [profile %s] (built in)\n", pf->name);
	for (size_t i = 0; i < pf->n_binds; i++)
		fprintf(out, "%-13s = %s:%s\n", pf->binds[i].writable ? "bind_rw" : "bind_ro",
			pf->binds[i].source, pf->binds[i].target);
	for (size_t i = 0; i < pf->n_tmpfs; i++)
		fprintf(out, "tmpfs         = %s:%s\n", pf->tmpfs[i].target,
			policy_format_size(pf->tmpfs[i].size_bytes, b, sizeof(b)));
	fprintf(out, "tmp_size      = %s\n", policy_format_size(pf->tmp_bytes, b, sizeof(b)));
	fprintf(out, "work_size     = %s\n", policy_format_size(pf->work_bytes, b, sizeof(b)));
	if (!pf->env)
		fprintf(out, "# env: the runner's default (PATH, HOME, LANG=C.UTF-8)\n");
	for (size_t i = 0; pf->env && pf->env[i]; i++)
		fprintf(out, "env           = %s\n", pf->env[i]);
	fprintf(out, "cwd           = %s\n", pf->cwd);
	fprintf(out, "hostname      = %s\n", pf->hostname);
	fprintf(out, "network       = none\n");
	fprintf(out, "seccomp       = %s\n", policy_seccomp_name(pf->seccomp));
	for (size_t i = 0; pf->seccomp_allow && pf->seccomp_allow[i]; i++)
		fprintf(out, "seccomp_allow = %s\n", pf->seccomp_allow[i]);
	for (size_t i = 0; pf->seccomp_deny && pf->seccomp_deny[i]; i++)
		fprintf(out, "seccomp_deny  = %s\n", pf->seccomp_deny[i]);
	for (size_t i = 0; pf->artifacts && pf->artifacts[i]; i++)
		fprintf(out, "artifacts     = %s\n", pf->artifacts[i]);
	fprintf(out, "uid           = %" PRIu32 "\n", pf->uid);
	fprintf(out, "gid           = %" PRIu32 "\n", pf->gid);
	fprintf(out, "rlimit_nofile = %" PRIu64 "\n", pf->rlimit_nofile);
	fprintf(out, "rlimit_fsize  = %s\n", policy_format_size(pf->rlimit_fsize, b, sizeof(b)));
	fprintf(out, "rlimit_stack  = %s\n", policy_format_size(pf->rlimit_stack, b, sizeof(b)));
}

static void print_supervisor(FILE *out, const struct policy_supervisor *sv)
{
	char b[32];

	fprintf(out, "[supervisor]\n");
	fprintf(out, "state_dir      = %s\n", sv->state_dir);
	fprintf(out, "socket         = %s\n", sv->socket);
	fprintf(out, "cgroup_parent  = %s\n", sv->cgroup_parent);
	fprintf(out, "max_running    = %" PRIu32 "\n", sv->max_running);
	fprintf(out, "memory_reserve = %s\n",
		sv->memory_reserve_bytes ? policy_format_size(sv->memory_reserve_bytes, b, sizeof(b))
					 : "unlimited");
	fprintf(out, "poll_interval  = %s\n", policy_format_duration_ms(sv->poll_interval_ms, b, sizeof(b)));
	fprintf(out, "drain_timeout  = %s\n", policy_format_duration_ms(sv->drain_timeout_ms, b, sizeof(b)));
	fprintf(out, "kill_grace     = %s\n", policy_format_duration_ms(sv->kill_grace_ms, b, sizeof(b)));
	fprintf(out, "on_restart     = %s\n", sv->on_restart == POLICY_RESTART_KILL ? "kill" : "adopt");
	fprintf(out, "uid_range      = %" PRIu32 "-%" PRIu32 "\n", sv->uid_first, sv->uid_last);
	fprintf(out, "node_name      = %s\n", sv->node_name ? sv->node_name : "(the host name)");
	fprintf(out, "heartbeat_interval = %s\n",
		policy_format_duration_ms(sv->heartbeat_interval_ms, b, sizeof(b)));
	fprintf(out, "node_offline_after = %s\n",
		policy_format_duration_ms(sv->node_offline_after_ms, b, sizeof(b)));
	if (sv->cores)
		fprintf(out, "cores          = %" PRIu32 "\n", sv->cores);
	else
		fprintf(out, "cores          = (the host's)\n");
	fprintf(out, "gpus           = %" PRIu32 "\n", sv->gpus);
	fprintf(out, "gpu_memory     = %s\n", policy_format_size(sv->gpu_memory_bytes, b, sizeof(b)));
	fprintf(out, "labels         = %s\n", sv->labels[0] ? sv->labels : "(none)");
}

int policy_cmd_show(const char *path, enum policy_cmd_show what, const char *name, bool json, FILE *out,
		    FILE *err)
{
	struct policy *p = load_or_report(path, json, out, err);
	struct policy_limits limits;
	const struct policy_profile *pf;
	int rc = 0;

	if (!p)
		return 1;
	switch (what) {
	case CLI_SHOW_SUPERVISOR:
		if (json)
			policy_json_print(out, policy_json_supervisor(policy_supervisor(p)));
		else
			print_supervisor(out, policy_supervisor(p));
		break;
	case CLI_SHOW_USER:
		if (policy_limits_for(p, name, &limits) < 0) {
			fprintf(err,
				"%s: tenant '%s' has no [user %s] section and there is no "
				"[default]: it may not submit tasks\n",
				path, name, name);
			rc = 1;
			break;
		}
		if (json) {
			json_t *o = policy_json_limits(&limits);

			json_object_set_new(o, "tenant", json_string(name));
			json_object_set_new(o, "from",
					    json_string(policy_has_user(p, name) ? "user" : "default"));
			policy_json_print(out, o);
			break;
		}
		fprintf(out, "# tenant %s: %s, plan %s\n", name,
			policy_has_user(p, name) ? "its [user] section" : "[default]", limits.plan);
		print_limits(out, &limits);
		break;
	case CLI_SHOW_PLAN:
		if (policy_plan_limits(p, name, &limits) < 0) {
			fprintf(err, "%s: there is no [plan %s]\n", path, name);
			rc = 1;
			break;
		}
		if (json)
			policy_json_print(out, policy_json_limits(&limits));
		else
			print_limits(out, &limits);
		break;
	case CLI_SHOW_PROFILE:
		pf = policy_profile(p, name);
		if (!pf) {
			fprintf(err, "%s: there is no [profile %s]\n", path, name);
			rc = 1;
			break;
		}
		if (json)
			policy_json_print(out, policy_json_profile(pf));
		else
			print_profile(out, pf);
		break;
	}
	policy_free(p);
	return rc;
}

/* Take --json out of argv (any position); whether it was there. */
static bool take_json(int *argc, char **argv)
{
	bool json = false;
	int n = 1;

	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else
			argv[n++] = argv[i];
	}
	*argc = n;
	argv[n] = NULL;
	return json;
}

static int cmd_check(int argc, char **argv)
{
	bool json = take_json(&argc, argv);

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		policy_usage(stdout);
		return 0;
	}
	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		policy_usage(stderr);
		return 2;
	}
	return policy_cmd_check(argc == 2 ? argv[1] : POLICY_DEFAULT_PATH, json, stdout, stderr);
}

static int cmd_show(int argc, char **argv)
{
	static const struct option options[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "plan", required_argument, NULL, 'p' },
		{ "profile", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum policy_cmd_show what = CLI_SHOW_SUPERVISOR;
	const char *name = NULL;
	bool json = take_json(&argc, argv);
	int c, chosen = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+u:h", options, NULL)) != -1) {
		switch (c) {
		case 'u':
			what = CLI_SHOW_USER;
			name = optarg;
			chosen++;
			break;
		case 'p':
			what = CLI_SHOW_PLAN;
			name = optarg;
			chosen++;
			break;
		case 'P':
			what = CLI_SHOW_PROFILE;
			name = optarg;
			chosen++;
			break;
		case 'h':
			policy_usage(stdout);
			return 0;
		default:
			policy_usage(stderr);
			return 2;
		}
	}
	if (chosen > 1 || argc - optind > 1) {
		policy_usage(stderr);
		return 2;
	}
	return policy_cmd_show(optind < argc ? argv[optind] : POLICY_DEFAULT_PATH, what, name, json, stdout,
			       stderr);
}

/* Send request_line to corrald.  0 with the OK answer in *resp (printed
 * as JSON when json); else the exit code, the error printed (*resp NULL). */
static int call_daemon(const char *request_line, bool json, json_t **resp)
{
	struct connection c;
	const char *code, *message;
	struct error err;
	int rc = 0;

	*resp = NULL;
	if (connection_connect(&c, connection_socket_path(NULL), &err) < 0) {
		fprintf(stderr, "corral: %s\n", err.message);
		return 69;
	}
	if (connection_call(&c, request_line, resp, &err) < 0) {
		fprintf(stderr, "corral: %s\n", err.message);
		rc = 69;
	} else if (json) {
		rc = connection_response_error(*resp, &code, &message) ? 1 : 0;
		policy_json_print(stdout, json_incref(*resp));
	} else if (connection_response_error(*resp, &code, &message)) {
		fprintf(stderr, "corral: %s: %s\n", code, message);
		rc = 1;
	}
	connection_close(&c);
	if (rc) {
		json_decref(*resp);
		*resp = NULL;
	}
	return rc;
}

static long long int_of(json_t *obj, const char *key)
{
	return (long long)json_integer_value(json_object_get(obj, key));
}

/* `corral policy reload`: the daemon re-reads its policy file. */
static int cmd_reload(int argc, char **argv)
{
	json_t *resp = NULL;
	bool json = take_json(&argc, argv);
	int rc;

	if (argc != 1) {
		policy_usage(stderr);
		return 2;
	}
	rc = call_daemon("{\"op\":\"policy_reload\"}", json, &resp);
	if (rc == 0 && !json)
		printf("policy %s reloaded: %lld plans, %lld users, %lld profiles\n",
		       json_string_value(json_object_get(resp, "policy")), int_of(resp, "plans"),
		       int_of(resp, "users"), int_of(resp, "profiles"));
	json_decref(resp);
	return rc;
}

/* `corral policy push FILE`: FILE checked here (every error at its
 * file:line), its cluster-wide sections sent as one text; corrald checks
 * it over its own file and stores the cluster's next generation. */
static int cmd_push(int argc, char **argv)
{
	struct policy_errors errors = { 0 };
	bool json = take_json(&argc, argv);
	struct policy *p;
	json_t *req, *resp = NULL;
	char *text = NULL, *line, name[4200];
	int rc;

	if (argc != 2) {
		policy_usage(stderr);
		return 2;
	}
	p = load_or_report(argv[1], json, stdout, stderr);
	if (!p)
		return 1;
	if (!policy_count(p, POLICY_PLANS) && !policy_count(p, POLICY_USERS) && !policy_default_plan(p)) {
		/* a node's file of per-host sections only, pushed by mistake */
		fprintf(stderr,
			"corral: %s has no [plan], [user] or [default] section: pushed, it would leave "
			"no tenant a plan on any node; nothing sent\n",
			argv[1]);
		policy_free(p);
		return 1;
	}
	policy_free(p);
	if (policy_cluster_text(argv[1], &text, &errors) < 0) {
		fprintf(stderr, "corral: %s: cannot read its cluster-wide sections\n", argv[1]);
		policy_errors_free(&errors);
		return 1;
	}
	policy_errors_free(&errors);
	snprintf(name, sizeof(name), "%s (as pushed)", argv[1]);
	req = json_pack("{s:s, s:s, s:s}", "op", "policy_push", "text", text, "file", name);
	free(text);
	line = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!line) {
		fprintf(stderr, "corral: out of memory\n");
		return 1;
	}
	rc = call_daemon(line, json, &resp);
	free(line);
	if (rc == 0 && !json)
		printf("policy generation %lld pushed from %s: %lld plans, %lld users, %lld profiles (sha256 "
		       "%.12s...); every node applies it\n",
		       int_of(resp, "generation"), argv[1], int_of(resp, "plans"), int_of(resp, "users"),
		       int_of(resp, "profiles"), json_string_value(json_object_get(resp, "sha256")));
	json_decref(resp);
	return rc;
}

/* One comment line per node: the generation it runs, and the latest that
 * did not load there. */
static void print_nodes(json_t *nodes)
{
	size_t i;
	json_t *n;

	json_array_foreach (nodes, i, n) {
		printf("#   node %s runs generation %lld", json_string_value(json_object_get(n, "node")),
		       int_of(n, "applied"));
		if (int_of(n, "failed"))
			printf("; generation %lld does not load there", int_of(n, "failed"));
		printf("\n");
	}
}

/* `corral policy current`: the cluster's latest generation (its text) and
 * the one the node answering runs. */
static int cmd_current(int argc, char **argv)
{
	json_t *resp = NULL;
	bool json = take_json(&argc, argv);
	const char *error, *text;
	int rc;

	if (argc != 1) {
		policy_usage(stderr);
		return 2;
	}
	rc = call_daemon("{\"op\":\"policy_current\"}", json, &resp);
	if (rc != 0 || json) {
		json_decref(resp);
		return rc;
	}
	if (!json_is_true(json_object_get(resp, "clustered"))) {
		printf("# node %s is not part of a cluster: its policy file %s is the policy\n",
		       json_string_value(json_object_get(resp, "node")),
		       json_string_value(json_object_get(resp, "policy")));
		json_decref(resp);
		return 0;
	}
	printf("# policy generation %lld, sha256 %s, pushed by %s\n", int_of(resp, "generation"),
	       json_string_value(json_object_get(resp, "sha256")),
	       json_string_value(json_object_get(resp, "pushed_by")));
	printf("# node %s runs generation %lld over the [supervisor] and [http] of %s\n",
	       json_string_value(json_object_get(resp, "node")), int_of(resp, "applied"),
	       json_string_value(json_object_get(resp, "policy")));
	print_nodes(json_object_get(resp, "nodes"));
	error = json_string_value(json_object_get(resp, "error"));
	if (error)
		printf("# generation %lld does not load on this node:\n#   %s\n", int_of(resp, "failed"),
		       error);
	text = json_string_value(json_object_get(resp, "text"));
	fputs(text ? text : "", stdout);
	json_decref(resp);
	return error ? 1 : 0;
}

int policy_cmd_main(int argc, char **argv)
{
	if (argc < 2) {
		policy_usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return cmd_show(argc - 1, argv + 1);
	if (strcmp(argv[1], "reload") == 0)
		return cmd_reload(argc - 1, argv + 1);
	if (strcmp(argv[1], "push") == 0)
		return cmd_push(argc - 1, argv + 1);
	if (strcmp(argv[1], "current") == 0)
		return cmd_current(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		policy_usage(stdout);
		return 0;
	}
	fprintf(stderr, "corral policy: unknown command '%s'\n", argv[1]);
	policy_usage(stderr);
	return 2;
}
