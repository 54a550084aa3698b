/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/init/init_mounts.c — the jail's root filesystem, built inside the new mount
 * namespace: a small tmpfs becomes / (pivot_root), the host's system dirs are
 * bound read-only (or mirrored as symlinks on merged-/usr hosts), a minimal
 * /etc (generated passwd, group, hosts, hostname, and the host's /etc paths
 * that runner/host_etc.c gives), a new /proc with its dangerous parts read-only and what shows the
 * host masked, a /dev with only
 * null/zero/full/random/urandom, size-capped /tmp and /dev/shm, the work dir
 * and the spec's extra mounts; then the old root is detached and / made
 * read-only.  Runs in corral-init before the command (runner/init/init_setup.c):
 * failures go to setup_fail().
 *
 * Every jail pays for each syscall here, so the trees this file makes itself
 * (/, /proc, /dev, /etc, /tmp: fresh tmpfs and proc instances no tenant code
 * has touched yet) are named by plain paths, one syscall per step; only a
 * target the spec names (its extra mounts, below a tenant-writable /work) is
 * opened component by component without following symlinks (open_in_root),
 * and a source on the host is always opened with openat2 without symlinks.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "runner/host_etc.h"
#include "runner/init/init_setup.h"

#define OLDROOT "/oldroot"

static const char *const system_paths[] = {
	"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
};

static const char *const devices[] = { "null", "zero", "full", "random", "urandom" };

/* Parts of /proc a task must never write, even if a bug gave it a way. */
static const char *const proc_readonly[] = { "sys", "sysrq-trigger", "irq", "bus", "fs" };

/* Parts of /proc that show the host, masked as container runtimes do
 * (Docker's masked paths, plus what tells one jail about the others): files
 * get /dev/null bound over them, directories an empty read-only tmpfs.
 *   kcore, keys, key-users, timer_list, timer_stats, sched_debug,
 *   latency_stats: the host's memory, keys and users with keys, timers and
 *   tasks (pids and names of every process on the host);
 *   cgroups: how many cgroups each controller has (one per running jail);
 *   sys/kernel/random/boot_id: identifies the host across jails and tenants;
 *   pressure: the host's CPU/memory/IO stall figures, a side channel on the
 *   other tenants' load;
 *   acpi, asound, scsi: host hardware.
 * Missing ones (per kernel version and config) are skipped. */
static const char *const proc_masked_files[] = {
	"kcore",         "keys",        "key-users",
	"timer_list",    "timer_stats", "sched_debug",
	"latency_stats", "cgroups",     "sys/kernel/random/boot_id",
};
static const char *const proc_masked_dirs[] = { "acpi", "asound", "scsi", "pressure" };

/* mount_setattr(2) by its number: corral-init links musl where it can
 * (see the Makefile), whose headers have neither the call nor its struct
 * (the kernel's struct mount_attr, the same layout) */
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV 0x00000004
#define MOUNT_ATTR_NOEXEC 0x00000008
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

struct setattr_args {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};

static int setattr(int dfd, const char *path, unsigned flags, uint64_t attrs)
{
	struct setattr_args attr = { .attr_set = attrs };

	return (int)syscall(SYS_mount_setattr, dfd, path, flags, &attr, sizeof(attr));
}

static int oldroot_fd = -1; /* O_PATH of the old root while it is still attached */

/* "/proc/self/fd/N": mount(2) takes it as the very file the fd names. */
static const char *fd_path(int fd, char buf[32])
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
	return buf;
}

/* Open target inside the new root, one component at a time, never following
 * a symlink (a tenant may have planted some in a writable bind such as
 * /work), creating missing directories (and the last component as a file
 * when !dir) if create.  Returns an O_PATH fd. */
static int open_in_root(const struct setup_ctx *ctx, const char *target, bool create, bool dir)
{
	char buf[PATH_MAX], *comp, *save = NULL;
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		setup_fail(ctx->report_fd, errno, "open", "open the new root");
	snprintf(buf, sizeof(buf), "%s", target);
	for (comp = strtok_r(buf, "/", &save); comp;) {
		char *next = strtok_r(NULL, "/", &save);
		bool last = next == NULL;
		int nfd;

		if (create && (!last || dir)) {
			if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST)
				setup_fail(ctx->report_fd, errno, "mkdir", "create mount point %s (at '%s')",
					   target, comp);
		} else if (create) {
			int f = openat(fd, comp, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK,
				       0644);

			if (f >= 0)
				close(f);
			else if (errno != EISDIR && errno != EACCES && errno != EROFS && errno != ETXTBSY)
				setup_fail(ctx->report_fd, errno, "create", "create mount point %s", target);
		}
		nfd = openat(fd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC | (last && !dir ? 0 : O_DIRECTORY));
		if (nfd < 0)
			setup_fail(ctx->report_fd, errno == ENOTDIR || errno == ELOOP ? ELOOP : errno,
				   "mount point", "open mount point %s at '%s' (symlinks are not followed)",
				   target, comp);
		if (last && !dir) {
			struct stat st;

			if (fstat(nfd, &st) < 0 || S_ISLNK(st.st_mode))
				setup_fail(ctx->report_fd, ELOOP, "mount point",
					   "mount point %s is a symlink (symlinks are not followed)", target);
		}
		close(fd);
		fd = nfd;
		comp = next;
	}
	return fd;
}

