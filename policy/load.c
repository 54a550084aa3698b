/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy/load.c — reading policy files into raw sections and entries:
 * opening files, `include = GLOB` (sorted, relative to the including file,
 * loops refused), and driving libinih.
 *
 * libinih (as Debian builds it) does not pass line numbers to the handler
 * and reports only the first syntax error.  So we feed it through our own
 * reader, which counts lines, strips leading blanks (no surprising
 * continuation lines), notes section headers, and reports every malformed
 * line itself, handing inih a blank line instead.  What reaches the handler
 * is always a well-formed `key = value` of the current section.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "policy/internal.h"

#define MAX_FILE_BYTES (1024 * 1024)
#define MAX_INCLUDE_DEPTH 8

struct loaded_file {
	dev_t dev;
	ino_t ino;
	const char *path;
};

/* One file being parsed. */
struct file_ctx {
	struct loader *ld;
	const char *path; /* arena copy: entries point to it */
	const char *data;
	size_t len, pos;
	unsigned lineno;
	unsigned depth;
	long section; /* index in ld->sections, -1 before the first */
};

static const struct {
	const char *name;
	enum section_type type;
	bool named;
} section_types[] = {
	{ "supervisor", SECTION_SUPERVISOR, false },
	{ "access", SECTION_ACCESS, false },
	{ "http", SECTION_HTTP, false },
	{ "default", SECTION_DEFAULT, false },
	{ "plan", SECTION_PLAN, true },
	{ "user", SECTION_USER, true },
	{ "profile", SECTION_PROFILE, true },
};
#define N_SECTION_TYPES (sizeof(section_types) / sizeof(section_types[0]))

const char *section_type_name(enum section_type type)
{
	for (size_t i = 0; i < N_SECTION_TYPES; i++)
		if (section_types[i].type == type)
			return section_types[i].name;
	return "?";
}

/* inih's rule for where a value or header ends: at one of the characters
 * a and b (pass a twice for one), or at an inline ';' comment that follows
 * whitespace.  strcspn() jumps to each candidate: a loop over characters
 * was most of the cost of reading a line under the fuzzer's
 * instrumentation. */
static const char *find_chars_or_comment(const char *s, char a, char b)
{
	const char stops[] = { a, b, ';', 0 };
	const char *start = s;

	for (;;) {
		s += strcspn(s, stops);
		if (*s != ';' || (s > start && isspace((unsigned char)s[-1])))
			return s;
		s++;
	}
}

static void error_at(struct file_ctx *f, const char *key, const char *message)
{
	errors_add_text(f->ld->errors, f->path, f->lineno, key, message);
}

