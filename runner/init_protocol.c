/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/init_protocol.c — the init record's encoding and decoding, and the
 * report pipe's error record (see runner/init_protocol.h).  Compiled into
 * librunner and into the static corral-init; libc only.
 *
 * The record, all integers little-endian host order (parent and init are the
 * same machine and build):
 *
 *   u64 magic, u32 version, u32 size (of the whole record)
 *   u64 rlimit_nofile, rlimit_fsize, rlimit_stack, output_limit
 *   u64 wall_deadline_us, kill_grace_us, cpu_limit_us
 *   i32 stdin_fd, stdout_fd, stderr_fd, status_fd, cpu_stat_fd
 *   u32 cpu_rate_millis, argc, envc (UINT32_MAX = default environment), filter_len
 *   i32 leash_fd
 *   u64 tmp_bytes, work_bytes
 *   u32 uid, gid, die_with_parent, has_work_dir
 *   i32 sync_fd, u32 has_etc_dir
 *   u32 n_mounts, n_etc, netns (enum init_netns), reserved (0)
 *   struct sock_filter filter[filter_len]
 *   struct record_mount mounts[n_mounts] (size_bytes, kind, has_source)
 *   NUL-terminated strings: argv..., env..., cwd, seccomp name, hostname,
 *   work dir (if has_work_dir), each mount's source (if has_source) and
 *   target, the host /etc paths, the prepared /etc (if has_etc_dir)
 *
 * The decoder trusts nothing: every count and string is checked against the
 * record's size, and the record must end exactly after the last string.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner/init_protocol.h"

#define ENV_DEFAULT UINT32_MAX

struct record_head {
	uint64_t magic;
	uint32_t version, size;
	uint64_t rlimit_nofile, rlimit_fsize, rlimit_stack, output_limit;
	uint64_t wall_deadline_us, kill_grace_us, cpu_limit_us;
	int32_t stdin_fd, stdout_fd, stderr_fd, status_fd, cpu_stat_fd;
	uint32_t cpu_rate_millis, argc, envc, filter_len;
	int32_t leash_fd;
	uint64_t tmp_bytes, work_bytes;
	uint32_t uid, gid, die_with_parent, has_work_dir;
	int32_t sync_fd;
	uint32_t has_etc_dir;
	uint32_t n_mounts, n_etc;
	uint32_t netns, reserved;
};

struct record_mount {
	uint64_t size_bytes;
	uint32_t kind, has_source;
};

#define MOUNT_KIND_MAX 2u /* JAIL_MOUNT_TMPFS, the last of enum jail_mount_kind */

_Static_assert(sizeof(struct record_head) % 8 == 0, "the filter after the head must stay aligned");
_Static_assert(sizeof(struct sock_filter) == 8, "the mounts after the filter must stay aligned");

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void report_errorv(int fd, int errnum, const char *step, const char *fmt, va_list ap)
{
	struct report rec;
	char what[200];

	memset(&rec, 0, sizeof(rec));
	vsnprintf(what, sizeof(what), fmt, ap);
	rec.kind = REPORT_ERROR;
	rec.err = errnum;
	snprintf(rec.step, sizeof(rec.step), "%s", step);
	if (errnum)
		snprintf(rec.message, sizeof(rec.message), "%s: %s", what, strerror(errnum));
	else
		snprintf(rec.message, sizeof(rec.message), "%s", what);
	write_all(fd, &rec, sizeof(rec));
}

void report_error(int fd, int errnum, const char *step, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_errorv(fd, errnum, step, fmt, ap);
	va_end(ap);
}

static size_t count_strings(char *const *list)
{
	size_t n = 0;

	while (list && list[n])
		n++;
	return n;
}

static char *put_string(char *p, const char *s)
{
	size_t n = strlen(s) + 1;

	memcpy(p, s, n);
	return p + n;
}