static void set_mount_attrs(const struct setup_ctx *ctx, const char *target, uint64_t attrs, bool recursive)
{
	int fd = open_in_root(ctx, target, false, false);

	if (setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), attrs) < 0)
		setup_fail(ctx->report_fd, errno, "mount_setattr", "restrict mount %s", target);
	close(fd);
}

/* set_mount_attrs() for a path of a tree this file made itself (see the
 * file's header): no walk, the last component not followed. */
static void set_attrs_at(const struct setup_ctx *ctx, const char *path, uint64_t attrs, bool recursive)
{
	if (setattr(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW | (recursive ? AT_RECURSIVE : 0), attrs) < 0)
		setup_fail(ctx->report_fd, errno, "mount_setattr", "restrict mount %s", path);
}

/* Open host path source below the old root without following any symlink,
 * with the jail uid's permissions (O_PATH). */
static int open_host_source(const struct setup_ctx *ctx, const char *source)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH,
	};
	const char *rel = source[1] ? source + 1 : ".";
	int src = (int)syscall(SYS_openat2, oldroot_fd, rel, &how, sizeof(how));

	if (src < 0)
		setup_fail(ctx->report_fd, errno, "bind", "bind source %s%s", source,
			   errno == ELOOP            ? " (symlinks are not followed)"
				   : errno == EACCES ? " (the jail's host uid must be able to reach it)"
						     : "");
	return src;
}

/* Bind host path source on target, a path of a tree this file made itself
 * whose parent exists; target is created as a directory (dir) or an empty
 * file.  No attributes: the caller restricts a mount above it, recursively. */
static void bind_host_at(const struct setup_ctx *ctx, const char *source, const char *target, bool dir)
{
	char src_path[32];
	int src = open_host_source(ctx, source);

	if ((dir ? mkdir(target, 0755) : mknod(target, S_IFREG | 0644, 0)) < 0 && errno != EEXIST)
		setup_fail(ctx->report_fd, errno, "mkdir", "create mount point %s", target);
	if (mount(fd_path(src, src_path), target, NULL, MS_BIND | MS_REC, NULL) < 0)
		setup_fail(ctx->report_fd, errno, "bind", "bind %s on %s", source, target);
	close(src);
}

/* Bind host path source (resolved below the old root without following any
 * symlink, with the jail uid's permissions) on target in the new root. */
static void bind_from_host(const struct setup_ctx *ctx, const char *source, const char *target,
			   uint64_t attrs)
{
	char src_path[32], dst_path[32];
	struct stat st;
	int src = open_host_source(ctx, source), dst;

	if (fstat(src, &st) < 0)
		setup_fail(ctx->report_fd, errno, "bind", "stat bind source %s", source);
	dst = open_in_root(ctx, target, true, S_ISDIR(st.st_mode));
	if (mount(fd_path(src, src_path), fd_path(dst, dst_path), NULL, MS_BIND | MS_REC, NULL) < 0)
		setup_fail(ctx->report_fd, errno, "bind", "bind %s on %s", source, target);
	close(src);
	close(dst);
	if (attrs) /* 0: the caller restricts a mount above it, recursively */
		set_mount_attrs(ctx, target, attrs, true);
}

static void bind_host_path(const struct setup_ctx *ctx, const char *source, const char *target,
			   bool read_only)
{
	bind_from_host(ctx, source, target,
		       MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (read_only ? MOUNT_ATTR_RDONLY : 0));
}

static void mount_tmpfs(const struct setup_ctx *ctx, const char *target, uint64_t size, mode_t mode,
			unsigned long extra_flags)
{
	char opts[96];

	char dst_path[32];
	int dst = open_in_root(ctx, target, true, true);

	snprintf(opts, sizeof(opts), "size=%llu,mode=%o", (unsigned long long)size, (unsigned)mode);
	if (mount("tmpfs", fd_path(dst, dst_path), "tmpfs", MS_NOSUID | MS_NODEV | extra_flags, opts) < 0)
		setup_fail(ctx->report_fd, errno, "mount", "mount tmpfs (%s) on %s", opts, target);
	close(dst);
}