/* "[type name]" -> a new raw section (SECTION_INVALID if wrong). */
static void start_section(struct file_ctx *f, const char *text, size_t len)
{
	struct loader *ld = f->ld;
	struct raw_section *s;
	char type[64], name[80], extra[8];
	char *header = arena_strndup(ld->arena, text, len);
	int n;

	if (!header ||
	    !arena_grow(ld->arena, (void **)&ld->sections, &ld->cap_sections, ld->n_sections,
			sizeof(*ld->sections)))
		return;
	s = &ld->sections[ld->n_sections];
	memset(s, 0, sizeof(*s));
	s->file = f->path;
	s->line = f->lineno;
	s->first = ld->n_entries;
	f->section = (long)ld->n_sections++;

	type[0] = name[0] = 0;
	n = sscanf(header, "%63s %79s %7s", type, name, extra);
	if (n <= 0) {
		error_at(f, NULL,
			 "empty section header []; allowed: [supervisor], [access], "
			 "[default], [plan NAME], [user NAME], [profile NAME]");
		return;
	}
	for (size_t i = 0; i < N_SECTION_TYPES; i++) {
		if (strcmp(type, section_types[i].name) != 0)
			continue;
		if (section_types[i].named && n < 2) {
			errors_add(ld->errors, f->path, f->lineno, NULL,
				   "section [%s] needs a name: [%s NAME]", type, type);
		} else if (!section_types[i].named && n > 1) {
			errors_add(ld->errors, f->path, f->lineno, NULL,
				   "section [%s] takes no name, found [%.120s]", type, header);
		} else if (n > 2) {
			errors_add(ld->errors, f->path, f->lineno, NULL,
				   "section [%.120s]: a name is one word; allowed characters: "
				   "letters, digits, _ . @ -",
				   header);
		} else if (n == 2 && !value_is_name(name)) {
			errors_add(ld->errors, f->path, f->lineno, NULL,
				   "section [%.120s]: '%s' is not a valid name; allowed: 1 to 64 "
				   "letters, digits, _ . @ -, not starting with -",
				   header, name);
		} else {
			s->type = section_types[i].type;
			s->name = n == 2 ? arena_strdup(ld->arena, name) : NULL;
		}
		return;
	}
	{
		const char *names[N_SECTION_TYPES + 1];
		const char *guess;

		for (size_t i = 0; i < N_SECTION_TYPES; i++)
			names[i] = section_types[i].name;
		names[N_SECTION_TYPES] = NULL;
		guess = errors_did_you_mean(type, names);
		if (guess)
			errors_add(ld->errors, f->path, f->lineno, NULL,
				   "unknown section [%.120s]; did you mean [%s%s]?", header, guess,
				   n >= 2 ? " NAME" : "");
		else
			errors_add(ld->errors, f->path, f->lineno, NULL,
				   "unknown section [%.120s]; allowed: [supervisor], [access], "
				   "[default], [plan NAME], [user NAME], [profile NAME]",
				   header);
	}
}

/* Check one stripped line the way inih will read it.  Returns false (and
 * reports) when inih would call it an error; notes section headers. */
static bool check_line(struct file_ctx *f, const char *line)
{
	const char *end;

	if (!*line || *line == ';' || *line == '#')
		return true;
	if (*line == '[') {
		end = find_chars_or_comment(line + 1, ']', ']');
		if (*end != ']') {
			error_at(f, NULL, "section header has no closing ']'");
			return false;
		}
		for (const char *r = end + 1; *r; r++) {
			if (*r == ';' || *r == '#')
				break;
			if (!isspace((unsigned char)*r)) {
				error_at(f, NULL, "unexpected text after the section header's ']'");
				return false;
			}
		}
		start_section(f, line + 1, (size_t)(end - line - 1));
		return true;
	}
	end = find_chars_or_comment(line, '=', ':');
	if (*end != '=' && *end != ':') {
		error_at(f, NULL, "expected 'key = value', a [section] header or a comment (# or ;)");
		return false;
	}
	if (end == line) {
		error_at(f, NULL, "a key name is missing before the '='");
		return false;
	}
	return true;
}

static char *reader(char *str, int num, void *stream)
{
	struct file_ctx *f = stream;
	const char *line, *nl;
	size_t n;

	if (f->pos >= f->len)
		return NULL;
	line = f->data + f->pos;
	nl = memchr(line, '\n', f->len - f->pos);
	n = nl ? (size_t)(nl - line) : f->len - f->pos;
	f->pos += n + (nl ? 1 : 0);
	f->lineno++;
	str[0] = 0;

	if (n && line[n - 1] == '\r')
		n--;
	if (f->lineno == 1 && n >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
		line += 3;
		n -= 3;
	}
	while (n && (*line == ' ' || *line == '\t')) {
		line++;
		n--;
	}
	if (memchr(line, 0, n)) {
		error_at(f, NULL, "the line contains a NUL byte; policy files are text");
		return str;
	}
	if (num < 4 || n > (size_t)num - 3) {
		errors_add(f->ld->errors, f->path, f->lineno, NULL,
			   "the line is too long (%zu characters); at most %d are allowed", n, num - 3);
		return str;
	}
	memcpy(str, line, n);
	str[n] = 0;
	if (!check_line(f, str))
		str[0] = 0;
	return str;
}

