/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral/tenant_cmd.h — `corral tenant set|show|list|delete`:
 * tenant records in corrald's store (operators only, over the socket).
 */
#ifndef CORRAL_SUPERVISOR_CORRAL_TENANT_CMD_H
#define CORRAL_SUPERVISOR_CORRAL_TENANT_CMD_H

/* argv[0] is "tenant".  Exit code: 0 done, 1 refused or failed, 2 usage. */
int tenant_cmd_main(int argc, char **argv);

#endif