/* mount_tmpfs() on a directory of the new root itself (see the file's
 * header), made if missing. */
static void mount_tmpfs_at(const struct setup_ctx *ctx, const char *target, uint64_t size, mode_t mode,
			   unsigned long extra_flags)
{
	char opts[96];

	if (mkdir(target, 0755) < 0 && errno != EEXIST)
		setup_fail(ctx->report_fd, errno, "mkdir", "create mount point %s", target);
	snprintf(opts, sizeof(opts), "size=%llu,mode=%o", (unsigned long long)size, (unsigned)mode);
	if (mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | extra_flags, opts) < 0)
		setup_fail(ctx->report_fd, errno, "mount", "mount tmpfs (%s) on %s", opts, target);
}

/* A host path that is a symlink (merged /usr: /bin -> usr/bin) becomes the
 * same symlink; a directory is bound read-only; a missing one is skipped. */
/* Small host files (ld.so.cache, nsswitch.conf) are copied into the new
 * root rather than bound (HOST_ETC_MAX_COPIED): a copy is cheaper than a
 * mount, and the root is read-only in the end anyway. */

/* size: what fstatat said; the copy goes on to the end of the file
 * whatever its size is now (in kernel, sendfile: no read/write round trips). */
static void copy_host_file(const struct setup_ctx *ctx, const char *path, mode_t mode, off_t size,
			   bool optional)
{
	int in = openat(oldroot_fd, path + 1, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), out;
	size_t want = (size > 0 ? (size_t)size : 0) + 4096;
	ssize_t n;

	if (in < 0 && optional && (errno == ENOENT || errno == EACCES))
		return;
	if (in < 0)
		setup_fail(ctx->report_fd, errno, "copy", "open host file %s", path);
	out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (out < 0)
		setup_fail(ctx->report_fd, errno, "copy", "create %s", path);
	/* a short count is the end of a regular file: one call for a file
	 * that did not grow since fstatat */
	do
		n = sendfile(out, in, NULL, want);
	while (n == (ssize_t)want || (n < 0 && errno == EINTR));
	if (n < 0)
		setup_fail(ctx->report_fd, errno, "copy", "copy host file %s", path);
	close(in);
	close(out);
}

/* optional: a file the jail's uid may not read (its mode changed since the
 * host's /etc was scanned) is left out instead of failing the jail */
