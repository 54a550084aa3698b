/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/error.c — filling a struct jail_error.  Nothing else lives here.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runner/jail.h"

int jail_error_setv(struct jail_error *err, int errnum, const char *step, const char *fmt, va_list ap)
{
	if (errnum < 0)
		errnum = -errnum;
	if (err) {
		char what[sizeof(err->message) - 3]; /* all of the message budget but ": " */

		vsnprintf(what, sizeof(what), fmt, ap);
		err->err = errnum;
		snprintf(err->step, sizeof(err->step), "%s", step ? step : "");
		if (errnum)
			snprintf(err->message, sizeof(err->message), "%s: %s", what, strerror(errnum));
		else
			snprintf(err->message, sizeof(err->message), "%s", what);
	}
	return errnum ? -errnum : -EINVAL;
}

int jail_error_set(struct jail_error *err, int errnum, const char *step, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = jail_error_setv(err, errnum, step, fmt, ap);
	va_end(ap);
	return r;
}
