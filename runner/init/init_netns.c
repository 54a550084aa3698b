/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner/init/init_netns.c — the jail's network: its own network namespace,
 * made by corral-init first thing (the jail's first process is cloned in
 * its caller's, so the namespace's CPU and memory are the jail's) unless
 * the caller made one ahead (corrald's pool, lo already up).  A new one has
 * only a loopback device, and it is down: corral-init brings lo up so the
 * jail can talk to itself and nothing else.  (veth for jails that need a
 * network comes later, in the same file.)
 *
 * Two ioctls on a datagram socket opened inside the new namespace
 * (SIOCGIFFLAGS, SIOCSIFFLAGS with IFF_UP): no allocation, no library.
 * libnl did this before (a prepared RTM_NEWLINK request and its ack); it
 * cost more per spawn (0.17-0.24 ms against ~0.06 ms) and two more shared
 * libraries to load in every corral-run.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <sched.h>
#include <sys/stat.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runner/init/init_setup.h"

int init_netns_lo_up(struct jail_error *err)
{
	struct ifreq ifr;
	int fd, r = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return jail_error_set(err, errno, "lo_up", "open a socket in the jail's network namespace");
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, "lo", sizeof("lo"));
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		r = jail_error_set(err, errno, "lo_up", "read the flags of lo");
	} else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			r = jail_error_set(err, errno, "lo_up", "bring up lo");
	}
	close(fd);
	return r;
}

int init_netns_make(struct jail_error *err)
{
	/* the caller's namespace until here: nothing of the jail ran yet,
	 * and if this fails the jail never starts (setup_steps) */
	if (unshare(CLONE_NEWNET) < 0)
		return jail_error_set(err, errno, "netns", "make the jail's network namespace");
	return init_netns_lo_up(err);
}

int init_netns_check_own(struct jail_error *err)
{
	struct stat net_owner, own;
	int net_fd, owner_fd, r = 0;

	/* its owner is the jail's user namespace: not the caller's network,
	 * whatever went wrong before (a pool's is the host's user namespace's
	 * and is not checked here) */
	net_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (net_fd < 0)
		return jail_error_set(err, errno, "netns", "open the jail's network namespace");
	owner_fd = ioctl(net_fd, NS_GET_USERNS);
	if (owner_fd < 0)
		r = jail_error_set(err, errno, "netns", "find the owner of the jail's network namespace");
	else if (fstat(owner_fd, &net_owner) < 0 || stat("/proc/self/ns/user", &own) < 0)
		r = jail_error_set(err, errno, "netns", "compare user namespaces");
	else if (net_owner.st_dev != own.st_dev || net_owner.st_ino != own.st_ino)
		r = jail_error_set(err, EPERM, "netns",
				   "the jail's network namespace is not its own (its caller's?)");
	if (owner_fd >= 0)
		close(owner_fd);
	close(net_fd);
	return r;
}