static void mirror_host_path(const struct setup_ctx *ctx, const char *path, bool optional,
			     bool attrs_deferred)
{
	char link[PATH_MAX];
	struct stat st;
	ssize_t n;

	if (fstatat(oldroot_fd, path + 1, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (S_ISLNK(st.st_mode)) {
		n = readlinkat(oldroot_fd, path + 1, link, sizeof(link) - 1);
		if (n < 0)
			setup_fail(ctx->report_fd, errno, "readlink", "read symlink %s", path);
		link[n] = '\0';
		if (symlink(link, path) < 0)
			setup_fail(ctx->report_fd, errno, "symlink", "create symlink %s -> %s", path, link);
		return;
	}
	if (S_ISREG(st.st_mode) && st.st_size <= HOST_ETC_MAX_COPIED) {
		copy_host_file(ctx, path, st.st_mode & 0644, st.st_size, optional);
		return;
	}
	bind_host_at(ctx, path, path, S_ISDIR(st.st_mode));
	if (!attrs_deferred)
		set_attrs_at(ctx, path, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, true);
}

static void write_file(const struct setup_ctx *ctx, const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);

	if (fd < 0 || write_all(fd, text, strlen(text)) < 0)
		setup_fail(ctx->report_fd, errno, "write", "write %s", path);
	close(fd);
}

/* /etc from a set prepared on the host (runner/host_etc_dir.c): one bind,
 * opened as the jail's uid like every host source; it holds the generated
 * files, the copies and the symlinks, and where a host directory or a large
 * file goes, its mount point, bound here as before. */
static void bind_prepared_etc(const struct setup_ctx *ctx)
{
	char path[PATH_MAX], src_path[32];

	bind_host_at(ctx, ctx->etc_dir, "/etc", true);
	for (size_t i = 0; i < ctx->host_etc->n; i++) {
		const char *rel = ctx->host_etc->paths[i];
		struct stat st;
		int src;

		if (snprintf(path, sizeof(path), "/etc/%s", rel) >= (int)sizeof(path) ||
		    fstatat(oldroot_fd, path + 1, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISLNK(st.st_mode) ||
		    (S_ISREG(st.st_mode) && st.st_size <= HOST_ETC_MAX_COPIED))
			continue;
		src = open_host_source(ctx, path);
		if (mount(fd_path(src, src_path), path, NULL, MS_BIND | MS_REC, NULL) < 0)
			setup_fail(ctx->report_fd, errno, "bind", "bind %s on %s", path, path);
		close(src);
	}
}

static void build_etc(const struct setup_ctx *ctx)
{
	char passwd[512], group[256], hostname[256], hosts[512], path[PATH_MAX];

	if (ctx->etc_dir) {
		bind_prepared_etc(ctx);
		set_attrs_at(ctx, "/etc", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, true);
		return;
	}
	/* /etc a mount of its own (the new root's directory bound onto
	 * itself): the host binds below it are made read-only, nosuid and
	 * nodev by one recursive mount_setattr at the end, not one each */
	if (mkdir("/etc", 0755) < 0 || mount("/etc", "/etc", NULL, MS_BIND, NULL) < 0)
		setup_fail(ctx->report_fd, errno, "bind", "bind /etc on itself");
	host_etc_generated_text(ctx->spec, passwd, sizeof(passwd), group, sizeof(group), hostname,
				sizeof(hostname), hosts, sizeof(hosts));
	write_file(ctx, "/etc/passwd", passwd);
	write_file(ctx, "/etc/group", group);
	write_file(ctx, "/etc/hostname", hostname);
	write_file(ctx, "/etc/hosts", hosts);
	/* the host's /etc paths the rule gives (runner/host_etc.c), parents
	 * first (sorted): a nested one (ssl/certs) gets its parent directories
	 * made in the new root */
	for (size_t i = 0; i < ctx->host_etc->n; i++) {
		const char *rel = ctx->host_etc->paths[i];
		const char *slash = strrchr(rel, '/');

		if (snprintf(path, sizeof(path), "/etc/%s", rel) >= (int)sizeof(path))
			continue;
		if (slash) {
			char parent[PATH_MAX];

			snprintf(parent, sizeof(parent), "/etc/%.*s", (int)(slash - rel), rel);
			close(open_in_root(ctx, parent, true, true));
		}
		mirror_host_path(ctx, path, true, true);
	}
	set_attrs_at(ctx, "/etc", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, true);
}

/* Hide the parts of /proc that show the host: the first file that exists
 * gets /dev/null bound over it, made read-only, nosuid and noexec; every
 * other file a bind of that mount (a bind keeps its source mount's flags:
 * one mount each, no mount_setattr each).  The first directory gets an
 * empty read-only tmpfs, the others binds of it.  Missing ones (per kernel
 * version and config) are skipped. */
static void mask_proc_paths(const struct setup_ctx *ctx)
{
	char path[96], file_mask[96] = "", dir_mask[96] = "";

	for (size_t i = 0; i < sizeof(proc_masked_files) / sizeof(proc_masked_files[0]); i++) {
		snprintf(path, sizeof(path), "/proc/%s", proc_masked_files[i]);
		if (mount(file_mask[0] ? file_mask : OLDROOT "/dev/null", path, NULL, MS_BIND, NULL) < 0) {
			if (errno == ENOENT)
				continue;
			setup_fail(ctx->report_fd, errno, "mask", "bind /dev/null on %s", path);
		}
		if (!file_mask[0]) {
			set_attrs_at(ctx, path, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
				     false);
			snprintf(file_mask, sizeof(file_mask), "%s", path);
		}
	}
	for (size_t i = 0; i < sizeof(proc_masked_dirs) / sizeof(proc_masked_dirs[0]); i++) {
		int r;

		snprintf(path, sizeof(path), "/proc/%s", proc_masked_dirs[i]);
		r = dir_mask[0] ? mount(dir_mask, path, NULL, MS_BIND, NULL)
				: mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
					"size=4k,nr_inodes=2,mode=0555");
		if (r < 0 && errno == ENOENT)
			continue;
		if (r < 0)
			setup_fail(ctx->report_fd, errno, "mask", "mount an empty tmpfs on %s", path);
		if (!dir_mask[0])
			snprintf(dir_mask, sizeof(dir_mask), "%s", path);
	}
}

/* A fresh proc instance of the jail's pid namespace: plain paths (see the
 * file's header). */
static void build_proc(const struct setup_ctx *ctx)
{
	char path[64];

	if (mkdir("/proc", 0755) < 0 ||
	    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		setup_fail(ctx->report_fd, errno, "mount", "mount proc on /proc");
	for (size_t i = 0; i < sizeof(proc_readonly) / sizeof(proc_readonly[0]); i++) {
		snprintf(path, sizeof(path), "/proc/%s", proc_readonly[i]);
		if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
			if (errno == ENOENT)
				continue;
			setup_fail(ctx->report_fd, errno, "mount", "bind %s read-only", path);
		}
		set_attrs_at(ctx, path,
			     MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
			     true);
	}
	/* after the read-only binds: their nodev would make the /dev/null
	 * masks unreadable instead of empty (the masks are read-only too) */
	mask_proc_paths(ctx);
}

static void build_dev(const struct setup_ctx *ctx)
{
	static const char *const links[][2] = {
		{ "/proc/self/fd", "/dev/fd" },
		{ "/proc/self/fd/0", "/dev/stdin" },
		{ "/proc/self/fd/1", "/dev/stdout" },
		{ "/proc/self/fd/2", "/dev/stderr" },
	};
	char dst[64];

	mount_tmpfs_at(ctx, "/dev", 64 << 10, 0755, MS_NOEXEC);
	for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
		snprintf(dst, sizeof(dst), "/dev/%s", devices[i]);
		bind_host_at(ctx, dst, dst, false);
	}
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlink(links[i][0], links[i][1]) < 0)
			setup_fail(ctx->report_fd, errno, "symlink", "create %s", links[i][1]);
	mount_tmpfs_at(ctx, "/dev/shm", ctx->spec->tmp_bytes, 01777, MS_NOEXEC);
	/* the device binds nosuid and noexec by one recursive call (/dev and
	 * /dev/shm have both already); /dev itself is made read-only last */
	set_attrs_at(ctx, "/dev", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, true);
}

