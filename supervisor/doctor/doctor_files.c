/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/doctor/doctor_files.c — reading the host's files below the
 * host's root (the real "/" or a test's fake host).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/common/macros.h"
#include "supervisor/doctor/doctor_internal.h"

/* Files larger than this are not what the checks expect: refuse them. */
#define DOCTOR_FILE_MAX (16u << 20)

int doctor_files_path(const struct doctor_host *host, const char *path, char *buf, size_t size)
{
	const char *root = host && host->root && strcmp(host->root, "/") != 0 ? host->root : "";
	int n = snprintf(buf, size, "%s%s", root, path);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int doctor_files_read(const struct doctor_host *host, const char *path, char **out)
{
	char full[4096];
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;
	int r = doctor_files_path(host, path, full, sizeof(full));

	if (r < 0)
		return r;
	fd = open(full, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (len + 1 >= cap) {
			if (cap >= DOCTOR_FILE_MAX)
				return -EFBIG;
			cap = cap ? cap * 2 : 4096;
			char *grown = realloc(buf, cap);
			if (!grown)
				return -ENOMEM;
			buf = grown;
		}
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (!buf && !(buf = malloc(1)))
		return -ENOMEM;
	buf[len] = '\0';
	*out = TAKE_PTR(buf);
	return 0;
}

int doctor_files_read_u64(const struct doctor_host *host, const char *path, uint64_t *value)
{
	_cleanup_free_ char *text = NULL;
	char *end;
	int r = doctor_files_read(host, path, &text);

	if (r < 0)
		return r;
	if (text[0] < '0' || text[0] > '9')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || (*end && *end != '\n' && *end != ' ' && *end != '\t'))
		return -EINVAL;
	*value = v;
	return 0;
}

int doctor_files_exists(const struct doctor_host *host, const char *path)
{
	char full[4096];

	return doctor_files_path(host, path, full, sizeof(full)) == 0 && access(full, F_OK) == 0;
}