static void include_glob(struct file_ctx *f, const char *pattern)
{
	struct loader *ld = f->ld;
	char full[4096];
	glob_t g;
	int r;

	if (ld->flags & POLICY_LOAD_NO_INCLUDE) {
		error_at(f, "include", "includes are not allowed when loading from a buffer");
		return;
	}
	if (f->depth >= MAX_INCLUDE_DEPTH) {
		errors_add(ld->errors, f->path, f->lineno, "include", "includes nest deeper than %d levels",
			   MAX_INCLUDE_DEPTH);
		return;
	}
	if (!*pattern) {
		error_at(f, "include",
			 "the value is empty; write a path or glob, e.g. "
			 "/etc/corral/policy.d/*.conf");
		return;
	}
	if (pattern[0] == '/') {
		snprintf(full, sizeof(full), "%s", pattern);
	} else {
		char dir[4096];

		snprintf(dir, sizeof(dir), "%s", f->path);
		snprintf(full, sizeof(full), "%s/%s", dirname(dir), pattern);
	}
	/* No GLOB_ERR: an unreadable or missing directory is "no match". */
	r = glob(full, 0, NULL, &g);
	if (r == GLOB_NOMATCH) {
		errors_add(ld->errors, f->path, f->lineno, "include",
			   "'%s' matches no file (or a directory on the way cannot be read)", full);
	} else if (r == GLOB_NOSPACE) {
		ld->arena->failed = true;
	} else if (r != 0) {
		errors_add(ld->errors, f->path, f->lineno, "include",
			   "'%s': cannot read a directory on the way", full);
	} else {
		for (size_t i = 0; i < g.gl_pathc; i++)
			load_file(ld, g.gl_pathv[i], f->depth + 1, f->path, f->lineno);
	}
	if (r != GLOB_NOMATCH)
		globfree(&g);
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct file_ctx *f = user;
	struct loader *ld = f->ld;
	struct raw_section *s;
	struct raw_entry *e;

	(void)section;
	if (f->section < 0) {
		if (strcmp(name, "include") == 0)
			include_glob(f, value);
		else
			errors_add(ld->errors, f->path, f->lineno, name,
				   "is outside any section; only 'include' may come before the "
				   "first [section]");
		return 1;
	}
	s = &ld->sections[f->section];
	if (strcmp(name, "include") == 0) {
		error_at(f, "include", "must come before the first [section] of a file");
		return 1;
	}
	if (s->type == SECTION_INVALID)
		return 1; /* the header was already reported */
	if (!arena_grow(ld->arena, (void **)&ld->entries, &ld->cap_entries, ld->n_entries,
			sizeof(*ld->entries)))
		return 1;
	e = &ld->entries[ld->n_entries];
	e->file = f->path;
	e->line = f->lineno;
	e->key = arena_strdup(ld->arena, name);
	e->value = arena_strdup(ld->arena, value);
	if (!e->key || !e->value)
		return 1;
	ld->n_entries++;
	s->count++;
	return 1;
}

static size_t count_lines(const char *data, size_t len)
{
	size_t lines = 1;

	for (const char *nl = data; (nl = memchr(nl, '\n', len - (size_t)(nl - data))); nl++)
		lines++;
	return lines;
}

/* Arena bytes reading a file of lines takes: its entries, and the copies
 * of its keys, values and section headers (at most the file's bytes and
 * a NUL or two per line). */
static size_t parse_estimate(size_t len, size_t lines)
{
	return lines * (sizeof(struct raw_entry) + 2) + len + 256;
}

size_t load_estimate(const char *data, size_t len)
{
	/* and what building the policy typically adds */
	return parse_estimate(len, count_lines(data, len)) + len + 4096;
}

