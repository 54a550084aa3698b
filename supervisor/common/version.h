/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/common/version.h — the one version string of corral's programs
 * and API, taken from `git describe` at build time (Makefile: CORRAL_VERSION).
 */
#ifndef CORRAL_SUPERVISOR_COMMON_VERSION_H
#define CORRAL_SUPERVISOR_COMMON_VERSION_H

/* "0.1.0-12-gabcdef0", "0.1.0-dev+gabcdef0", or "0.1.0-dev" outside git. */
const char *version_string(void);

#endif