int init_record_encode(const struct init_config *cfg, void **out, size_t *len)
{
	const struct init_setup *setup = &cfg->setup;
	size_t argc = count_strings(cfg->argv), envc = count_strings(cfg->env);
	size_t n_etc = setup->n_etc;
	size_t size = sizeof(struct record_head) + (size_t)cfg->filter.len * sizeof(struct sock_filter) +
		(size_t)setup->n_mounts * sizeof(struct record_mount);
	const char *hostname = setup->hostname ? setup->hostname : "";
	struct record_head head;
	char *buf, *p;

	*out = NULL;
	*len = 0;
	if (argc == 0 || !cfg->cwd || !cfg->seccomp_name)
		return -EINVAL;
	for (size_t i = 0; i < argc; i++)
		size += strlen(cfg->argv[i]) + 1;
	for (size_t i = 0; i < envc; i++)
		size += strlen(cfg->env[i]) + 1;
	size += strlen(cfg->cwd) + 1 + strlen(cfg->seccomp_name) + 1 + strlen(hostname) + 1;
	if (setup->work_dir)
		size += strlen(setup->work_dir) + 1;
	for (uint32_t i = 0; i < setup->n_mounts; i++) {
		const struct init_mount *m = &setup->mounts[i];

		if (!m->target || m->kind > MOUNT_KIND_MAX)
			return -EINVAL;
		size += (m->source ? strlen(m->source) + 1 : 0) + strlen(m->target) + 1;
	}
	for (size_t i = 0; i < n_etc; i++)
		size += strlen(setup->etc_paths[i]) + 1;
	if (setup->etc_dir)
		size += strlen(setup->etc_dir) + 1;
	if (size > INIT_RECORD_MAX || envc >= ENV_DEFAULT || setup->n_mounts > INIT_RECORD_MAX)
		return -E2BIG;

	memset(&head, 0, sizeof(head));
	head.magic = INIT_RECORD_MAGIC;
	head.version = INIT_RECORD_VERSION;
	head.size = (uint32_t)size;
	head.rlimit_nofile = cfg->rlimit_nofile;
	head.rlimit_fsize = cfg->rlimit_fsize;
	head.rlimit_stack = cfg->rlimit_stack;
	head.output_limit = cfg->output_limit;
	head.wall_deadline_us = cfg->wall_deadline_us;
	head.kill_grace_us = cfg->kill_grace_us;
	head.cpu_limit_us = cfg->cpu_limit_us;
	head.cpu_rate_millis = cfg->cpu_rate_millis;
	head.cpu_stat_fd = cfg->cpu_stat_fd;
	head.leash_fd = cfg->leash_fd;
	head.stdin_fd = cfg->stdin_fd;
	head.stdout_fd = cfg->stdout_fd;
	head.stderr_fd = cfg->stderr_fd;
	head.status_fd = cfg->status_fd;
	head.argc = (uint32_t)argc;
	head.envc = cfg->env ? (uint32_t)envc : ENV_DEFAULT;
	head.filter_len = cfg->filter.len;
	head.tmp_bytes = setup->tmp_bytes;
	head.work_bytes = setup->work_bytes;
	head.uid = setup->uid;
	head.gid = setup->gid;
	head.die_with_parent = setup->die_with_parent;
	head.has_work_dir = setup->work_dir != NULL;
	head.sync_fd = setup->sync_fd;
	head.has_etc_dir = setup->etc_dir != NULL;
	head.n_mounts = setup->n_mounts;
	head.n_etc = (uint32_t)n_etc;
	head.netns = setup->netns;

	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, &head, sizeof(head));
	p = buf + sizeof(head);
	if (cfg->filter.len) {
		memcpy(p, cfg->filter.filter, (size_t)cfg->filter.len * sizeof(struct sock_filter));
		p += (size_t)cfg->filter.len * sizeof(struct sock_filter);
	}
	for (uint32_t i = 0; i < setup->n_mounts; i++) {
		struct record_mount m = { setup->mounts[i].size_bytes, setup->mounts[i].kind,
					  setup->mounts[i].source != NULL };

		memcpy(p, &m, sizeof(m));
		p += sizeof(m);
	}
	for (size_t i = 0; i < argc; i++)
		p = put_string(p, cfg->argv[i]);
	for (size_t i = 0; i < envc; i++)
		p = put_string(p, cfg->env[i]);
	p = put_string(p, cfg->cwd);
	p = put_string(p, cfg->seccomp_name);
	p = put_string(p, hostname);
	if (setup->work_dir)
		p = put_string(p, setup->work_dir);
	for (uint32_t i = 0; i < setup->n_mounts; i++) {
		if (setup->mounts[i].source)
			p = put_string(p, setup->mounts[i].source);
		p = put_string(p, setup->mounts[i].target);
	}
	for (size_t i = 0; i < n_etc; i++)
		p = put_string(p, setup->etc_paths[i]);
	if (setup->etc_dir)
		p = put_string(p, setup->etc_dir);
	*out = buf;
	*len = size;
	return 0;
}

