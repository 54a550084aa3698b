/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/common/log.h — corrald's one logger: stderr, one line per message,
 * with syslog priority prefixes ("<3>") that journald understands, and the
 * task id in every line about a task.
 */
#ifndef CORRAL_SUPERVISOR_LOG_H
#define CORRAL_SUPERVISOR_LOG_H

#include <stdint.h>

enum log_level {
	LOG_LEVEL_ERR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_NOTICE = 5,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7
};

/* Messages above this level are dropped (default INFO; CORRALD_DEBUG=1: DEBUG). */
void log_set_level(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with "task N: " in front. */
void log_task(enum log_level level, int64_t task_id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Log "<message>: strerror(r)" at level, keep errno, and return r
 * (r is -errno or errno): return log_error_errno(r, "open %s", path); */
int log_errno(enum log_level level, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same for a task. */
int log_task_errno(enum log_level level, int64_t task_id, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define log_error_errno(r, ...) log_errno(LOG_LEVEL_ERR, (r), __VA_ARGS__)
#define log_warning_errno(r, ...) log_errno(LOG_LEVEL_WARNING, (r), __VA_ARGS__)
#define log_notice_errno(r, ...) log_errno(LOG_LEVEL_NOTICE, (r), __VA_ARGS__)

#define log_error(...) log_msg(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
