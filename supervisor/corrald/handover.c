/* SPDX-License-Identifier: Apache-2.0 */
/*
 * supervisor/corrald/handover.c — SIGUSR2: corrald replaces itself with a
 * fresh corrald in the same process, leaving its jails running for the new
 * image to adopt (recover.c), as an in-place upgrade does (nginx, sshd).
 * Same pid, same cgroup leaf: systemd sees no restart, and on pure cgroup
 * v2 no new process must be placed in the service's cgroup, which its live
 * jails' subtree forbids.  The program re-executed is the one started (its
 * path read at start: an upgraded binary installed since is the one run),
 * with the same arguments.  Not here: releasing the jails (running.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor/common/log.h"
#include "supervisor/corrald/corrald.h"

static char exe_path[PATH_MAX];

void handover_remember_exe(void)
{
	ssize_t n = readlink("/proc/self/exe", exe_path, sizeof(exe_path) - 1);

	exe_path[n > 0 ? n : 0] = '\0';
	/* an upgrade replaced the file while it ran: " (deleted)" */
	if (n > 10 && strcmp(exe_path + n - 10, " (deleted)") == 0)
		exe_path[n - 10] = '\0';
}

/* Our own arguments, from /proc/self/cmdline (NULL-terminated, malloc'd). */
static char **own_arguments(void)
{
	static char text[65536];
	char **argv;
	size_t len = 0, n = 0;
	ssize_t got;
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	while (len < sizeof(text) - 1 && (got = read(fd, text + len, sizeof(text) - 1 - len)) > 0)
		len += (size_t)got;
	close(fd);
	text[len] = '\0';
	for (size_t i = 0; i < len; i++)
		n += text[i] == '\0';
	argv = calloc(n + 2, sizeof(*argv));
	for (size_t i = 0, k = 0; argv && i < len; i += strlen(text + i) + 1)
		argv[k++] = text + i;
	return argv;
}

int handover_reexec(void)
{
	char **argv = own_arguments();

	if (!exe_path[0] || !argv || !argv[0]) {
		free(argv);
		return log_error_errno(-ENOENT, "handover: cannot tell which program to run again");
	}
	log_notice("handover: executing %s again", exe_path);
	execv(exe_path, argv);
	log_error("handover: execute %s: %s", exe_path, strerror(errno));
	free(argv);
	return -errno;
}

void handover_reap_children(void)
{
	int status;
	pid_t pid;

	/* at start only: children of a corrald that executed itself again
	 * are jails' inits that ended meanwhile (their status files tell
	 * their end); a fresh corrald has none */
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		log_debug("handover: reaped pid %d, a jail's init that ended during the handover", (int)pid);
}
