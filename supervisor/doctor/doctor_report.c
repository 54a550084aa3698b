/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/doctor/doctor_report.c — the list of findings a doctor run
 * collects: append, find, count, free.  What people see is the client's
 * business (supervisor/corral/doctor_cmd.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/doctor/doctor.h"

const char *doctor_report_verdict_name(enum doctor_verdict verdict)
{
	switch (verdict) {
	case DOCTOR_OK:
		return "ok";
	case DOCTOR_WARN:
		return "warn";
	case DOCTOR_FAIL:
		return "fail";
	case DOCTOR_SKIP:
		return "skip";
	}
	return "?";
}

void doctor_report_add(struct doctor_report *report, enum doctor_verdict verdict, const char *check,
		       const char *fix, const char *detail_fmt, ...)
{
	struct doctor_finding f = { .verdict = verdict };
	va_list ap;

	if (report->count == report->capacity) {
		size_t cap = report->capacity ? report->capacity * 2 : 16;
		struct doctor_finding *items = realloc(report->items, cap * sizeof(*items));

		if (!items) {
			report->out_of_memory = true;
			return;
		}
		report->items = items;
		report->capacity = cap;
	}
	va_start(ap, detail_fmt);
	int n = vasprintf(&f.detail, detail_fmt, ap);
	va_end(ap);
	f.check = strdup(check);
	f.fix = strdup(fix ? fix : "");
	if (n < 0 || !f.check || !f.fix) {
		if (n >= 0)
			free(f.detail);
		free(f.check);
		free(f.fix);
		report->out_of_memory = true;
		return;
	}
	report->items[report->count++] = f;
}

const struct doctor_finding *doctor_report_find(const struct doctor_report *report, const char *check)
{
	for (size_t i = 0; i < report->count; i++)
		if (strcmp(report->items[i].check, check) == 0)
			return &report->items[i];
	return NULL;
}

size_t doctor_report_count(const struct doctor_report *report, enum doctor_verdict verdict)
{
	size_t n = 0;

	for (size_t i = 0; i < report->count; i++)
		n += report->items[i].verdict == verdict;
	return n;
}

void doctor_report_free(struct doctor_report *report)
{
	for (size_t i = 0; i < report->count; i++) {
		free(report->items[i].check);
		free(report->items[i].detail);
		free(report->items[i].fix);
	}
	free(report->items);
	*report = (struct doctor_report){ 0 };
}
