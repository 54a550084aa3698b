/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/start_checks.c — what corrald refuses to start with
 * (sshd's StrictModes habit): a uid range for jails that real users or
 * their subordinate ids share (/etc/subuid, /etc/subgid, passwd, group),
 * and a state dir, tasks dir or socket dir that anyone but root owns or
 * can write, or with a parent others may write (a sticky, root-owned one
 * like /tmp excepted).  The checks themselves are `corral doctor`'s
 * (supervisor/doctor/): one implementation, here every FAIL of them stops
 * corrald with what was seen and the fix.  The database file is checked
 * where it is opened (store/sqlite: no symlink, owner, mode).
 */
#include <errno.h>
#include <string.h>

#include "supervisor/common/log.h"
#include "supervisor/corrald/corrald.h"
#include "supervisor/doctor/doctor.h"

/* The findings that stop corrald; the others (free space, filesystem,
 * hidepid, useradd's future ranges) are `corral doctor`'s to report. */
static bool stops_corrald(const struct doctor_finding *f)
{
	static const char *const fatal[] = { "uid_range",        "uid_range.subuid", "uid_range.subgid",
					     "uid_range.passwd", "uid_range.group",  "state_dir",
					     "socket_dir" };

	if (f->verdict != DOCTOR_FAIL)
		return false;
	for (size_t i = 0; i < ELEMENTSOF(fatal); i++)
		if (strcmp(f->check, fatal[i]) == 0)
			return true;
	return false;
}

static size_t log_fatal(const struct doctor_report *report)
{
	size_t n = 0;

	for (size_t i = 0; i < report->count; i++) {
		const struct doctor_finding *f = &report->items[i];

		if (!stops_corrald(f))
			continue;
		n++;
		log_error("refusing to start: %s%s%s", f->detail, f->fix && f->fix[0] ? "; fix: " : "",
			  f->fix ? f->fix : "");
	}
	return n;
}

int start_checks_run(const struct daemon *d)
{
	struct doctor_host host = { .root = NULL, .trusted_uid = 0, .seccomp_prctl = DOCTOR_NOT_PROBED };
	struct doctor_config config = {
		.uid_first = d->cfg->uid_first,
		.uid_last = d->cfg->uid_last,
		.max_running = d->cfg->max_running,
		.state_dir = d->state_dir,
		.socket = d->socket_path,
	};
	struct doctor_config tasks = config;
	struct doctor_report report = { 0 };
	size_t fatal;

	doctor_uids_check(&host, &config, &report);
	doctor_paths_check(&host, &config, &report);
	fatal = log_fatal(&report);
	doctor_report_free(&report);
	/* the tasks dir holds every task's outputs and stdin */
	tasks.state_dir = d->tasks_dir;
	doctor_paths_check(&host, &tasks, &report);
	fatal += log_fatal(&report);
	if (report.out_of_memory)
		fatal++;
	doctor_report_free(&report);
	return fatal ? -EPERM : 0;
}
