/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corral/store_cmd.h — `corral store migrate --from SQLITE --to
 * POSTGRESQL`: move a single-host store into a cluster database
 * (supervisor/store/store_migrate.h), run on the host, corrald stopped.
 */
#ifndef CORRAL_SUPERVISOR_CORRAL_STORE_CMD_H
#define CORRAL_SUPERVISOR_CORRAL_STORE_CMD_H

/* argv[0] is "store".  Exit code: 0 copied, 1 it failed (nothing was
 * committed), 2 usage error. */
int store_cmd_main(int argc, char **argv);

#endif
