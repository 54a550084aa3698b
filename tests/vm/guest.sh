#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/vm/guest.sh — pid 1 of the test VM after switch_root (see
# tests/vm/run.sh).  $1 is the checkout, $2 the mode:
#   shell    mount what a Debian system has (cgroup2 alone at /sys/fs/cgroup),
#            run build/vm/run/command as root from the root cgroup, write its
#            exit code to build/vm/run/rc, power off.
#   systemd  install build/vm/run/command as corral-vm-command.service and
#            exec the host's systemd: it mounts everything itself (pure v2),
#            runs the unit at boot and powers off when it ends.
dir=$1
mode=$2
run="$dir/build/vm/run"
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8

if [ "$mode" = systemd ]; then
	unit=/etc/systemd/system/corral-vm-command.service
	cat >"$unit" <<EOF
[Unit]
Description=corral VM test command
After=basic.target
SuccessAction=poweroff-force
FailureAction=poweroff-force

[Service]
Type=oneshot
StandardInput=null
StandardOutput=tty
StandardError=tty
TTYPath=/dev/console
WorkingDirectory=$dir
ExecStart=/bin/sh -c '. $run/env; . $run/command; echo \$? >$run/rc'
EOF
	# boot to a target of our own: basic.target and this unit, nothing of
	# multi-user.target (the host's databases, gettys, network waits)
	cat >/etc/systemd/system/corral-vm.target <<EOF
[Unit]
Description=corral VM test
Requires=basic.target
After=basic.target
Wants=corral-vm-command.service
AllowIsolate=yes
EOF
	ln -sf /etc/systemd/system/corral-vm.target /etc/systemd/system/default.target
	echo corral-vm >/etc/hostname
	: >/etc/fstab
	exec /lib/systemd/systemd --log-level=warning --show-status=no
fi

exec </dev/null >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# a checkout below /run or /tmp (a CI clone in a temp dir) is moved aside
# while those get their tmpfs, then put back at its path
case "$dir" in
/run/* | /tmp/*) aside=/mnt/corral-checkout ;;
*) aside= ;;
esac
if [ -n "$aside" ]; then
	mkdir -p "$aside" && mount --move "$dir" "$aside"
fi
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
if [ -n "$aside" ]; then
	mkdir -p "$dir" && mount --move "$aside" "$dir"
fi
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup
hostname corral-vm
# as many open files as the CI host allows (test_corrald_attack opens 4100 sockets)
ulimit -n 20000
ip link set lo up 2>/dev/null

(
	. "$run/env"
	. "$run/command"
)
echo $? >"$run/rc"
sync
dmesg -n 1 2>/dev/null
echo o >/proc/sysrq-trigger
sleep 60
