/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral-run/run_args.c — corral-run's flags, their parsing and checks, and
 * the mapping from a jail result to corral-run's exit code.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/common/exit_code.h"
#include "supervisor/corral-run/run_args.h"
#include "policy/policy.h"
#include "supervisor/jailspec/jailspec.h"

#define RUN_UID_RANGE_FIRST 3000000u
#define RUN_UID_RANGE_COUNT 1000u

const char run_args_usage[] =
	"Usage: corral-run [OPTIONS] [--] COMMAND [ARGS...]\n"
	"Run one command in a corral jail (namespaces, cgroup, seccomp) and report the result.\n"
	"\n"
	"Limits:\n"
	"  --memory SIZE         memory limit, no swap (default 1G)\n"
	"  --pids N              max processes + threads (default 1024)\n"
	"  --cpus N              CPU quota (e.g. 0.5)\n"
	"  --time DURATION       CPU-time limit (e.g. 10s, 500ms, 2m)\n"
	"  --wall-time DURATION  wall-clock limit\n"
	"  --output-limit SIZE   byte cap for stdout and for stderr (task killed beyond it)\n"
	"  --nofile N            open-files limit (default 256)\n"
	"  --fsize SIZE          largest file the task may write (default 1G)\n"
	"  --stack SIZE          stack limit (default 8M)\n"
	"Filesystem:\n"
	"  --bind SRC[:DST]      bind a host path read-write\n"
	"  --ro-bind SRC[:DST]   bind a host path read-only\n"
	"  --tmpfs DST[:SIZE]    a fresh tmpfs\n"
	"  --tmp-size SIZE       size of /tmp and /dev/shm (default 64M)\n"
	"  --work DIR            host dir bound read-write at /work (default: a tmpfs)\n"
	"  --cwd DIR             working directory inside the jail (default /work)\n"
	"Process:\n"
	"  --env KEY=VALUE       add a variable to the default environment (PATH, HOME,\n"
	"                        LANG, or the profile's env); repeatable\n"
	"  --clear-env           start from an empty environment: only the --env given\n"
	"  --hostname NAME       hostname inside the jail (default corral)\n"
	"  --seccomp PROFILE     default | strict | none\n"
	"  --uid N / --gid N     ids inside the jail (default 1000)\n"
	"  --host-uid N          host uid (and gid) the jail runs as (default: a free one from\n"
	"                        3000000-3000999, locked under /run/corral-run)\n"
	"  --cgroup-parent PATH  cgroup parent (relative to our cgroup; default corral)\n"
	"  --status-file FILE    the jail's init writes the final status there\n"
	"I/O and output:\n"
	"  --stdin FILE          stdin (default /dev/null)\n"
	"  --stdout FILE         stdout to a file (default: inherited)\n"
	"  --stderr FILE         stderr to a file (default: inherited)\n"
	"  --json                the result as one JSON line on stderr, instead of the\n"
	"                        summary (stdout stays the command's)\n"
	"  --json-fd FD          the JSON result to file descriptor FD (e.g. 3>result.json);\n"
	"                        FD 1 only with --stdout FILE\n"
	"  --quiet               no summary line on stderr\n"
	"Policy:\n"
	"  --policy FILE         take limits and jail settings from a policy file\n"
	"  --profile NAME        ... this profile of it\n"
	"  --user NAME           ... and this tenant's plan limits\n"
	"  --help, --version\n"
	"\n"
	"Exit status: the command's own; 128+N when killed by signal N; 120 out of memory,\n"
	"121 output limit, 122 CPU-time limit, 124 wall-clock timeout, 125 jail setup failed\n"
	"(the table `corral wait` shares: corral-run(1), corral(1)); 2 bad usage.\n";

