/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral/token_cmd.h — `corral token create|list|revoke`: API
 * tokens for corrald's HTTP API (operators only, over the socket).
 */
#ifndef CORRAL_SUPERVISOR_CORRAL_TOKEN_CMD_H
#define CORRAL_SUPERVISOR_CORRAL_TOKEN_CMD_H

/* argv[0] is "token".  Exit code: 0 done, 1 refused or failed, 2 usage. */
int token_cmd_main(int argc, char **argv);

#endif
