/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/common/log.c — see log.h.  One write(2) per line so lines from a
 * crashing daemon are never interleaved.  The message's control characters
 * are escaped (escape.h): a tenant's argv or name in a message can never end
 * the line and forge another with its own <N> priority.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/common/escape.h"
#include "supervisor/common/log.h"

static enum log_level max_level = LOG_LEVEL_INFO;

void log_set_level(enum log_level level)
{
	max_level = level;
}

__attribute__((format(printf, 3, 0))) static void log_vline(enum log_level level, const char *prefix,
							    const char *fmt, va_list ap)
{
	char line[2048], message[2048];
	int n;

	if (level > max_level)
		return;
	n = snprintf(line, sizeof(line), "<%d>%s", (int)level, prefix);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	vsnprintf(message, sizeof(message), fmt, ap);
	escape_control(message, line + n, sizeof(line) - (size_t)n);
	n = (int)strlen(line);
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* nowhere else to report it */
	}
}

__attribute__((format(printf, 3, 4))) static void log_line(enum log_level level, const char *prefix,
							   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline(level, prefix, fmt, ap);
	va_end(ap);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline(level, "", fmt, ap);
	va_end(ap);
}

void log_task(enum log_level level, int64_t task_id, const char *fmt, ...)
{
	char prefix[32];
	va_list ap;

	snprintf(prefix, sizeof(prefix), "task %lld: ", (long long)task_id);
	va_start(ap, fmt);
	log_vline(level, prefix, fmt, ap);
	va_end(ap);
}

static int log_verrno(enum log_level level, const char *prefix, int r, const char *fmt, va_list ap)
{
	int saved = errno;
	char what[1536];

	vsnprintf(what, sizeof(what), fmt, ap);
	log_line(level, prefix, "%s: %s", what, strerror(r < 0 ? -r : r));
	errno = saved;
	return r;
}

int log_errno(enum log_level level, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	r = log_verrno(level, "", r, fmt, ap);
	va_end(ap);
	return r;
}

int log_task_errno(enum log_level level, int64_t task_id, int r, const char *fmt, ...)
{
	char prefix[32];
	va_list ap;

	snprintf(prefix, sizeof(prefix), "task %lld: ", (long long)task_id);
	va_start(ap, fmt);
	r = log_verrno(level, prefix, r, fmt, ap);
	va_end(ap);
	return r;
}
