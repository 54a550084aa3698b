/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/common/version.c — see version.h.  CORRAL_VERSION comes from
 * the Makefile, which rebuilds this file alone when `git describe` changes.
 */
#include "supervisor/common/version.h"

#ifndef CORRAL_VERSION
#define CORRAL_VERSION "0.1.0-dev"
#endif

const char *version_string(void)
{
	return CORRAL_VERSION;
}
