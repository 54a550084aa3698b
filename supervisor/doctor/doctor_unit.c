/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/doctor/doctor_unit.c — the installed systemd unit of corrald:
 * ProtectHome= or PrivateTmp= (older units had them) hide bind sources under
 * /home and /tmp from corrald under systemd only, and without
 * RestartForceExitStatus=75 a SIGUSR2 handover whose exec failed is not
 * restarted.  Reads the
 * first corrald.service found where systemd looks (drop-ins are not read).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "supervisor/doctor/doctor_internal.h"

static const char *const unit_paths[] = {
	"/etc/systemd/system/corrald.service",
	"/usr/local/lib/systemd/system/corrald.service",
	"/lib/systemd/system/corrald.service",
	"/usr/lib/systemd/system/corrald.service",
};

/* The value of the last "key=" line of text (its [Service] keys are
 * unique to that section in our unit), copied into buf; false if none. */
static bool unit_value(const char *text, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);
	bool found = false;

	for (const char *line = text; line && *line;) {
		const char *next = strchr(line, '\n');
		size_t len = next ? (size_t)(next - line) : strlen(line);

		while (len && (*line == ' ' || *line == '\t')) {
			line++;
			len--;
		}
		if (len > klen && strncmp(line, key, klen) == 0 && line[klen] == '=') {
			snprintf(buf, size, "%.*s", (int)(len - klen - 1), line + klen + 1);
			found = true;
		}
		line = next ? next + 1 : NULL;
	}
	return found;
}

static bool is_on(const char *v)
{
	return strcasecmp(v, "no") != 0 && strcasecmp(v, "false") != 0 && strcmp(v, "0") != 0 &&
		strcasecmp(v, "off") != 0 && *v;
}

void doctor_unit_check(const struct doctor_host *host, struct doctor_report *report)
{
	const char *path = NULL;
	char *text = NULL, value[128], hides[256] = "";
	size_t used = 0;

	for (size_t i = 0; i < sizeof(unit_paths) / sizeof(unit_paths[0]) && !path; i++)
		if (doctor_files_read(host, unit_paths[i], &text) == 0)
			path = unit_paths[i];
	if (!path) {
		doctor_report_add(report, DOCTOR_SKIP, "systemd.unit", NULL,
				  "no corrald.service installed (make install puts it in place)");
		return;
	}
	if (unit_value(text, "ProtectHome", value, sizeof(value)) && is_on(value))
		used += (size_t)snprintf(hides + used, sizeof(hides) - used, "ProtectHome=%s hides /home",
					 value);
	if (unit_value(text, "PrivateTmp", value, sizeof(value)) && is_on(value) && used < sizeof(hides))
		snprintf(hides + used, sizeof(hides) - used, "%sPrivateTmp=%s gives it a /tmp of its own",
			 used ? ", " : "", value);
	if (hides[0])
		doctor_report_add(report, DOCTOR_WARN, "systemd.unit",
				  "remove those lines (the unit corral installs has neither) and "
				  "systemctl daemon-reload",
				  "%s: %s from corrald: a profile's bind from there fails under systemd but "
				  "not under make run",
				  path, hides);
	else if (!unit_value(text, "RestartForceExitStatus", value, sizeof(value)) || !strstr(value, "75"))
		doctor_report_add(report, DOCTOR_WARN, "systemd.unit",
				  "install the unit of this version (make install) and systemctl "
				  "daemon-reload",
				  "%s has no RestartForceExitStatus=75: a handover (SIGUSR2) whose exec "
				  "fails stops corrald without starting the next one",
				  path);
	else
		doctor_report_add(report, DOCTOR_OK, "systemd.unit", NULL,
				  "%s: corrald sees the host's /home and /tmp; a failed SIGUSR2 handover is "
				  "restarted",
				  path);
	free(text);
}
