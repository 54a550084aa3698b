/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/init_exec.c — the parent's side of corral-init, the jail's pid 1
 * (a program of its own, runner/init/): where it is found, that it is
 * trusted, the fd it is exec'd from, and the record that tells it what to
 * run.  The child's exec is in runner/child.c.
 *
 * corral-init runs inside the jail without the command's seccomp filter and
 * holds the status file and the uncapped output files: whoever could swap it
 * could lift every limit of the command.  So it is opened by the parent (as
 * root, on the host, never from inside the jail's mount namespace), once per
 * process, from a path whose every component belongs to root (or to the
 * owner of the running program, which is trusted as much) and is writable by
 * nobody else; the jail execs that very file through the cached O_PATH fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner/host_etc.h"
#include "runner/internal.h"
#include "runner/seccomp.h"

#ifndef CORRAL_LIBEXECDIR
#define CORRAL_LIBEXECDIR "/usr/local/libexec/corral"
#endif
#define INIT_NAME "corral-init"

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static int init_fd = -1;

/* st belongs to root or to trusted_uid, and nobody else may write it. */
static int check_owner_mode(const struct stat *st, uid_t trusted_uid, const char *path,
			    struct jail_error *err)
{
	if (st->st_uid != 0 && st->st_uid != trusted_uid)
		return jail_error_set(err, EPERM, "corral-init",
				      "%s belongs to uid %u, not to root or the owner of this program", path,
				      (unsigned)st->st_uid);
	/* A root-owned sticky directory (/tmp) is safe on the way: others may
	 * add entries but cannot rename or remove root's, and what we open
	 * next must itself belong to root (checked on every component). */
	if (S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX) && st->st_uid == 0)
		return 0;
	if ((st->st_mode & S_IWOTH) || ((st->st_mode & S_IWGRP) && st->st_gid != 0))
		return jail_error_set(err, EPERM, "corral-init", "%s is writable by group or others", path);
	return 0;
}

/* Open path (O_PATH) after checking, component by component and without
 * following symlinks, that every directory on the way and the file itself
 * are trusted (see the file's header). */
static int open_trusted(const char *path, int *out, struct jail_error *err)
{
	char real[PATH_MAX], walked[PATH_MAX] = "", *comp, *save = NULL;
	struct stat st, self;
	uid_t trusted_uid = 0;
	int fd, r;

	if (!realpath(path, real))
		return jail_error_set(err, errno, "corral-init", "find %s", path);
	if (stat("/proc/self/exe", &self) == 0)
		trusted_uid = self.st_uid;
	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return jail_error_set(err, errno, "corral-init", "open /");
	if (fstat(fd, &st) < 0) {
		r = jail_error_set(err, errno, "corral-init", "stat /");
		goto fail;
	}
	r = check_owner_mode(&st, trusted_uid, "/", err);
	if (r < 0)
		goto fail;
	for (comp = strtok_r(real, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		int next = openat(fd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);

		snprintf(walked + strlen(walked), sizeof(walked) - strlen(walked), "/%s", comp);
		if (next < 0) {
			r = jail_error_set(err, errno, "corral-init", "open %s", walked);
			goto fail;
		}
		close(fd);
		fd = next;
		if (fstat(fd, &st) < 0) {
			r = jail_error_set(err, errno, "corral-init", "stat %s", walked);
			goto fail;
		}
		if (S_ISLNK(st.st_mode)) {
			r = jail_error_set(err, ELOOP, "corral-init", "%s changed into a symlink", walked);
			goto fail;
		}
		r = check_owner_mode(&st, trusted_uid, walked, err);
		if (r < 0)
			goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		r = jail_error_set(err, EACCES, "corral-init", "%s is not a regular file",
				   walked[0] ? walked : "/");
		goto fail;
	}
	if (st.st_mode & (S_ISUID | S_ISGID)) {
		r = jail_error_set(err, EPERM, "corral-init", "%s must not be setuid or setgid", walked);
		goto fail;
	}
	/* the jail's own (unprivileged, unrelated) uid execs it */
	if (!(st.st_mode & S_IXOTH)) {
		r = jail_error_set(err, EACCES, "corral-init",
				   "%s is not executable by others "
				   "(the jail's uid runs it): install it with mode 0755",
				   walked);
		goto fail;
	}
	/* the child puts /dev/null on 0-2: keep the cached fd above them */
	if (fd <= 2) {
		int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);

		if (moved < 0) {
			r = jail_error_set(err, errno, "corral-init", "move the fd of %s above stdio",
					   walked);
			goto fail;
		}
		close(fd);
		fd = moved;
	}
	*out = fd;
	return 0;
fail:
	close(fd);
	return r;
}