static void apply_extra_mounts(const struct setup_ctx *ctx)
{
	const struct jail_spec *spec = ctx->spec;

	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct jail_mount *m = &spec->mounts[i];

		if (m->kind == JAIL_MOUNT_TMPFS)
			mount_tmpfs(ctx, m->target, m->size_bytes ? m->size_bytes : JAIL_DEFAULT_TMP_BYTES,
				    0755, 0);
		else
			bind_host_path(ctx, m->source, m->target, m->kind == JAIL_MOUNT_BIND_RO);
	}
}

void init_mounts_build_root(const struct setup_ctx *ctx)
{
	const struct jail_spec *spec = ctx->spec;

	/* nothing we do here may propagate back to the host */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		setup_fail(ctx->report_fd, errno, "mount", "make / private");
	/* the new root: a small tmpfs over /tmp (in this namespace only) */
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=2m,nr_inodes=4096,mode=0755") < 0)
		setup_fail(ctx->report_fd, errno, "mount", "mount the new root tmpfs");
	if (mkdir("/tmp" OLDROOT, 0700) < 0)
		setup_fail(ctx->report_fd, errno, "mkdir", "create %s", OLDROOT);
	if (syscall(SYS_pivot_root, "/tmp", "/tmp" OLDROOT) < 0)
		setup_fail(ctx->report_fd, errno, "pivot_root", "pivot_root into the new root");
	if (chdir("/") < 0)
		setup_fail(ctx->report_fd, errno, "chdir", "chdir to the new root");

	oldroot_fd = open(OLDROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (oldroot_fd < 0)
		setup_fail(ctx->report_fd, errno, "open", "open the old root");
	/* /proc first: binds go through /proc/self/fd */
	build_proc(ctx);
	for (size_t i = 0; i < sizeof(system_paths) / sizeof(system_paths[0]); i++)
		mirror_host_path(ctx, system_paths[i], false, false);
	build_etc(ctx);
	build_dev(ctx);
	mount_tmpfs_at(ctx, "/tmp", spec->tmp_bytes, 01777, 0);
	if (spec->work_dir)
		bind_host_path(ctx, spec->work_dir, "/work", false);
	else
		mount_tmpfs_at(ctx, "/work", spec->work_bytes, 0755, 0);
	apply_extra_mounts(ctx);

	close(oldroot_fd);
	oldroot_fd = -1;
	if (umount2(OLDROOT, MNT_DETACH) < 0)
		setup_fail(ctx->report_fd, errno, "umount", "detach the old root");
	if (rmdir(OLDROOT) < 0)
		setup_fail(ctx->report_fd, errno, "rmdir", "remove %s", OLDROOT);
	set_attrs_at(ctx, "/", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, false);
	set_attrs_at(ctx, "/dev", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, false);
}
