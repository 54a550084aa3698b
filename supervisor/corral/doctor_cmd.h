/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral/doctor_cmd.h — `corral doctor`: what this host lacks
 * for corral, each finding with a verdict and its fix (the checks live in
 * supervisor/doctor/).
 */
#ifndef CORRAL_SUPERVISOR_CORRAL_DOCTOR_CMD_H
#define CORRAL_SUPERVISOR_CORRAL_DOCTOR_CMD_H

#include <stdbool.h>
#include <stdio.h>

struct doctor_cmd_options {
	const char *policy_path; /* NULL = POLICY_DEFAULT_PATH, its absence allowed */
	bool json;               /* an array of {check, verdict, detail, fix} */
	const char *root;        /* NULL = this host; else read its files below root
				   * (its owner counts as root) and skip the jail probe */
};

/* `corral doctor [--policy FILE] [--json] [--root DIR]`; argv[0] is
 * "doctor".  Exit code: 0 corral can run here, 1 it cannot (a finding
 * failed), 2 usage error. */
int doctor_cmd_main(int argc, char **argv);

/* Run every check and print the report on out (text or JSON).  0 when no
 * finding failed, else 1. */
int doctor_cmd_run(const struct doctor_cmd_options *options, FILE *out);

#endif
