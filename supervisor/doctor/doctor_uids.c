/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/doctor/doctor_uids.c — the policy's uid range for jails
 * against the host's ids: subordinate ranges (/etc/subuid, /etc/subgid),
 * passwd users, groups, and the range useradd hands out (/etc/login.defs).
 * A uid a jail shares with anyone else lets that one signal the jail, or
 * own its files (with newuidmap, a user can map its subordinate ids).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/common/macros.h"
#include "supervisor/doctor/doctor_internal.h"

#define MAX_NAMED 8

struct overlaps {
	char names[1024]; /* "alice 100000-165535, bob 165536-231071" */
	size_t count;
};

static void overlap_add(struct overlaps *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void overlap_add(struct overlaps *o, const char *fmt, ...)
{
	size_t len = strlen(o->names);
	va_list ap;

	if (o->count++ >= MAX_NAMED || len + 3 >= sizeof(o->names))
		return;
	if (len) {
		memcpy(o->names + len, ", ", 3);
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(o->names + len, sizeof(o->names) - len, fmt, ap);
	va_end(ap);
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return !errno && *end == '\0';
}

/* Split a ':'-separated line in place into at most max fields. */
static size_t split_colons(char *line, char **field, size_t max)
{
	size_t n = 0;

	field[n++] = line;
	for (char *p = line; *p && n < max; p++)
		if (*p == ':') {
			*p = '\0';
			field[n++] = p + 1;
		}
	return n;
}

/* /etc/subuid or /etc/subgid: "owner:start:count" lines overlapping
 * [first, last].  -errno when unreadable (-ENOENT: no such file). */
static int subordinate_overlaps(const struct doctor_host *host, const char *path, uint64_t first,
				uint64_t last, struct overlaps *o)
{
	_cleanup_free_ char *text = NULL;
	int r = doctor_files_read(host, path, &text);

	if (r < 0)
		return r;
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[3];
		uint64_t start, count;

		if (line[0] == '#' || split_colons(line, f, 3) != 3 || !parse_u64(f[1], &start) ||
		    !parse_u64(f[2], &count) || count == 0)
			continue;
		if (start <= last && start + count - 1 >= first)
			overlap_add(o, "%s %" PRIu64 "-%" PRIu64, f[0], start, start + count - 1);
	}
	return 0;
}

/* /etc/passwd or /etc/group: entries whose id (field 2) is in [first, last]. */
static int id_overlaps(const struct doctor_host *host, const char *path, uint64_t first, uint64_t last,
		       struct overlaps *o)
{
	_cleanup_free_ char *text = NULL;
	int r = doctor_files_read(host, path, &text);

	if (r < 0)
		return r;
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[4];
		uint64_t id;

		if (line[0] == '#' || split_colons(line, f, 4) < 3 || !parse_u64(f[2], &id))
			continue;
		if (id >= first && id <= last)
			overlap_add(o, "%s (%" PRIu64 ")", f[0], id);
	}
	return 0;
}

static void report_overlaps(struct doctor_report *report, const char *check, const char *path,
			    const char *what, int r, const struct overlaps *o, uint64_t first, uint64_t last,
			    const char *fix)
{
	if (r == -ENOENT)
		doctor_report_add(report, DOCTOR_OK, check, NULL, "%s does not exist: nothing overlaps",
				  path);
	else if (r < 0)
		doctor_report_add(report, DOCTOR_WARN, check, NULL, "cannot read %s: %s", path, strerror(-r));
	else if (o->count)
		doctor_report_add(report, DOCTOR_FAIL, check, fix,
				  "the uid range %" PRIu64 "-%" PRIu64 " overlaps %zu %s in %s: %s%s", first,
				  last, o->count, what, path, o->names, o->count > MAX_NAMED ? ", ..." : "");
	else
		doctor_report_add(report, DOCTOR_OK, check, NULL,
				  "nothing in %s overlaps the uid range %" PRIu64 "-%" PRIu64, path, first,
				  last);
}

/* SUB_UID_MIN / SUB_UID_MAX style keys of login.defs. */
static bool login_defs_value(const char *text, const char *key, uint64_t *value)
{
	size_t len = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, key, len) == 0 && (p[len] == ' ' || p[len] == '\t')) {
			char *end;

			p += len;
			errno = 0;
			*value = strtoull(p, &end, 10);
			return !errno && end != p;
		}
	}
	return false;
}

static void check_login_defs(const struct doctor_host *host, uint64_t first, uint64_t last,
			     struct doctor_report *report)
{
	_cleanup_free_ char *text = NULL;
	uint64_t min = 100000, max = 600100000; /* shadow's defaults */
	char fix[256];

