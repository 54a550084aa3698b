/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/api/api_files.c — the rules of task files both sides apply
 * (pure, unit-tested): which names an input or artifact may have (corrald
 * refuses a submit's bad names; the client refuses to write a fetched
 * name outside its directory), how an artifact glob matches, and the
 * permission bits kept.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "supervisor/api/api.h"

int api_files_check_name(const char *name, char *why, size_t size)
{
	size_t len = name ? strlen(name) : 0;
	const char *c = name;

	if (len == 0) {
		snprintf(why, size, "an empty name");
		return -1;
	}
	if (len > API_FILES_PATH_MAX) {
		snprintf(why, size, "'%.64s...' is %zu bytes long (at most %d)", name, len,
			 API_FILES_PATH_MAX);
		return -1;
	}
	if (name[0] == '/') {
		snprintf(why, size, "'%.256s' is absolute: names are relative to /work", name);
		return -1;
	}
	for (; *c; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			snprintf(why, size, "'%.256s' holds a control character", name);
			return -1;
		}
	}
	for (c = name; *c;) {
		const char *slash = strchr(c, '/');
		size_t n = slash ? (size_t)(slash - c) : strlen(c);

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.')) {
			snprintf(why, size, "'%.256s' has an empty, '.' or '..' component", name);
			return -1;
		}
		if (n > API_FILES_NAME_MAX) {
			snprintf(why, size, "'%.64s...' has a component of %zu bytes (at most %d)", name, n,
				 API_FILES_NAME_MAX);
			return -1;
		}
		c += n;
		if (*c == '/')
			c++;
		if (slash && !*c) {
			snprintf(why, size, "'%.256s' ends with '/'", name);
			return -1;
		}
	}
	return 0;
}

bool api_files_match(char *const *patterns, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (fnmatch(patterns[i], path, 0) == 0)
			return true;
	return false;
}

uint32_t api_files_mode(uint32_t mode, bool is_dir)
{
	return is_dir || (mode & 0111) ? 0755 : 0644;
}