/* The next NUL-terminated string at *p before end, or NULL. */
static char *take_string(char **p, const char *end)
{
	char *s = *p, *nul;

	if (s >= end)
		return NULL;
	nul = memchr(s, '\0', (size_t)(end - s));
	if (!nul)
		return NULL;
	*p = nul + 1;
	return s;
}

static int take_list(char **p, const char *end, uint32_t n, char ***out)
{
	char **list;

	/* every string takes at least one byte: bound n before allocating */
	if (n > (uint32_t)(end - *p))
		return -EPROTO;
	list = calloc((size_t)n + 1, sizeof(*list));
	if (!list)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		list[i] = take_string(p, end);
		if (!list[i]) {
			free(list);
			return -EPROTO;
		}
	}
	*out = list;
	return 0;
}

/* The mounts' fixed part (after the filter, in bounds: checked by the
 * caller); their paths come later, after the command's strings. */
static int take_mounts(char **p, const struct record_head *head, struct init_config *cfg)
{
	if (head->n_mounts == 0)
		return 0;
	cfg->setup.mounts = calloc(head->n_mounts, sizeof(*cfg->setup.mounts));
	if (!cfg->setup.mounts)
		return -ENOMEM;
	cfg->setup.n_mounts = head->n_mounts;
	for (uint32_t i = 0; i < head->n_mounts; i++) {
		struct record_mount m;

		memcpy(&m, *p, sizeof(m));
		*p += sizeof(m);
		if (m.kind > MOUNT_KIND_MAX || m.has_source > 1)
			return -EPROTO;
		cfg->setup.mounts[i].kind = m.kind;
		cfg->setup.mounts[i].size_bytes = m.size_bytes;
		/* a marker until take_mount_paths() reads the string */
		cfg->setup.mounts[i].source = m.has_source ? "" : NULL;
	}
	return 0;
}

static int take_mount_paths(char **p, const char *end, struct init_config *cfg)
{
	for (uint32_t i = 0; i < cfg->setup.n_mounts; i++) {
		struct init_mount *m = &cfg->setup.mounts[i];

		if (m->source && !(m->source = take_string(p, end)))
			return -EPROTO;
		m->target = take_string(p, end);
		if (!m->target)
			return -EPROTO;
	}
	return 0;
}

static bool fd_valid(int32_t fd, bool optional)
{
	return fd >= 0 || (optional && fd == -1);
}