	if (doctor_files_read(host, "/etc/login.defs", &text) < 0) {
		doctor_report_add(report, DOCTOR_OK, "uid_range.useradd", NULL,
				  "no /etc/login.defs: no useradd ranges to avoid");
		return;
	}
	login_defs_value(text, "SUB_UID_MIN", &min);
	login_defs_value(text, "SUB_UID_MAX", &max);
	if (first > max || last < min) {
		doctor_report_add(report, DOCTOR_OK, "uid_range.useradd", NULL,
				  "the uid range %" PRIu64 "-%" PRIu64 " lies outside the subordinate "
				  "ids useradd hands out (SUB_UID_MIN..SUB_UID_MAX = %" PRIu64 "..%" PRIu64
				  " in /etc/login.defs)",
				  first, last, min, max);
		return;
	}
	if (max < UINT32_MAX - 1 - (last - first))
		snprintf(fix, sizeof(fix),
			 "set uid_range in [supervisor] outside %" PRIu64 "..%" PRIu64 " (e.g. %" PRIu64
			 "-%" PRIu64 "), or lower SUB_UID_MAX/SUB_GID_MAX in /etc/login.defs",
			 min, max, max + 1, max + 1 + (last - first));
	else
		snprintf(fix, sizeof(fix), "lower SUB_UID_MAX/SUB_GID_MAX in /etc/login.defs below %" PRIu64,
			 first);
	doctor_report_add(report, DOCTOR_WARN, "uid_range.useradd", fix,
			  "the uid range %" PRIu64 "-%" PRIu64 " lies inside the subordinate ids "
			  "useradd hands out (SUB_UID_MIN..SUB_UID_MAX = %" PRIu64 "..%" PRIu64
			  " in /etc/login.defs): the next user added may get jail uids in "
			  "/etc/subuid and, with newuidmap, signal jails",
			  first, last, min, max);
}

void doctor_uids_check(const struct doctor_host *host, const struct doctor_config *config,
		       struct doctor_report *report)
{
	static const char fix_sub[] = "give that user another subordinate range (usermod "
				      "--del-subuids/--add-subuids, --del-subgids/--add-subgids) or "
				      "move uid_range in [supervisor]";
	static const char fix_ids[] = "move uid_range in [supervisor] away from real users' and "
				      "groups' ids";
	uint64_t first = config->uid_first, last = config->uid_last;
	struct overlaps o;
	int r;

	if (first == 0 || last < first || last >= UINT32_MAX) {
		doctor_report_add(report, DOCTOR_FAIL, "uid_range",
				  "set uid_range = FIRST-LAST in [supervisor], e.g. 700000000-700065535",
				  "the uid range %" PRIu64 "-%" PRIu64 " is not a range of unprivileged "
				  "uids (1..4294967294)",
				  first, last);
		return;
	}
	uint64_t count = last - first + 1;
	if (config->max_running && count < config->max_running)
		doctor_report_add(report, DOCTOR_FAIL, "uid_range",
				  "widen uid_range or lower max_running in [supervisor]",
				  "the uid range %" PRIu64 "-%" PRIu64 " holds %" PRIu64 " uids but "
				  "max_running is %u: every running jail needs its own",
				  first, last, count, config->max_running);
	else
		doctor_report_add(report, DOCTOR_OK, "uid_range", NULL,
				  "jails run as host uids %" PRIu64 "-%" PRIu64 " (%" PRIu64
				  " uids, one per running jail)",
				  first, last, count);

	memset(&o, 0, sizeof(o));
	r = subordinate_overlaps(host, "/etc/subuid", first, last, &o);
	report_overlaps(report, "uid_range.subuid", "/etc/subuid", "subordinate uid range(s)", r, &o, first,
			last, fix_sub);
	memset(&o, 0, sizeof(o));
	r = subordinate_overlaps(host, "/etc/subgid", first, last, &o);
	report_overlaps(report, "uid_range.subgid", "/etc/subgid", "subordinate gid range(s)", r, &o, first,
			last, fix_sub);
	memset(&o, 0, sizeof(o));
	r = id_overlaps(host, "/etc/passwd", first, last, &o);
	report_overlaps(report, "uid_range.passwd", "/etc/passwd", "user(s)", r, &o, first, last, fix_ids);
	memset(&o, 0, sizeof(o));
	r = id_overlaps(host, "/etc/group", first, last, &o);
	report_overlaps(report, "uid_range.group", "/etc/group", "group(s)", r, &o, first, last, fix_ids);
	check_login_defs(host, first, last, report);
}
