#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tests/vm/run.sh — run one command as root inside a throw-away VM whose
# kernel is Debian 12's stock kernel and whose only cgroup hierarchy is
# cgroup2 at /sys/fs/cgroup (pure cgroup v2), and return its output and
# exit code.  The development and CI machines are hybrid; this is how pure
# v2 gets tested (make check-v2).
#
#   tests/vm/run.sh [--systemd] [--timeout SECONDS] [--] COMMAND [ARG]...
#
# The VM (qemu, TCG emulation: KVM hangs on these nested hosts) sees the
# host's / read-only over 9p under a tmpfs overlay (so / and /tmp are
# writable and thrown away), and this checkout, writable, at the same path:
# the command runs there, as root, in the root cgroup, with no network.
# Its output streams to ours; the script exits with the command's exit code,
# or 124 when the VM did not finish within --timeout (default 1500 s; the
# VM is then killed), or 125 when the VM could not be built or booted.
#
# --systemd boots the host's systemd as pid 1 instead of a shell, and runs
# the command as the unit corral-vm-command.service (see tests/vm/guest.sh).
#
# Built from Debian packages, cached in build/vm/ (delete it to rebuild):
# the kernel and its modules from `apt-get download` of the image
# linux-image-amd64 depends on, unpacked with dpkg-deb -x (nothing is
# installed on the host but qemu-system-x86, busybox-static and cpio), and
# an initramfs of busybox plus the virtio, 9p and overlay modules.
set -euo pipefail

CHECKOUT=$(cd "$(dirname "$0")/../.." && pwd)
VM_DIR="$CHECKOUT/build/vm"
RUN_DIR="$VM_DIR/run"
TIMEOUT=1500
MODE=shell
MEMORY=${CORRAL_VM_MEMORY:-2G}
CPUS=${CORRAL_VM_CPUS:-2}

usage() { echo "usage: $0 [--systemd] [--timeout SECONDS] [--] COMMAND [ARG]..." >&2; exit 125; }
die() { echo "vm: $*" >&2; exit 125; }

while [ $# -gt 0 ]; do
	case "$1" in
	--systemd) MODE=systemd; shift ;;
	--timeout) [ $# -ge 2 ] || usage; TIMEOUT=$2; shift 2 ;;
	--) shift; break ;;
	-*) usage ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || usage
[ "$(id -u)" = 0 ] || die "needs root (qemu's 9p passthrough keeps the files' owners; the command runs as root)"

# ---- host packages -----------------------------------------------------
need=""
for p in qemu-system-x86 busybox-static cpio; do
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need="$need $p"
done
if [ -n "$need" ]; then
	echo "vm: installing Debian packages:$need" >&2
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null \
		|| die "apt-get install$need failed"
fi

# ---- kernel (cached) ---------------------------------------------------
build_kernel() {
	local pkg deb
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -1)
	[ -n "$pkg" ] || { apt-get update -qq; pkg=$(apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -1); }
	[ -n "$pkg" ] || die "cannot find the kernel package linux-image-amd64 depends on"
	rm -rf "$VM_DIR/kernel.tmp" && mkdir -p "$VM_DIR/kernel.tmp"
	(cd "$VM_DIR/kernel.tmp" && apt-get download -o APT::Sandbox::User=root "$pkg" >/dev/null) || die "apt-get download $pkg failed"
	deb=$(ls "$VM_DIR"/kernel.tmp/*.deb)
	dpkg-deb -x "$deb" "$VM_DIR/kernel.tmp/root" || die "dpkg-deb -x $deb failed"
	rm -f "$deb"
	rm -rf "$VM_DIR/kernel" && mv "$VM_DIR/kernel.tmp" "$VM_DIR/kernel"
	echo "vm: kernel $pkg unpacked into $VM_DIR/kernel" >&2
}
mkdir -p "$VM_DIR"
ls "$VM_DIR"/kernel/root/boot/vmlinuz-* >/dev/null 2>&1 || build_kernel
VMLINUZ=$(ls "$VM_DIR"/kernel/root/boot/vmlinuz-* | head -1)
KVER=${VMLINUZ##*/vmlinuz-}
MODDIR="$VM_DIR/kernel/root/lib/modules/$KVER/kernel"