int init_record_decode(void *buf, size_t len, struct init_config *cfg, const char **why)
{
	struct record_head head;
	char *p, *end = (char *)buf + len;
	size_t filter_bytes, mount_bytes;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	*why = "";
	if (len < sizeof(head)) {
		*why = "shorter than its head";
		return -EPROTO;
	}
	memcpy(&head, buf, sizeof(head));
	if (head.magic != INIT_RECORD_MAGIC) {
		*why = "not an init record (bad magic)";
		return -EPROTO;
	}
	if (head.version != INIT_RECORD_VERSION) {
		*why = "written by a runner of another version (reinstall corral, restart the caller)";
		return -EPROTO;
	}
	if (head.size != len || len > INIT_RECORD_MAX) {
		*why = "its size does not match";
		return -EPROTO;
	}
	filter_bytes = (size_t)head.filter_len * sizeof(struct sock_filter);
	if (head.filter_len > 0xffff || filter_bytes > len - sizeof(head)) {
		*why = "seccomp filter longer than the record";
		return -EPROTO;
	}
	mount_bytes = (size_t)head.n_mounts * sizeof(struct record_mount);
	if (head.n_mounts > len || mount_bytes > len - sizeof(head) - filter_bytes) {
		*why = "mounts longer than the record";
		return -EPROTO;
	}
	if (head.argc == 0 || !fd_valid(head.stdin_fd, false) || !fd_valid(head.stdout_fd, false) ||
	    !fd_valid(head.stderr_fd, false) || !fd_valid(head.status_fd, true) ||
	    !fd_valid(head.cpu_stat_fd, true) || !fd_valid(head.leash_fd, true) ||
	    !fd_valid(head.sync_fd, false) || head.has_etc_dir > 1 ||
	    (head.cpu_limit_us && (head.cpu_stat_fd < 0 || !head.cpu_rate_millis))) {
		*why = "no command or an invalid fd";
		return -EPROTO;
	}
	if (head.netns > INIT_NETNS_MAKE || head.reserved != 0) {
		*why = "an unknown setup flag";
		return -EPROTO;
	}
	cfg->rlimit_nofile = head.rlimit_nofile;
	cfg->rlimit_fsize = head.rlimit_fsize;
	cfg->rlimit_stack = head.rlimit_stack;
	cfg->output_limit = head.output_limit;
	cfg->wall_deadline_us = head.wall_deadline_us;
	cfg->kill_grace_us = head.kill_grace_us;
	cfg->cpu_limit_us = head.cpu_limit_us;
	cfg->cpu_rate_millis = head.cpu_rate_millis;
	cfg->cpu_stat_fd = head.cpu_stat_fd;
	cfg->leash_fd = head.leash_fd;
	cfg->stdin_fd = head.stdin_fd;
	cfg->stdout_fd = head.stdout_fd;
	cfg->stderr_fd = head.stderr_fd;
	cfg->status_fd = head.status_fd;
	cfg->filter.len = (unsigned short)head.filter_len;
	cfg->filter.filter = head.filter_len ? (struct sock_filter *)((char *)buf + sizeof(head)) : NULL;
	cfg->setup.tmp_bytes = head.tmp_bytes;
	cfg->setup.work_bytes = head.work_bytes;
	cfg->setup.uid = head.uid;
	cfg->setup.gid = head.gid;
	cfg->setup.die_with_parent = head.die_with_parent != 0;
	cfg->setup.netns = head.netns;
	cfg->setup.sync_fd = head.sync_fd;
	p = (char *)buf + sizeof(head) + filter_bytes;

	r = take_mounts(&p, &head, cfg);
	if (r == 0)
		r = take_list(&p, end, head.argc, &cfg->argv);
	if (r == 0 && head.envc != ENV_DEFAULT)
		r = take_list(&p, end, head.envc, &cfg->env);
	if (r == 0) {
		cfg->cwd = take_string(&p, end);
		cfg->seccomp_name = take_string(&p, end);
		cfg->setup.hostname = take_string(&p, end);
		if (head.has_work_dir)
			cfg->setup.work_dir = take_string(&p, end);
		if (!cfg->cwd || !cfg->seccomp_name || !cfg->setup.hostname ||
		    (head.has_work_dir && !cfg->setup.work_dir))
			r = -EPROTO;
	}
	if (r == 0)
		r = take_mount_paths(&p, end, cfg);
	if (r == 0)
		r = take_list(&p, end, head.n_etc, &cfg->setup.etc_paths);
	if (r == 0)
		cfg->setup.n_etc = head.n_etc;
	if (r == 0 && head.has_etc_dir && !(cfg->setup.etc_dir = take_string(&p, end)))
		r = -EPROTO;
	if (r == 0 && p != end)
		r = -EPROTO;
	if (r < 0) {
		*why = r == -ENOMEM ? "out of memory" : "malformed mounts or strings";
		init_config_free(cfg);
	}
	return r;
}

void init_config_free(struct init_config *cfg)
{
	free(cfg->argv);
	free(cfg->env);
	free(cfg->setup.mounts);
	free(cfg->setup.etc_paths);
	cfg->argv = cfg->env = cfg->setup.etc_paths = NULL;
	cfg->setup.mounts = NULL;
}
