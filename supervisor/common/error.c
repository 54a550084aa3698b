/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/common/error.c — filling a struct error.  Nothing else lives here.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "supervisor/common/error.h"

int error_setv(struct error *err, int errnum, const char *step, const char *fmt, va_list ap)
{
	if (errnum < 0)
		errnum = -errnum;
	if (err) {
		char what[sizeof(err->message)];

		err->err = errnum;
		snprintf(err->step, sizeof(err->step), "%s", step ? step : "");
		if (!errnum) {
			vsnprintf(err->message, sizeof(err->message), fmt, ap);
		} else {
			vsnprintf(what, sizeof(what), fmt, ap);
			/* a long pair is cut at the end, as every message here is */
			if (snprintf(err->message, sizeof(err->message), "%s: %s", what, strerror(errnum)) <
			    0)
				err->message[0] = '\0';
		}
	}
	return errnum ? -errnum : -EINVAL;
}

int error_set(struct error *err, int errnum, const char *step, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = error_setv(err, errnum, step, fmt, ap);
	va_end(ap);
	return r;
}

int error_set_message(struct error *err, int errnum, const char *step, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (errnum < 0)
		errnum = -errnum;
	va_start(ap, fmt);
	r = error_setv(err, 0, step, fmt, ap);
	va_end(ap);
	if (err)
		err->err = errnum;
	return errnum ? -errnum : r;
}

int error_usage(struct error *err, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = error_setv(err, 0, "parse command line", fmt, ap);
	va_end(ap);
	return r;
}

void error_prefix(struct error *err, const char *fmt, ...)
{
	char context[160], old[sizeof(err->message)];
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(context, sizeof(context), fmt, ap);
	va_end(ap);
	memcpy(old, err->message, sizeof(old));
	/* a long pair is cut at the end, as every message here is */
	if (snprintf(err->message, sizeof(err->message), "%s: %s", context, old) < 0)
		err->message[0] = '\0';
}
