/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/test_languages.c — every common language works in a
 * jail (issue 17): a small program per language (C, C++, Python, Java, Node,
 * Go, PHP, Ruby, Rust) compiled and run inside the jail, through corral-run,
 * in the default seccomp profile, in `strict` and at 256M; runtimes see the
 * jail's memory and CPU limits (the JVM's heap fits, OutOfMemoryError
 * instead of the OOM killer; Go and the JVM see one CPU under --cpus 0.5);
 * and a few languages through a real corrald, in the profiles a plan
 * allows (`profiles = default tight`).  A toolchain the host lacks
 * skips loudly (CI installs them: `make deps`).  One work dir for all, so
 * Go's build cache is reused.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/corrald.h"
#include "tests/lib/corrald_socket.h"
#include "tests/lib/test.h"

struct language {
	const char *name;
	const char *tool;    /* on the host: missing = skip loudly */
	const char *package; /* Debian package that has it */
	const char *file;    /* source file name */
	const char *source;
	const char *build_and_run; /* shell, in /work/<name> */
	bool strict_fails;         /* see README: why it cannot work in strict */
};

static const struct language languages[] = {
	{ "c", "/usr/bin/cc", "gcc", "hello.c",
	  "#include <stdio.h>\nint main(void) { puts(\"hello from c\"); return 0; }\n",
	  "cc -O2 -o hello hello.c && ./hello", false },
	{ "cpp", "/usr/bin/c++", "g++", "hello.cpp",
	  "#include <iostream>\nint main() { std::cout << \"hello from cpp\" << std::endl; }\n",
	  "c++ -O2 -o hello hello.cpp && ./hello", false },
	{ "python", "/usr/bin/python3", "python3", "hello.py",
	  "import ssl, json\nprint('hello from python')\n", "python3 hello.py", false },
	{ "java", "/usr/bin/javac", "default-jdk-headless", "Hello.java",
	  "public class Hello { public static void main(String[] a) throws Exception {\n"
	  "  java.security.MessageDigest.getInstance(\"SHA-256\");\n"
	  "  System.out.println(\"hello from java\"); } }\n",
	  "javac Hello.java && java -cp . Hello", false },
	{ "node", "/usr/bin/node", "nodejs", "hello.js",
	  "require('crypto').createHash('sha256');\nconsole.log('hello from node');\n", "node hello.js",
	  false },
	{ "go", "/usr/bin/go", "golang-go", "hello.go",
	  "package main\nimport \"fmt\"\nfunc main() { fmt.Println(\"hello from go\") }\n",
	  "GOCACHE=/work/.gocache GOPATH=/work/.gopath go build -o hello hello.go && ./hello", false },
	{ "php", "/usr/bin/php", "php-cli", "hello.php",
	  "<?php\nif (!ctype_digit('12')) exit(1);\necho \"hello from php\\n\";\n", "php hello.php", false },
	{ "ruby", "/usr/bin/ruby", "ruby", "hello.rb", "require 'json'\nputs 'hello from ruby'\n",
	  "ruby hello.rb", false },
	{ "rust", "/usr/bin/rustc", "rustc", "hello.rs", "fn main() { println!(\"hello from rust\"); }\n",
	  "rustc -o hello hello.rs && ./hello", false },
};
#define N_LANGUAGES (sizeof(languages) / sizeof(languages[0]))

enum mode { MODE_DEFAULT, MODE_STRICT, MODE_256M };
static const char *const mode_names[] = { "default", "strict", "256M" };
static const char *const mode_flags[] = { "", "--seccomp strict", "--memory 256M" };

struct matrix_case {
	const struct language *lang;
	enum mode mode;
	char name[48];
};

static struct matrix_case cases[N_LANGUAGES * 3];
static char work[64];