/* Candidates when nobody called jail_set_init_path(): next to the running
 * program (the build tree: build/corrald and build/corral-init), then the
 * installed libexec dir. */
static int locate_init(int *out, struct jail_error *err)
{
	char exe[PATH_MAX], beside[PATH_MAX + 32];
	const char *installed = CORRAL_LIBEXECDIR "/" INIT_NAME;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct stat st;

	beside[0] = '\0';
	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(beside, sizeof(beside), "%s/" INIT_NAME, exe);
		}
	}
	/* a candidate that exists but is not trusted is an error, not a
	 * reason to quietly use another one */
	if (beside[0] && lstat(beside, &st) == 0)
		return open_trusted(beside, out, err);
	if (lstat(installed, &st) == 0)
		return open_trusted(installed, out, err);
	return jail_error_set(err, ENOENT, "corral-init",
			      "find the jail's init: no %s%s%s (make install puts it there)",
			      beside[0] ? beside : "", beside[0] ? " nor " : "", installed);
}

int jail_set_init_path(const char *path, struct jail_error *err)
{
	int fd = -1, r;

	if (!path || !*path)
		return jail_error_set(err, EINVAL, "corral-init", "no path given for corral-init");
	r = open_trusted(path, &fd, err);
	if (r < 0)
		return r;
	pthread_mutex_lock(&init_lock);
	if (init_fd >= 0)
		close(init_fd);
	init_fd = fd;
	pthread_mutex_unlock(&init_lock);
	return 0;
}

int init_exec_fd(struct jail_error *err)
{
	int r = 0;

	pthread_mutex_lock(&init_lock);
	if (init_fd < 0)
		r = locate_init(&init_fd, err);
	if (r == 0)
		r = init_fd;
	pthread_mutex_unlock(&init_lock);
	return r;
}

/* What corral-init needs to build the jail (init_setup.c): the spec's
 * fields, the host /etc paths (and the prepared /etc in etc_dir, when
 * there is one), the sync fd.  *mounts is malloc'd (the caller frees it
 * after encoding). */
static int record_setup(const struct child_ctx *ctx, struct init_setup *setup, struct init_mount **mounts,
			char etc_dir[PATH_MAX], struct jail_error *err)
{
	const struct jail_spec *spec = ctx->spec;

	setup->hostname = spec->hostname;
	setup->work_dir = spec->work_dir;
	setup->tmp_bytes = spec->tmp_bytes;
	setup->work_bytes = spec->work_bytes;
	setup->uid = (uint32_t)spec->uid;
	setup->gid = (uint32_t)spec->gid;
	setup->die_with_parent = ctx->die_with_parent;
	setup->netns = spec->netns_fd >= 0 ? INIT_NETNS_MADE
		: spec->netns_in_init      ? INIT_NETNS_MAKE
					   : INIT_NETNS_CLONED;
	setup->sync_fd = ctx->sync_fd;
	setup->etc_paths = ctx->host_etc->paths;
	setup->n_etc = (uint32_t)ctx->host_etc->n;
	setup->etc_dir = host_etc_dir_find("/", ctx->host_etc, spec, etc_dir, PATH_MAX) ? etc_dir : NULL;
	*mounts = NULL;
	if (spec->n_mounts) {
		*mounts = calloc(spec->n_mounts, sizeof(**mounts));
		if (!*mounts)
			return jail_error_set(err, ENOMEM, "corral-init", "allocate the mounts");
		for (size_t i = 0; i < spec->n_mounts; i++)
			(*mounts)[i] = (struct init_mount){ .kind = (uint32_t)spec->mounts[i].kind,
							    .size_bytes = spec->mounts[i].size_bytes,
							    .source = spec->mounts[i].kind == JAIL_MOUNT_TMPFS
								    ? NULL
								    : spec->mounts[i].source,
							    .target = spec->mounts[i].target };
	}
	setup->mounts = *mounts;
	setup->n_mounts = (uint32_t)spec->n_mounts;
	return 0;
}

