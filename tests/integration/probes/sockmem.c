/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/integration/probes/sockmem.c — a task that pins kernel socket
 * buffers over the jail's own loopback, run by
 * tests/integration/test_jail_sockmem.c.  Static.
 *
 *   sockmem tcp MB    connection pairs whose receiver never reads: write
 *                     (non-blocking) until the kernel refuses, pair after
 *                     pair, until MB MiB are queued or the kernel stops
 *                     taking more
 *   sockmem udp MB    the same with datagram sockets that never read
 *
 * Prints "pair N: M bytes" as it goes and at the end "pinned: BYTES" (the
 * queued bytes the kernel reports with SO_MEMINFO: the senders' write
 * queues and the receivers' receive queues, as truesize).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PAIRS 100
#define BUFFER_BYTES (4 << 20) /* asked of SO_SNDBUF/SO_RCVBUF; capped by rmem_max/wmem_max */

static void die(const char *what)
{
	printf("error: %s: %s\n", what, strerror(errno));
	fflush(stdout);
	exit(2);
}

/* Bytes the kernel holds for s: receive queue + write queue (truesize). */
static uint64_t queued(int s)
{
	uint32_t info[SK_MEMINFO_VARS] = { 0 };
	socklen_t len = sizeof(info);

	if (getsockopt(s, SOL_SOCKET, SO_MEMINFO, info, &len) < 0)
		die("SO_MEMINFO");
	return (uint64_t)info[SK_MEMINFO_RMEM_ALLOC] + info[SK_MEMINFO_WMEM_QUEUED] +
		info[SK_MEMINFO_WMEM_ALLOC];
}

static void buffers(int s)
{
	int size = BUFFER_BYTES;

	setsockopt(s, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

static int bound_socket(int type, struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int s = socket(AF_INET, type, 0);

	if (s < 0)
		die("socket");
	buffers(s);
	*addr = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (bind(s, (struct sockaddr *)addr, sizeof(*addr)) < 0 ||
	    getsockname(s, (struct sockaddr *)addr, &len) < 0)
		die("bind");
	return s;
}

/* One pair: a sender that writes until refused, a receiver that never reads. */
static uint64_t pin_pair(int type, int listener, const struct sockaddr_in *listen_addr, int fds[2])
{
	static char chunk[65000];
	struct sockaddr_in addr;
	int tx, rx, idle = 0;

	if (type == SOCK_STREAM) {
		tx = socket(AF_INET, SOCK_STREAM, 0);
		if (tx < 0)
			die("socket");
		buffers(tx);
		if (connect(tx, (const struct sockaddr *)listen_addr, sizeof(*listen_addr)) < 0)
			die("connect");
		rx = accept(listener, NULL, NULL);
		if (rx < 0)
			die("accept");
	} else {
		rx = bound_socket(SOCK_DGRAM, &addr);
		tx = socket(AF_INET, SOCK_DGRAM, 0);
		if (tx < 0 || connect(tx, (struct sockaddr *)&addr, sizeof(addr)) < 0)
			die("udp connect");
	}
	if (fcntl(tx, F_SETFL, O_NONBLOCK) < 0)
		die("O_NONBLOCK");
	/* Write until the kernel stops taking bytes; a datagram socket drops
	 * what the receiver cannot queue, so stop when its queue stops growing. */
	for (uint64_t before = 0; idle < 8;) {
		ssize_t n = send(tx, chunk, sizeof(chunk), 0);
		uint64_t now;

		if (n < 0 && errno != EAGAIN && errno != ENOBUFS && errno != ENOMEM)
			die("send");
		now = queued(tx) + queued(rx);
		idle = n < 0 || now <= before ? idle + 1 : 0;
		before = now;
		if (n < 0)
			usleep(2000);
	}
	fds[0] = tx;
	fds[1] = rx;
	return queued(tx) + queued(rx);
}

int main(int argc, char **argv)
{
	static int fds[MAX_PAIRS][2];
	struct sockaddr_in addr;
	uint64_t want, total = 0;
	int type, listener = -1, pairs = 0;

	if (argc != 3 || (strcmp(argv[1], "tcp") != 0 && strcmp(argv[1], "udp") != 0)) {
		fprintf(stderr, "usage: sockmem tcp|udp MB\n");
		return 2;
	}
	type = strcmp(argv[1], "tcp") == 0 ? SOCK_STREAM : SOCK_DGRAM;
	want = strtoull(argv[2], NULL, 10) << 20;
	if (type == SOCK_STREAM) {
		listener = bound_socket(SOCK_STREAM, &addr);
		if (listen(listener, MAX_PAIRS) < 0)
			die("listen");
	}
	while (pairs < MAX_PAIRS && total < want) {
		uint64_t pair = pin_pair(type, listener, &addr, fds[pairs]);

		total += pair;
		printf("pair %d: %llu bytes\n", pairs++, (unsigned long long)pair);
		fflush(stdout);
		if (pair < 64 * 1024)
			break; /* the kernel takes nothing more */
	}
	/* Queues of earlier pairs may have been trimmed meanwhile: the total
	 * is what all of them hold now. */
	total = 0;
	for (int i = 0; i < pairs; i++)
		total += queued(fds[i][0]) + queued(fds[i][1]);
	printf("pinned: %llu\n", (unsigned long long)total);
	return 0;
}