static const struct language *language(const char *name)
{
	for (size_t i = 0; i < N_LANGUAGES; i++)
		if (strcmp(languages[i].name, name) == 0)
			return &languages[i];
	return NULL;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		fail_msg("create %s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
}

/* The work dir: one subdir per language with its source, writable by the
 * jails' host uids (corral-run picks one per run). */
static int group_setup(void **state)
{
	char path[256];

	(void)state;
	snprintf(work, sizeof(work), "/tmp/corral-languages-XXXXXX");
	if (!mkdtemp(work) || chmod(work, 01777) < 0)
		return -1;
	for (size_t i = 0; i < N_LANGUAGES; i++)
		for (int m = -1; m < (int)(sizeof(mode_names) / sizeof(mode_names[0])); m++) {
			/* <language>, and <language>-<mode> for each run of the
			 * matrix: a build's output belongs to the run's host uid,
			 * which another run (another mode) may not overwrite in
			 * a sticky directory */
			if (m < 0)
				snprintf(path, sizeof(path), "%s/%s", work, languages[i].name);
			else
				snprintf(path, sizeof(path), "%s/%s-%s", work, languages[i].name,
					 mode_names[m]);
			if (mkdir(path, 01777) < 0 || chmod(path, 01777) < 0)
				return -1;
			strncat(path, "/", sizeof(path) - strlen(path) - 1);
			strncat(path, languages[i].file, sizeof(path) - strlen(path) - 1);
			write_text(path, languages[i].source);
			chmod(path, 0644);
		}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	test_remove_tree(work);
	return 0;
}

static void require_tool(const struct language *l)
{
	test_require_root();
	if (access(l->tool, X_OK) != 0)
		test_skip_loudly("%s: %s is not installed (apt-get install %s; `make deps` does)", l->name,
				 l->tool, l->package);
}

/* Run script (shell) in /work/<dir> of a jail through corral-run with
 * flags; its stdout and stderr in out.  Returns corral-run's exit status. */
static int corral_run(const char *flags, const char *dir, const char *script, char *out, size_t size)
{
	char cmd[2048];
	size_t len = 0;
	FILE *p;
	int status;

	snprintf(cmd, sizeof(cmd),
		 "'%s' --work '%s' --wall-time 180s --output-limit 1M %s -- /bin/sh -c 'cd /work/%s && %s' 2>&1",
		 test_build_path("corral-run"), work, flags, dir, script);
	p = popen(cmd, "r");
	if (!p)
		fail_msg("popen: %s", strerror(errno));
	while (len + 1 < size) {
		size_t n = fread(out + len, 1, size - 1 - len, p);

		if (n == 0)
			break;
		len += n;
	}
	out[len] = '\0';
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_language_builds_and_runs(void **state)
{
	const struct matrix_case *c = *state;
	char out[16384], want[64], dir[64];
	int rc;

	require_tool(c->lang);
	snprintf(dir, sizeof(dir), "%s-%s", c->lang->name, mode_names[c->mode]);
	rc = corral_run(mode_flags[c->mode], dir, c->lang->build_and_run, out, sizeof(out));
	fprintf(stderr, "%s in %s: exit %d\n%s", c->lang->name, mode_names[c->mode], rc, out);
	snprintf(want, sizeof(want), "hello from %s\n", c->lang->name);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, want));
}

/* ---- runtimes see the jail's limits ------------------------------------ */

/* The JVM sizes its heap from the jail's memory (JAVA_TOOL_OPTIONS'
 * MaxRAM), so a program that allocates too much gets OutOfMemoryError it
 * can catch, instead of the OOM killer ending the jail. */
static void test_java_heap_fits_the_memory_limit(void **state)
{
	char out[16384], path[256];
	unsigned long long heap = 0;
	const char *p;
	int rc;

	(void)state;
	require_tool(language("java"));
	snprintf(path, sizeof(path), "%s/java/Alloc.java", work);
	write_text(
		path,
		"import java.util.*;\n"
		"public class Alloc { public static void main(String[] a) {\n"
		"  System.out.println(\"max \" + Runtime.getRuntime().maxMemory());\n"
		"  List<byte[]> l = new ArrayList<>();\n"
		"  try { for (;;) l.add(new byte[1 << 20]); }\n"
		"  catch (OutOfMemoryError e) { l = null; System.out.println(\"caught OutOfMemoryError\"); } } }\n");
	chmod(path, 0644);
	rc = corral_run(
		"--memory 256M", "java",
		"java -XX:+PrintFlagsFinal -version | grep -w MaxHeapSize && javac Alloc.java && java -cp . Alloc",
		out, sizeof(out));
	fprintf(stderr, "exit %d\n%s", rc, out);
	assert_int_equal(rc, 0);
	p = strstr(out, "MaxHeapSize");
	assert_non_null(p);
	assert_int_equal(sscanf(strchr(p, '=') + 1, "%llu", &heap), 1);
	assert_true(heap > 0 && heap < (200ull << 20));
	assert_non_null(strstr(out, "caught OutOfMemoryError"));
}

/* Under --cpus 0.5 the JVM and Go see one CPU (ActiveProcessorCount,
 * GOMAXPROCS), Node's heap is sized from the memory limit. */
static void test_runtimes_see_the_cpu_quota_and_memory(void **state)
{
	char out[16384], path[256];
	int rc;

	(void)state;
	require_tool(language("java"));
	require_tool(language("go"));
	require_tool(language("node"));
	snprintf(path, sizeof(path), "%s/java/Cpus.java", work);
	write_text(path,
		   "public class Cpus { public static void main(String[] a) {\n"
		   "  System.out.println(\"java cpus \" + Runtime.getRuntime().availableProcessors()); } }\n");
	chmod(path, 0644);
	snprintf(path, sizeof(path), "%s/go/cpus.go", work);
	write_text(path,
		   "package main\nimport (\"fmt\"; \"runtime\"; \"runtime/debug\")\n"
		   "func main() { fmt.Println(\"go cpus\", runtime.GOMAXPROCS(0));"
		   " fmt.Println(\"go memlimit\", debug.SetMemoryLimit(-1) < 256<<20) }\n");
	chmod(path, 0644);
	rc = corral_run(
		"--cpus 0.5 --memory 256M", "java",
		"java -cp /work/java Cpus.java; cd /work/go && GOCACHE=/work/.gocache GOPATH=/work/.gopath go run cpus.go; "
		"node -e \"console.log(\\\"node heap\\\", require(\\\"v8\\\").getHeapStatistics().heap_size_limit < 256*1048576)\"",
		out, sizeof(out));
	fprintf(stderr, "exit %d\n%s", rc, out);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "java cpus 1\n"));
	assert_non_null(strstr(out, "go cpus 1\n"));
	assert_non_null(strstr(out, "go memlimit true\n"));
	assert_non_null(strstr(out, "node heap true\n"));
}