int init_record_memfd(const struct child_ctx *ctx, int *out, struct jail_error *err)
{
	const struct jail_spec *spec = ctx->spec;
	struct init_config cfg = {
		.argv = (char **)spec->argv,
		.env = NULL, /* below: the caller's or the default, plus limit hints */
		.cwd = spec->cwd ? spec->cwd : JAIL_DEFAULT_CWD,
		.seccomp_name = jail_seccomp_profile_name(ctx->filter->profile),
		.filter = ctx->filter->prog,
		.rlimit_nofile = spec->rlimit_nofile,
		.rlimit_fsize = spec->rlimit_fsize,
		.rlimit_stack = spec->rlimit_stack,
		.output_limit = spec->output_limit,
		.report_fd = ctx->report_fd,
		.stdin_fd = ctx->stdin_fd,
		.stdout_fd = ctx->stdout_fd,
		.stderr_fd = ctx->stderr_fd,
		.status_fd = ctx->status_fd,
		.cpu_stat_fd = ctx->cpu_stat_fd,
		.leash_fd = ctx->leash_fd,
	};
	struct init_mount *mounts = NULL;
	char etc_dir[PATH_MAX];
	void *buf = NULL;
	size_t len = 0;
	char **env = NULL;
	int fd = -1, r;

	/* the jail's own backstop (init_limits.c): the deadline a margin after
	 * the caller's, the CPU limit as the caller counts it, at the fastest
	 * the jail can burn CPU: every CPU of the host (a quota is enforced per
	 * period, so within one the jail may run on all of them) */
	if (spec->wall_time_ms) {
		cfg.wall_deadline_us = ctx->start_us + (spec->wall_time_ms + JAIL_BACKSTOP_MARGIN_MS) * 1000u;
		cfg.kill_grace_us = spec->kill_grace_ms * 1000u;
	}
	if (spec->cpu_time_ms && ctx->cpu_stat_fd >= 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		cfg.cpu_limit_us = spec->cpu_time_ms * 1000u;
		cfg.cpu_rate_millis = (uint32_t)(cpus > 0 ? cpus : 1) * 1000u;
	}
	r = record_setup(ctx, &cfg.setup, &mounts, etc_dir, err);
	if (r < 0)
		return r;
	r = task_env_build(spec, &env);
	if (r < 0) {
		free(mounts);
		return jail_error_set(err, -r, "corral-init", "build the command's environment");
	}
	cfg.env = env;
	r = init_record_encode(&cfg, &buf, &len);
	task_env_free(env);
	free(mounts);
	if (r < 0)
		return jail_error_set(err, -r, "corral-init", "serialize the command for corral-init");
	fd = memfd_create("corral-init-record", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		r = jail_error_set(err, errno, "corral-init", "create the record memfd");
		goto out;
	}
	r = write_all(fd, buf, len);
	if (r < 0) {
		r = jail_error_set(err, -r, "corral-init", "write the record memfd");
		goto out;
	}
	/* what corral-init reads is exactly what we wrote, whoever else may
	 * hold the fd */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
		r = jail_error_set(err, errno, "corral-init", "seal the record memfd");
		goto out;
	}
	*out = fd;
	fd = -1;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return r;
}
