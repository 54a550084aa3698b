/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/doctor/doctor_internal.h — what the check files of doctor/
 * share: reading a host file below the host's root.  Not for callers
 * outside doctor/ (they include doctor.h).
 */
#ifndef CORRAL_SUPERVISOR_DOCTOR_INTERNAL_H
#define CORRAL_SUPERVISOR_DOCTOR_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "supervisor/doctor/doctor.h"

/* "<root><path>" into buf (path is absolute on the host).  0, or
 * -ENAMETOOLONG. */
int doctor_files_path(const struct doctor_host *host, const char *path, char *buf, size_t size);
/* The whole file below the root, NUL-terminated and malloc'd, in *out.
 * 0 or -errno (-ENOENT when missing). */
int doctor_files_read(const struct doctor_host *host, const char *path, char **out);
/* The first line of a file holding one number (sysctls): 0, -errno, or
 * -EINVAL when it is not a number. */
int doctor_files_read_u64(const struct doctor_host *host, const char *path, uint64_t *value);
/* The file exists below the root. */
int doctor_files_exists(const struct doctor_host *host, const char *path);

#endif
