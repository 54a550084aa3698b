/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test_escape.c — control characters made visible
 * (supervisor/common/escape.c) and the logger that uses them
 * (supervisor/common/log.c): a tenant's newline cannot end a log line and
 * forge another with its own syslog priority.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "supervisor/common/escape.h"
#include "supervisor/common/log.h"

static void test_controls_become_visible_and_text_stays(void **state)
{
	char out[128];

	(void)state;
	escape_control("a\nb\rc\td\x1b[2J\x07\x7f", out, sizeof(out));
	assert_string_equal(out, "a\\nb\\rc\\td\\x1b[2J\\x07\\x7f");
	/* UTF-8 text stays; the C1 control U+009B (CSI) does not */
	escape_control("caf\xc3\xa9 \xc2\x9b"
		       "31m",
		       out, sizeof(out));
	assert_string_equal(out, "caf\xc3\xa9 \\xc2\\x9b31m");
	assert_false(escape_control_needed("plain text, caf\xc3\xa9"));
	assert_true(escape_control_needed("x\n"));
}

static void test_a_short_buffer_cuts_at_a_whole_escape(void **state)
{
	char out[6];

	(void)state;
	assert_int_equal(escape_control("ab\x1b"
					"cd",
					out, sizeof(out)),
			 2);
	assert_string_equal(out, "ab");
}

/* What the logger writes for one message (stderr captured). */
static char *log_capture(const char *text)
{
	static char buf[8192];
	int fds[2], saved = dup(2);
	ssize_t n;

	assert_int_equal(pipe(fds), 0);
	dup2(fds[1], 2);
	log_notice("task argv[0] %s ended", text);
	dup2(saved, 2);
	close(saved);
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void test_a_newline_in_a_message_cannot_forge_a_log_line(void **state)
{
	const char *line = log_capture("/bin/x\n<0>corrald: FORGED emergency\r\x1b[1A");

	(void)state;
	/* one line, ending in the only newline, with the logger's priority */
	assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);
	assert_int_equal(strncmp(line, "<5>", 3), 0);
	assert_non_null(strstr(line, "/bin/x\\n<0>corrald: FORGED emergency\\r\\x1b[1A ended"));
	assert_null(strchr(line, '\r'));
	assert_null(strchr(line, '\x1b'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_controls_become_visible_and_text_stays),
		cmocka_unit_test(test_a_short_buffer_cuts_at_a_whole_escape),
		cmocka_unit_test(test_a_newline_in_a_message_cannot_forge_a_log_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
