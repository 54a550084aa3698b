/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/doctor/doctor_checks.c — every file-reading check of a host,
 * in the order `corral doctor` shows them (the jail probe is separate:
 * doctor_jail.c).
 */
#include "supervisor/doctor/doctor.h"

void doctor_checks_run(const struct doctor_host *host, const struct doctor_config *config,
		       struct doctor_report *report)
{
	doctor_kernel_check(host, report);
	doctor_kernel_check_userns(host, report);
	doctor_kernel_check_seccomp(host, report);
	doctor_cgroup_check(host, config, report);
	doctor_uids_check(host, config, report);
	doctor_paths_check(host, config, report);
	doctor_unit_check(host, report);
}
