/*
 * runner/error.c — filling a struct jail_error.  Nothing else lives here.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runner/jail.h"

int jail_error_set(struct jail_error *err, int errnum, const char *step, const char *fmt, ...)
{
	if (errnum < 0)
		errnum = -errnum;
	if (err) {
		char what[256];
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(what, sizeof(what), fmt, ap);
		va_end(ap);
		err->err = errnum;
		snprintf(err->step, sizeof(err->step), "%s", step ? step : "");
		if (errnum)
			snprintf(err->message, sizeof(err->message), "%s: %s", what, strerror(errnum));
		else
			snprintf(err->message, sizeof(err->message), "%s", what);
	}
	return errnum ? -errnum : -EINVAL;
}