enum {
	OPT_MEMORY = 256,
	OPT_PIDS,
	OPT_CPUS,
	OPT_TIME,
	OPT_WALL,
	OPT_BIND,
	OPT_RO_BIND,
	OPT_TMPFS,
	OPT_TMP_SIZE,
	OPT_WORK,
	OPT_ENV,
	OPT_CWD,
	OPT_HOSTNAME,
	OPT_SECCOMP,
	OPT_STDIN,
	OPT_STDOUT,
	OPT_STDERR,
	OPT_OUTPUT_LIMIT,
	OPT_JSON,
	OPT_JSON_FD,
	OPT_CLEAR_ENV,
	OPT_QUIET,
	OPT_UID,
	OPT_GID,
	OPT_HOST_UID,
	OPT_CGROUP_PARENT,
	OPT_STATUS_FILE,
	OPT_NOFILE,
	OPT_FSIZE,
	OPT_STACK,
	OPT_POLICY,
	OPT_PROFILE,
	OPT_USER,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option long_options[] = {
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "pids", required_argument, NULL, OPT_PIDS },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "time", required_argument, NULL, OPT_TIME },
	{ "wall-time", required_argument, NULL, OPT_WALL },
	{ "bind", required_argument, NULL, OPT_BIND },
	{ "ro-bind", required_argument, NULL, OPT_RO_BIND },
	{ "tmpfs", required_argument, NULL, OPT_TMPFS },
	{ "tmp-size", required_argument, NULL, OPT_TMP_SIZE },
	{ "work", required_argument, NULL, OPT_WORK },
	{ "env", required_argument, NULL, OPT_ENV },
	{ "cwd", required_argument, NULL, OPT_CWD },
	{ "hostname", required_argument, NULL, OPT_HOSTNAME },
	{ "seccomp", required_argument, NULL, OPT_SECCOMP },
	{ "stdin", required_argument, NULL, OPT_STDIN },
	{ "stdout", required_argument, NULL, OPT_STDOUT },
	{ "stderr", required_argument, NULL, OPT_STDERR },
	{ "output-limit", required_argument, NULL, OPT_OUTPUT_LIMIT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "json-fd", required_argument, NULL, OPT_JSON_FD },
	{ "clear-env", no_argument, NULL, OPT_CLEAR_ENV },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "uid", required_argument, NULL, OPT_UID },
	{ "gid", required_argument, NULL, OPT_GID },
	{ "host-uid", required_argument, NULL, OPT_HOST_UID },
	{ "cgroup-parent", required_argument, NULL, OPT_CGROUP_PARENT },
	{ "status-file", required_argument, NULL, OPT_STATUS_FILE },
	{ "nofile", required_argument, NULL, OPT_NOFILE },
	{ "fsize", required_argument, NULL, OPT_FSIZE },
	{ "stack", required_argument, NULL, OPT_STACK },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "user", required_argument, NULL, OPT_USER },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

void run_args_init(struct run_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	jail_spec_init(&opts->spec);
	opts->uid_range_first = RUN_UID_RANGE_FIRST;
	opts->uid_range_count = RUN_UID_RANGE_COUNT;
	opts->spec.die_with_parent = true;
	opts->json_fd = -1;
}

void run_args_free(struct run_options *opts)
{
	for (size_t i = 0; i < opts->n_mounts; i++) {
		free((char *)opts->mounts[i].source);
		free((char *)opts->mounts[i].target);
	}
	free(opts->mounts);
	opts->n_mounts = 0;
	free(opts->env);
	jailspec_env_free(opts->merged_env);
	opts->mounts = NULL;
	opts->env = NULL;
	opts->merged_env = NULL;
}

static int add_mount(struct run_options *o, enum jail_mount_kind kind, const char *arg, struct error *err)
{
	struct jail_mount *m;
	const char *colon = strchr(arg, ':');

	m = realloc(o->mounts, (o->n_mounts + 1) * sizeof(*m));
	if (!m)
		return error_usage(err, "out of memory");
	o->mounts = m;
	m = &o->mounts[o->n_mounts];
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	o->n_mounts++;
	o->spec.mounts = o->mounts;
	o->spec.n_mounts = o->n_mounts;
	/* owned copies: argv is not ours to cut */
	if (kind == JAIL_MOUNT_TMPFS) {
		m->target = strndup(arg, colon ? (size_t)(colon - arg) : strlen(arg));
		if (!m->target)
			return error_usage(err, "out of memory");
		if (colon && policy_parse_size(colon + 1, &m->size_bytes) < 0)
			return error_usage(err, "--tmpfs %s: bad size '%s' (use e.g. 64M)", arg, colon + 1);
		if (colon && m->size_bytes < 4096)
			return error_usage(err, "--tmpfs %s: size must be at least 4K", arg);
	} else {
		m->source = strndup(arg, colon ? (size_t)(colon - arg) : strlen(arg));
		m->target = strdup(colon ? colon + 1 : arg);
		if (!m->source || !m->target)
			return error_usage(err, "out of memory");
		if (arg[0] != '/')
			return error_usage(err, "bind source '%s' must be an absolute path", m->source);
	}
	if (m->target[0] != '/')
		return error_usage(err, "mount target '%s' must be an absolute path", m->target);
	return 0;
}

