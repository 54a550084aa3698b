/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral/doctor_cmd.c — `corral doctor [--policy FILE] [--json]`:
 * loads the policy's [supervisor] settings, runs supervisor/doctor/'s
 * checks and the jail probe (as root), prints one line per finding with its
 * verdict and fix, or a JSON array.  Reads only what any user may read; the
 * test jail needs root and is skipped otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/policy.h"
#include "supervisor/corral/doctor_cmd.h"
#include "supervisor/doctor/doctor.h"

static void doctor_usage(FILE *f)
{
	fprintf(f,
		"usage: corral doctor [--policy FILE] [--json] [--root DIR]\n"
		"\n"
		"Check what this host lacks for corral: kernel and its features, user\n"
		"namespaces, seccomp, cgroup mode and controllers, the policy's uid range,\n"
		"state and socket directories, and (as root) a test jail of /bin/true.\n"
		"Each line says ok, warn, fail or skip, and how to fix it.\n"
		"\n"
		"  --policy FILE  the policy to check against (default %s;\n"
		"                 without it the defaults)\n"
		"  --json         print an array of {check, verdict, detail, fix}\n"
		"  --root DIR     examine the files of a host tree below DIR (tests,\n"
		"                 images); the jail probe is skipped\n"
		"\n"
		"Exit status: 0 corral can run here, 1 it cannot (a check failed), 2 usage.\n",
		POLICY_DEFAULT_PATH);
}

/* The policy, or the defaults (NULL path given and the default file
 * missing).  Adds a "policy" finding. */
static struct policy *load_policy(const char *given, struct doctor_report *report)
{
	const char *path = given ? given : POLICY_DEFAULT_PATH;
	struct policy_errors errors = { 0 };
	struct policy *p = NULL;
	struct stat st;

	if (!given && stat(path, &st) < 0 && errno == ENOENT) {
		doctor_report_add(report, DOCTOR_WARN, "policy",
				  "install one (make install puts contrib/policy/corral.conf there) "
				  "or name it with --policy FILE",
				  "%s does not exist: checked against the built-in defaults", path);
		policy_load_buffer("(defaults)", "", 0, POLICY_LOAD_NO_INCLUDE, &p, NULL);
		return p;
	}
	if (policy_load(path, &p, &errors) == 0) {
		doctor_report_add(report, DOCTOR_OK, "policy", NULL, "%s loads without errors", path);
	} else {
		char first[1024] = "";

		if (errors.count)
			policy_error_format(&errors.items[0], first, sizeof(first));
		doctor_report_add(report, DOCTOR_FAIL, "policy",
				  "run corral policy check FILE for every error",
				  "%s does not load (%zu error%s; the first: %s): the other checks use "
				  "the defaults",
				  path, errors.count + errors.omitted,
				  errors.count + errors.omitted == 1 ? "" : "s",
				  *first ? first : "out of memory");
		policy_load_buffer("(defaults)", "", 0, POLICY_LOAD_NO_INCLUDE, &p, NULL);
	}
	policy_errors_free(&errors);
	return p;
}

static void print_text(const struct doctor_report *report, FILE *out)
{
	size_t fails = doctor_report_count(report, DOCTOR_FAIL);
	size_t warns = doctor_report_count(report, DOCTOR_WARN);
	size_t skips = doctor_report_count(report, DOCTOR_SKIP);

	for (size_t i = 0; i < report->count; i++) {
		const struct doctor_finding *f = &report->items[i];

		fprintf(out, "%-5s %s: %s\n", doctor_report_verdict_name(f->verdict), f->check, f->detail);
		if (*f->fix && f->verdict != DOCTOR_OK)
			fprintf(out, "      fix: %s\n", f->fix);
	}
	if (report->out_of_memory)
		fprintf(out, "\ncorral doctor: out of memory: the report is incomplete\n");
	fprintf(out, "\n%s: %zu ok, %zu warning%s, %zu failure%s, %zu skipped\n",
		fails || report->out_of_memory ? "corral cannot run on this host"
					       : "corral can run on this host",
		doctor_report_count(report, DOCTOR_OK), warns, warns == 1 ? "" : "s", fails,
		fails == 1 ? "" : "s", skips);
}

static int print_json(const struct doctor_report *report, FILE *out)
{
	json_t *array = json_array();

	if (!array)
		return -ENOMEM;
	for (size_t i = 0; i < report->count; i++) {
		const struct doctor_finding *f = &report->items[i];
		json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "check", f->check, "verdict",
				      doctor_report_verdict_name(f->verdict), "detail", f->detail, "fix",
				      *f->fix ? json_string(f->fix) : json_null());

		if (!o || json_array_append_new(array, o) < 0) {
			json_decref(array);
			return -ENOMEM;
		}
	}
	int r = json_dumpf(array, out, JSON_INDENT(2)) < 0 ? -EIO : 0;
	fputc('\n', out);
	json_decref(array);
	return r;
}

int doctor_cmd_run(const struct doctor_cmd_options *options, FILE *out)
{
	struct doctor_report report = { 0 };
	struct doctor_host host = { .root = options->root, .seccomp_prctl = DOCTOR_NOT_PROBED };
	struct policy *policy = load_policy(options->policy_path, &report);
	int rc;

	if (!policy) {
		fprintf(stderr, "corral doctor: out of memory\n");
		doctor_report_free(&report);
		return 1;
	}
	const struct policy_supervisor *s = policy_supervisor(policy);
	struct doctor_config config = {
		.uid_first = s->uid_first,
		.uid_last = s->uid_last,
		.max_running = s->max_running,
		.state_dir = s->state_dir,
		.socket = s->socket,
		.cgroup_parent = s->cgroup_parent,
	};

	if (options->root) {
		struct stat st;

		/* the tree's owner plays root there */
		host.trusted_uid = stat(options->root, &st) == 0 ? st.st_uid : 0;
	} else {
		int r = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
		host.seccomp_prctl = r < 0 ? -errno : r;
	}
	doctor_checks_run(&host, &config, &report);
	if (options->root)
		doctor_report_add(&report, DOCTOR_SKIP, "jail", NULL,
				  "skipped: --root examines another host tree");
	else
		doctor_jail_probe(&config, &report);

	rc = doctor_report_count(&report, DOCTOR_FAIL) || report.out_of_memory ? 1 : 0;
	if (options->json) {
		if (print_json(&report, out) < 0) {
			fprintf(stderr, "corral doctor: cannot write the JSON report\n");
			rc = 1;
		}
	} else {
		print_text(&report, out);
	}
	fflush(out);
	doctor_report_free(&report);
	policy_free(policy);
	return rc;
}

int doctor_cmd_main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "root", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct doctor_cmd_options options = { 0 };
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", long_options, NULL)) != -1) {
		switch (c) {
		case 'p':
			options.policy_path = optarg;
			break;
		case 'j':
			options.json = true;
			break;
		case 'r':
			options.root = optarg;
			break;
		case 'h':
			doctor_usage(stdout);
			return 0;
		default:
			doctor_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "corral doctor: unexpected argument '%s'\n", argv[optind]);
		doctor_usage(stderr);
		return 2;
	}
	if (options.root && options.root[0] != '/') {
		fprintf(stderr, "corral doctor: --root needs an absolute path\n");
		return 2;
	}
	return doctor_cmd_run(&options, stdout);
}