# ---- initramfs (cached; rebuilt when this script, init or busybox change)
MODULES="drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_legacy_dev
	drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci fs/netfs/netfs fs/fscache/fscache
	net/9p/9pnet net/9p/9pnet_virtio fs/9p/9p fs/overlayfs/overlay net/vmw_vsock/vsock"
INITRD="$VM_DIR/initramfs.cpio.gz"
if [ ! -e "$INITRD" ] || [ "$CHECKOUT/tests/vm/initramfs-init" -nt "$INITRD" ] ||
   [ "$CHECKOUT/tests/vm/run.sh" -nt "$INITRD" ] || [ /bin/busybox -nt "$INITRD" ]; then
	tmp="$VM_DIR/initramfs.tmp"
	rm -rf "$tmp" && mkdir -p "$tmp/bin" "$tmp/modules" "$tmp/proc" "$tmp/sys" "$tmp/dev" "$tmp/lower" "$tmp/upper" "$tmp/newroot"
	cp /bin/busybox "$tmp/bin/busybox"
	ln -s busybox "$tmp/bin/sh"
	for m in $MODULES; do
		f="$MODDIR/$m.ko"
		[ -e "$f" ] || f=$(find "$MODDIR" -name "${m##*/}.ko*" | head -1)
		[ -n "$f" ] && [ -e "$f" ] || die "kernel module ${m##*/} not found in $MODDIR"
		case "$f" in
		*.ko.xz) xz -dc "$f" > "$tmp/modules/${m##*/}.ko" ;;
		*.ko.zst) zstd -qdc "$f" > "$tmp/modules/${m##*/}.ko" ;;
		*) cp "$f" "$tmp/modules/${m##*/}.ko" ;;
		esac
		echo "${m##*/}" >> "$tmp/modules/order"
	done
	cp "$CHECKOUT/tests/vm/initramfs-init" "$tmp/init"
	chmod 755 "$tmp/init"
	(cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) > "$INITRD.new" || die "cpio of the initramfs failed"
	mv "$INITRD.new" "$INITRD"
	rm -rf "$tmp"
	echo "vm: initramfs built: $INITRD" >&2
fi

# ---- the command, the run, the result ----------------------------------
rm -rf "$RUN_DIR" && mkdir -p "$RUN_DIR"
{
	printf 'cd %q\n' "$PWD"
	printf '%q ' "$@"
	printf '\n'
} > "$RUN_DIR/command"
# pass through the variables the tests read
for v in CORRAL_MUST_WORK CORRAL_BUILD BUILD CORRAL_TESTS; do
	[ -n "${!v+x}" ] && printf 'export %s=%q\n' "$v" "${!v}"
done > "$RUN_DIR/env"

start=$(date +%s)
rc=0
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 \
	-accel tcg -cpu max -m "$MEMORY" -smp "$CPUS" \
	-kernel "$VMLINUZ" -initrd "$INITRD" \
	-append "console=ttyS0 quiet loglevel=3 panic=-1 corral_dir=$CHECKOUT corral_mode=$MODE" \
	-nic none -display none -monitor none -serial stdio -no-reboot \
	-virtfs local,path=/,mount_tag=host,security_model=passthrough,readonly=on,multidevs=remap \
	-virtfs local,path="$CHECKOUT",mount_tag=checkout,security_model=passthrough,multidevs=remap \
	</dev/null || rc=$?
elapsed=$(( $(date +%s) - start ))
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
	echo "vm: TIMEOUT: the VM did not finish within ${TIMEOUT} s; killed" >&2
	exit 124
fi
if ! [ -s "$RUN_DIR/rc" ]; then
	echo "vm: the VM stopped (qemu exit $rc) after ${elapsed} s without the command's exit code" >&2
	exit 125
fi
cmd_rc=$(cat "$RUN_DIR/rc")
# quiet on success: the command's own last line stays the last one
[ "$cmd_rc" = 0 ] || echo "vm: the command exited $cmd_rc after ${elapsed} s in the VM (kernel $KVER, $MODE)" >&2
echo "$elapsed" >"$RUN_DIR/seconds"
exit "$cmd_rc"