static int add_env(struct run_options *o, char *arg, struct error *err)
{
	char **env;

	if (!strchr(arg, '=') || arg[0] == '=')
		return error_usage(err, "--env '%s': expected KEY=VALUE", arg);
	env = realloc(o->env, (o->n_env + 2) * sizeof(*env));
	if (!env)
		return error_usage(err, "out of memory");
	o->env = env;
	env[o->n_env++] = arg;
	env[o->n_env] = NULL;
	return 0; /* spec.env is set once all flags are read (set_env) */
}

static int size_arg(const char *flag, const char *arg, uint64_t min, uint64_t *out, struct error *err)
{
	int r = policy_parse_size(arg, out);

	if (r < 0 || (arg[0] == '-'))
		return error_usage(err, "%s: '%s' is not a size (use e.g. 512K, 256M, 1G)", flag, arg);
	if (*out < min)
		return error_usage(err, "%s: '%s' is too small (at least %llu bytes)", flag, arg,
				   (unsigned long long)min);
	return 0;
}

static int duration_arg(const char *flag, const char *arg, uint64_t *out, struct error *err)
{
	if (policy_parse_duration_ms(arg, out) < 0)
		return error_usage(err, "%s: '%s' is not a duration (use e.g. 10, 1.5s, 500ms, 2m)", flag,
				   arg);
	if (*out == 0)
		return error_usage(err, "%s: must be more than 0", flag);
	return 0;
}

static int uint_arg(const char *flag, const char *arg, uint64_t min, uint64_t max, uint64_t *out,
		    struct error *err)
{
	if (policy_parse_uint(arg, max, out) < 0 || *out < min)
		return error_usage(err, "%s: '%s' must be a whole number from %llu to %llu", flag, arg,
				   (unsigned long long)min, (unsigned long long)max);
	return 0;
}

static int apply_option(struct run_options *o, int opt, char *arg, struct error *err)
{
	struct jail_spec *s = &o->spec;
	uint64_t v;
	int r = 0;

	switch (opt) {
	case OPT_MEMORY:
		return size_arg("--memory", arg, 1 << 20, &s->memory_bytes, err);
	case OPT_PIDS:
		r = uint_arg("--pids", arg, 1, 1 << 22, &v, err);
		s->pids_max = v;
		return r;
	case OPT_CPUS:
		if (policy_parse_cpu_millis(arg, &s->cpu_millis) < 0)
			return error_usage(err, "--cpus: '%s' must be a number of CPUs above 0 (e.g. 0.5)",
					   arg);
		return 0;
	case OPT_TIME:
		return duration_arg("--time", arg, &s->cpu_time_ms, err);
	case OPT_WALL:
		return duration_arg("--wall-time", arg, &s->wall_time_ms, err);
	case OPT_BIND:
		return add_mount(o, JAIL_MOUNT_BIND_RW, arg, err);
	case OPT_RO_BIND:
		return add_mount(o, JAIL_MOUNT_BIND_RO, arg, err);
	case OPT_TMPFS:
		return add_mount(o, JAIL_MOUNT_TMPFS, arg, err);
	case OPT_TMP_SIZE:
		return size_arg("--tmp-size", arg, 4096, &s->tmp_bytes, err);
	case OPT_WORK:
		s->work_dir = arg;
		return 0;
	case OPT_ENV:
		return add_env(o, arg, err);
	case OPT_CWD:
		s->cwd = arg;
		return 0;
	case OPT_HOSTNAME:
		s->hostname = arg;
		return 0;
	case OPT_SECCOMP:
		if (jail_seccomp_profile_parse(arg, &s->seccomp) < 0)
			return error_usage(err,
					   "--seccomp: unknown profile '%s' (use default, strict or none)",
					   arg);
		s->filter = NULL;
		return 0;
	case OPT_STDIN:
		s->stdin_path = arg;
		return 0;
	case OPT_STDOUT:
		s->stdout_path = arg;
		return 0;
	case OPT_STDERR:
		s->stderr_path = arg;
		return 0;
	case OPT_OUTPUT_LIMIT:
		return size_arg("--output-limit", arg, 1, &s->output_limit, err);
	case OPT_JSON:
		o->json = true;
		return 0;
	case OPT_JSON_FD:
		r = uint_arg("--json-fd", arg, 1, 1 << 20, &v, err);
		o->json_fd = (int)v;
		return r;
	case OPT_CLEAR_ENV:
		o->clear_env = true;
		return 0;
	case OPT_QUIET:
		o->quiet = true;
		return 0;
	case OPT_UID:
		r = uint_arg("--uid", arg, 0, 0xfffffffeu, &v, err);
		s->uid = (uid_t)v;
		return r;
	case OPT_GID:
		r = uint_arg("--gid", arg, 0, 0xfffffffeu, &v, err);
		s->gid = (gid_t)v;
		return r;
	case OPT_HOST_UID:
		r = uint_arg("--host-uid", arg, 1, 0xfffffffeu, &v, err);
		s->host_uid = (uid_t)v;
		s->host_gid = (gid_t)v;
		o->host_uid_given = true;
		return r;
	case OPT_CGROUP_PARENT:
		s->cgroup_parent = arg;
		return 0;
	case OPT_STATUS_FILE:
		s->status_path = arg;
		return 0;
	case OPT_NOFILE:
		r = uint_arg("--nofile", arg, 8, 1 << 20, &v, err);
		s->rlimit_nofile = v;
		return r;
	case OPT_FSIZE:
		return size_arg("--fsize", arg, 1, &s->rlimit_fsize, err);
	case OPT_STACK:
		return size_arg("--stack", arg, 64 << 10, &s->rlimit_stack, err);
	case OPT_POLICY:
		o->policy_path = arg;
		return 0;
	case OPT_PROFILE:
		o->profile = arg;
		return 0;
	case OPT_USER:
		o->user = arg;
		return 0;
	case OPT_HELP:
		o->help = true;
		return 0;
	case OPT_VERSION:
		o->version = true;
		return 0;
	default:
		return error_usage(err, "unknown option (see corral-run --help)");
	}
}

