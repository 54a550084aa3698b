/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/lib/tar_build.h — tar archives built in memory for the tests of
 * task files (tests/unit/test_api_tar.c, tests/integration/
 * test_corrald_files_http.c): members as corrald's artifact stream writes
 * them (api_tar_header), and hand-made headers of any type, size field or
 * checksum, to build the hostile archives a submit must refuse.
 */
#ifndef CORRAL_TESTS_LIB_TAR_BUILD_H
#define CORRAL_TESTS_LIB_TAR_BUILD_H

#include <stdbool.h>
#include <stddef.h>

struct tar_build {
	unsigned char *p; /* malloc'd; free() it */
	size_t len;
};

void tar_build_append(struct tar_build *a, const void *data, size_t n);
/* Zeros up to the next 512-byte block. */
void tar_build_pad(struct tar_build *a);
/* A regular file as corrald writes it (a pax header when needed). */
void tar_build_file(struct tar_build *a, const char *name, const char *data, bool truncated);
/* A ustar header of any type with a size field as given (its checksum made). */
void tar_build_raw_header(unsigned char *h, const char *name, char type, const char *size_field);
/* That header, then data and padding. */
void tar_build_raw(struct tar_build *a, const char *name, char type, const char *data);
/* The checksum of header h made again (after a test changed it). */
void tar_build_checksum(unsigned char *h);
/* The two end blocks. */
void tar_build_end(struct tar_build *a);

#endif
