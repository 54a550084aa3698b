/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/lib/http.c — curl's command line as the tests' HTTP client
 * (http.h): run with fork/exec (no shell), body and headers read from temp
 * files, the status from -w.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/http.h"

int http_free_port(void)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(in);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&in, sizeof(in)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&in, &len) == 0)
		port = ntohs(in.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			char *p = realloc(buf, cap = cap ? cap * 2 : 65536);

			if (!p)
				break;
			buf = p;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);

		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	if (buf)
		buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

int http_curl(struct http_answer *a, ...)
{
	char body[] = "/tmp/corral-http-body-XXXXXX", head[] = "/tmp/corral-http-head-XXXXXX";
	const char *argv[64] = { "curl", "-sS", "--max-time", "60", "-o",
				 body,   "-D",  head,         "-w", "%{http_code}" };
	int n = 10, fd_b = mkstemp(body), fd_h = mkstemp(head), pipefd[2], status;
	char code[16] = "";
	va_list ap;
	pid_t pid;

	memset(a, 0, sizeof(*a));
	if (fd_b < 0 || fd_h < 0 || pipe(pipefd) < 0)
		return -1;
	close(fd_b);
	close(fd_h);
	va_start(ap, a);
	for (const char *s; (s = va_arg(ap, const char *)) != NULL && n < 63;)
		argv[n++] = s;
	va_end(ap);
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		execvp("curl", (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	if (pid > 0) {
		ssize_t got = read(pipefd[0], code, sizeof(code) - 1);

		code[got > 0 ? got : 0] = '\0';
		waitpid(pid, &status, 0);
	}
	close(pipefd[0]);
	a->status = atoi(code);
	a->body = slurp(body, &a->len);
	a->headers = slurp(head, NULL);
	unlink(body);
	unlink(head);
	a->json = a->body ? json_loadb(a->body, a->len, 0, NULL) : NULL;
	return pid > 0 ? 0 : -1;
}

void http_answer_free(struct http_answer *a)
{
	free(a->body);
	free(a->headers);
	json_decref(a->json);
	memset(a, 0, sizeof(*a));
}

const char *http_header(const struct http_answer *a, const char *name)
{
	static char value[512];
	size_t n = strlen(name);

	for (const char *l = a->headers; l && *l;) {
		const char *end = strchr(l, '\n');

		if (strncasecmp(l, name, n) == 0 && l[n] == ':') {
			const char *v = l + n + 1;
			size_t len;

			while (*v == ' ')
				v++;
			len = end ? (size_t)(end - v) : strlen(v);
			while (len && (v[len - 1] == '\r' || v[len - 1] == ' '))
				len--;
			snprintf(value, sizeof(value), "%.*s", (int)len, v);
			return value;
		}
		l = end ? end + 1 : NULL;
	}
	return NULL;
}