/* ---- through corrald ---------------------------------------------------- */

/* One plan for a multi-language judge, `profiles = default tight`: a
 * tenant (nobody, not an operator) runs Python, Java (its single-file
 * source launcher) and PHP from a read-only source dir in the plan's
 * default profile and, with a profile in the submit, in its strict one; a
 * profile the plan does not list is refused. */
static void test_languages_run_through_corrald_in_the_plans_profiles(void **state)
{
	static const char *const runs[][2] = {
		{ "python", "\"python3\",\"/src/python/hello.py\"" },
		{ "java", "\"java\",\"/src/java/Hello.java\"" },
		{ "php", "\"php\",\"/src/php/hello.php\"" },
	};
	struct corrald d;
	char body[1024], line[512], want[64];
	const char *lines[1];
	json_t *out[1];
	int r;

	(void)state;
	memset(&d, 0, sizeof(d));
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
		require_tool(language(runs[i][0]));
	snprintf(body, sizeof(body),
		 "[access]\noperators = root\n"
		 "[profile default]\nbind_ro = %s:/src\n"
		 "[profile tight]\nbind_ro = %s:/src\nseccomp = strict\n"
		 "[profile other]\n"
		 "[plan judge]\nprofiles = default tight\nmax_concurrent = 2\nmax_task_seconds = 2m\n"
		 "memory = 256M\n"
		 "[default]\nplan = judge\n",
		 work, work);
	r = corrald_start(&d,
			  "kill_grace = 200ms\npoll_interval = 100ms\ndrain_timeout = 0\n"
			  "uid_range = 4200000-4200063\nmax_running = 2\n",
			  body, 0);
	if (r < 0)
		fail_msg("corrald did not start: %s\n%s", strerror(-r), corrald_log_tail(&d));
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		for (int strict = 0; strict < 2; strict++) {
			size_t len = 0;
			json_t *t;
			char *text;
			int64_t id;

			snprintf(line, sizeof(line), "{\"op\":\"submit\",\"argv\":[%s]%s}", runs[i][1],
				 strict ? ",\"profile\":\"tight\"" : "");
			lines[0] = line;
			assert_int_equal(corrald_calls_as(&d, CORRALD_TEST_OTHER_UID, CORRALD_TEST_OTHER_UID,
							  lines, 1, out),
					 0);
			assert_null(corrald_error_code(out[0]));
			id = task_int(json_object_get(out[0], "task"), "id");
			json_decref(out[0]);
			t = corrald_must_wait(&d, id, 120000);
			text = corrald_logs(&d, id, "stdout", &len);
			fprintf(stderr, "%s via corrald in %s: %s, stdout: %s\n", runs[i][0],
				strict ? "tight (strict)" : "default", task_str(t, "state"),
				text ? text : "(none)");
			assert_string_equal(task_str(t, "profile"), strict ? "tight" : "default");
			assert_string_equal(task_str(t, "state"), "succeeded");
			snprintf(want, sizeof(want), "hello from %s\n", runs[i][0]);
			assert_non_null(text);
			assert_non_null(strstr(text, want));
			free(text);
			json_decref(t);
		}
	}
	lines[0] = "{\"op\":\"submit\",\"argv\":[\"/bin/true\"],\"profile\":\"other\"}";
	assert_int_equal(corrald_calls_as(&d, CORRALD_TEST_OTHER_UID, CORRALD_TEST_OTHER_UID, lines, 1, out),
			 0);
	fprintf(stderr, "profile other: %s\n", corrald_error_message(out[0]));
	assert_string_equal(corrald_error_code(out[0]), "forbidden");
	assert_string_equal(corrald_error_message(out[0]),
			    "profile 'other' is not available on plan judge (its profiles: default, tight)");
	json_decref(out[0]);
	corrald_cleanup(&d);
}

int main(void)
{
	struct CMUnitTest tests[N_LANGUAGES * 3 + 3];
	size_t n = 0;

	for (size_t i = 0; i < N_LANGUAGES; i++) {
		for (int m = MODE_DEFAULT; m <= MODE_256M; m++) {
			struct matrix_case *c = &cases[n];

			c->lang = &languages[i];
			c->mode = (enum mode)m;
			snprintf(c->name, sizeof(c->name), "test_%s_%s", languages[i].name, mode_names[m]);
			tests[n] = (struct CMUnitTest){ c->name, test_language_builds_and_runs, NULL, NULL,
							c };
			n++;
		}
	}
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_java_heap_fits_the_memory_limit);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_runtimes_see_the_cpu_quota_and_memory);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(
		test_languages_run_through_corrald_in_the_plans_profiles);
	return _cmocka_run_group_tests("test_languages", tests, n, group_setup, group_teardown);
}