static void parse(struct loader *ld, const char *path, const char *data, size_t len, unsigned depth)
{
	size_t lines = count_lines(data, len);

	struct file_ctx f = {
		.ld = ld,
		.data = data,
		.len = len,
		.depth = depth,
		.section = -1,
	};
	int r;

	/* Room for this file's entries and strings in one block. */
	arena_reserve(ld->arena, parse_estimate(len, lines));
	if (!arena_reserve_items(ld->arena, (void **)&ld->entries, &ld->cap_entries, ld->n_entries + lines,
				 sizeof(*ld->entries)))
		return;
	f.path = arena_strdup(ld->arena, path);
	if (!f.path)
		return;
	r = ini_parse_stream(reader, &f, handler, &f);
	if (r == -2)
		ld->arena->failed = true;
	else if (r > 0) /* the reader should have caught it; be safe */
		errors_add(ld->errors, f.path, (unsigned)r, NULL, "syntax error");
}

void load_buffer(struct loader *ld, const char *name, const char *data, size_t len, unsigned depth)
{
	parse(ld, name, data, len, depth);
}

/* Remember (dev, ino) of a file; false if it was read already. */
static bool note_file(struct loader *ld, const struct stat *st, const char *path, const char **first)
{
	for (size_t i = 0; i < ld->n_files; i++) {
		if (ld->files[i].dev == st->st_dev && ld->files[i].ino == st->st_ino) {
			*first = ld->files[i].path;
			return false;
		}
	}
	if (!arena_grow(ld->arena, (void **)&ld->files, &ld->cap_files, ld->n_files, sizeof(*ld->files)))
		return false;
	ld->files[ld->n_files].dev = st->st_dev;
	ld->files[ld->n_files].ino = st->st_ino;
	ld->files[ld->n_files].path = arena_strdup(ld->arena, path);
	ld->n_files++;
	return true;
}

/* Report a problem with the file itself: at the include line, or at the
 * file when it is the main one. */
#define file_error(ld, path, site_file, site_line, ...)                                         \
	do {                                                                                    \
		if (site_file)                                                                  \
			errors_add((ld)->errors, site_file, site_line, "include", __VA_ARGS__); \
		else                                                                            \
			errors_add((ld)->errors, path, 0, NULL, __VA_ARGS__);                   \
	} while (0)

void load_file(struct loader *ld, const char *path, unsigned depth, const char *site_file, unsigned site_line)
{
	const char *prefix = site_file ? path : "";
	const char *sep = site_file ? ": " : "";
	const char *first = NULL;
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		file_error(ld, path, site_file, site_line, "%s%scannot open: %s", prefix, sep,
			   strerror(errno));
		return;
	}
	if (fstat(fd, &st) < 0) {
		file_error(ld, path, site_file, site_line, "%s%scannot stat: %s", prefix, sep,
			   strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		file_error(ld, path, site_file, site_line, "%s%sis not a regular file", prefix, sep);
		goto out;
	}
	if (st.st_size > MAX_FILE_BYTES) {
		file_error(ld, path, site_file, site_line,
			   "%s%sis too large (%lld bytes); at most "
			   "%d are allowed",
			   prefix, sep, (long long)st.st_size, MAX_FILE_BYTES);
		goto out;
	}
	if (!note_file(ld, &st, path, &first)) {
		if (first)
			file_error(ld, path, site_file, site_line,
				   "%s%sis already read (as %s): include loop or duplicate include", prefix,
				   sep, first);
		goto out;
	}
	data = malloc((size_t)st.st_size + 1);
	if (!data) {
		ld->arena->failed = true;
		goto out;
	}
	/* Read at most what fstat said (+1 to see growth); a file that changes
	 * under us is read as far as it goes. */
	while (len <= (size_t)st.st_size) {
		ssize_t n = read(fd, data + len, (size_t)st.st_size + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			file_error(ld, path, site_file, site_line, "%s%scannot read: %s", prefix, sep,
				   strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > (size_t)st.st_size) {
		file_error(ld, path, site_file, site_line, "%s%schanged while being read", prefix, sep);
		goto out;
	}
	parse(ld, path, data, len, depth);
out:
	free(data);
	close(fd);
}