/* getopt_long with '+': stop at the first non-option (the command); '-:'
 * reports a missing argument distinctly. */
static int walk_options(int argc, char **argv, struct run_options *o, bool policy_only, struct error *err)
{
	int opt, r;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:", long_options, NULL)) != -1) {
		if (opt == '?')
			return error_usage(err, "unknown option '%s' (see corral-run --help)",
					   argv[optind - 1]);
		if (opt == ':')
			return error_usage(err, "option '%s' needs a value", argv[optind - 1]);
		if (policy_only && opt != OPT_POLICY && opt != OPT_PROFILE && opt != OPT_USER)
			continue;
		r = apply_option(o, opt, optarg, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* --env adds to the profile's env (else the runner's default); with
 * --clear-env the --env variables alone (none: an empty environment). */
static int set_env(struct run_options *o)
{
	static char *const empty[] = { NULL };

	if (o->clear_env) {
		o->spec.env = o->env ? o->env : empty;
		return 0;
	}
	if (!o->env)
		return 0;
	o->merged_env = jailspec_env_merge((const char *const *)o->spec.env, o->env, o->n_env);
	if (!o->merged_env)
		return -ENOMEM;
	o->spec.env = o->merged_env;
	return 0;
}

int run_args_scan_policy(int argc, char **argv, struct run_options *opts, struct error *err)
{
	return walk_options(argc, argv, opts, true, err);
}

int run_args_parse(int argc, char **argv, struct run_options *o, struct error *err)
{
	struct jail_error jerr;
	int r = walk_options(argc, argv, o, false, err);

	if (r < 0 || o->help || o->version)
		return r;
	if (optind >= argc)
		return error_usage(err,
				   "no command given (usage: corral-run [OPTIONS] -- COMMAND [ARGS...])");
	o->spec.argv = &argv[optind];
	if (o->json_fd == STDOUT_FILENO && !o->spec.stdout_path)
		return error_usage(err,
				   "--json-fd 1: stdout is the command's; give --stdout FILE, "
				   "or use --json (stderr) or another fd");
	r = set_env(o);
	if (r < 0)
		return error_usage(err, "out of memory");
	if (!o->host_uid_given) {
		/* a placeholder that passes validation; the real one is picked at run time */
		o->spec.host_uid = o->uid_range_first;
		o->spec.host_gid = o->uid_range_first;
	}
	if ((o->profile || o->user) && !o->policy_path)
		return error_usage(err, "--profile and --user need --policy FILE");
	r = jail_spec_validate(&o->spec, &jerr);
	if (r < 0) {
		jailspec_error_from_jail(err, &jerr);
		return -EINVAL; /* a usage error, whatever the errno */
	}
	return 0;
}

int run_args_exit_code(const struct jail_result *r)
{
	switch (r->status) {
	case JAIL_OK:
	case JAIL_EXIT_NONZERO:
		return r->exit_code;
	case JAIL_SIGNALED:
	case JAIL_KILLED:
		return 128 + (r->signal ? r->signal : 9);
	default: {
		int code = exit_code_of_reason(jail_status_name(r->status));

		return code >= 0 ? code : EXIT_CODE_SETUP;
	}
	}
}
