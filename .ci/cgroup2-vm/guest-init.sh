#!/bin/sh
# Stage 1 of the guest, /init of the initramfs (busybox sh, PID 1).
# Builds the new root: the host's / over 9p (read-only) under a tmpfs overlay,
# proc/sys/dev moved in, a pure cgroup2 hierarchy at /sys/fs/cgroup (or v1
# hierarchies with tsrun_vm.cgroup=v1), fresh
# tmpfs at /run and /tmp. Then switch_root into it and run stage 2 there.
# switch_root (not chroot) because a chrooted process may not create user
# namespaces, and pivot_root inside containers needs a real root.
/bin/busybox --install -s
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

NEW=/newroot
JOB=/job
# Where the job share is mounted right now; empty until it is.
JOBDIR=

# stdio is the console (dev/console is in the initramfs); fds stay valid
# after /dev is moved away.
say() { echo "tsrun-vm: $*" >&2; }

# Records why the boot failed where the host looks for it, then powers off:
# returning from /init would panic, which the host also reports, less clearly.
die() {
  say "boot failed: $*"
  [ -n "$JOBDIR" ] && echo "$*" >"$JOBDIR/boot-error"
  sync
  poweroff -f
  sleep 5
  echo o >/proc/sysrq-trigger
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

# TSRUN_VM_VERBOSE=1 on the host adds tsrun_vm.verbose to the kernel command
# line: each step is then logged with the guest's uptime.
VERBOSE=
grep -q 'tsrun_vm.verbose' /proc/cmdline && VERBOSE=1
# TSRUN_VM_CGROUP=v1 on the host adds tsrun_vm.cgroup=v1: v1 hierarchies.
CGROUP=v2
grep -q 'tsrun_vm.cgroup=v1' /proc/cmdline && CGROUP=v1
step() {
  [ -n "$VERBOSE" ] && echo "tsrun-vm: [$(cut -d' ' -f1 /proc/uptime 2>/dev/null)] $*" >&2
  return 0
}
step "stage 1"

KVER=$(cat /etc/kernel-version)
while read -r mod; do
  insmod "/modules/$mod" || die "insmod $mod failed"
done </etc/modules
step "modules loaded"

# The job share first, so that later failures can be reported through it.
# msize: bigger 9p messages, far fewer round trips.
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 tsrunjob "$JOB" ||
  die "cannot mount the job share (9p tag tsrunjob)"
JOBDIR=$JOB
# cache=loose on the read-only root: the guest keeps file pages, so node's
# many small reads of node_modules are not repeated over 9p (host edits made
# during a run may be missed).
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro hostroot /lower ||
  die "cannot mount the host's root (9p tag hostroot)"

step "9p mounted"
mount -t tmpfs -o mode=0755 tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work "$NEW" ||
  die "cannot mount the overlay"

mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$NEW/run" || die "tmpfs /run"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$NEW/tmp" || die "tmpfs /tmp"

# The guest kernel's modules, visible at the usual place so that modprobe
# (and the kernel's own module requests) can load more than the initramfs has.
MODDIR=$(cat "$JOB/modules-dir")
if [ -n "$MODDIR" ] && [ -d "/lower$MODDIR" ]; then
  mkdir -p "$NEW/lib/modules/$KVER"
  mount --bind "/lower$MODDIR" "$NEW/lib/modules/$KVER"
  # The host may have no kmod; busybox's modprobe reads our modules.dep.
  if [ ! -e "$NEW/sbin/modprobe" ] && [ ! -L "$NEW/sbin/modprobe" ]; then
    ln -s /bin/busybox "$NEW/sbin/modprobe"
  fi
fi

# Writable host directories (TSRUN_VM_RW), at their own path in the guest.
# cache=loose here too: the checkout is one of them, and without the guest's
# page cache every node start reads its 120 MB binary over 9p again (TSRUN_VM_RW=checkout:
# `node -e 0` took 10 s, tsrun run 18-62 s). The host does not write to them while
# the guest runs, and stage 2 syncs before poweroff, so nothing is stale or lost.
while read -r tag path; do
  [ -n "$tag" ] || continue
  mkdir -p "$NEW$path"
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose "$tag" "$NEW$path" ||
    die "cannot mount $path (9p tag $tag)"
done <"$JOB/rw"

mkdir -p "$NEW/run/tsrun-vm"
mount --move "$JOB" "$NEW/run/tsrun-vm" || die "cannot move the job share"
JOBDIR=$NEW/run/tsrun-vm

step "moving /proc /sys /dev, then switch_root"
mount --move /proc "$NEW/proc" || die "cannot move /proc"
mount --move /sys "$NEW/sys" || die "cannot move /sys"
mount --move /dev "$NEW/dev" || die "cannot move /dev"

if [ "$CGROUP" = v1 ]; then
  # The hybrid layout systemd mounts on a legacy host,
  # with every v1 controller this kernel has (this machine kind lacks the
  # hugetlb, net_cls and net_prio hierarchies), and an empty cgroup2 at unified.
  mount -t tmpfs -o mode=0755,nosuid,nodev,noexec tmpfs "$NEW/sys/fs/cgroup" || die "tmpfs /sys/fs/cgroup"
  for hierarchy in cpu,cpuacct cpuset memory devices freezer blkio pids hugetlb net_cls,net_prio perf_event rdma; do
    first=${hierarchy%%,*}
    grep -q "^$first[[:space:]]" "$NEW/proc/cgroups" || continue
    mkdir -p "$NEW/sys/fs/cgroup/$hierarchy"
    mount -t cgroup -o "$hierarchy" cgroup "$NEW/sys/fs/cgroup/$hierarchy" || die "cannot mount the v1 $hierarchy hierarchy"
    case $hierarchy in *,*) for name in $(echo "$hierarchy" | tr , ' '); do ln -s "$hierarchy" "$NEW/sys/fs/cgroup/$name"; done ;; esac
  done
  mkdir -p "$NEW/sys/fs/cgroup/systemd" "$NEW/sys/fs/cgroup/unified"
  mount -t cgroup -o none,name=systemd cgroup "$NEW/sys/fs/cgroup/systemd" || die "cannot mount name=systemd"
  mount -t cgroup2 -o nsdelegate cgroup2 "$NEW/sys/fs/cgroup/unified" || die "cannot mount cgroup2 at unified"
else
  # Pure cgroup v2, mounted as systemd does on a cgroup2 host.
  mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 "$NEW/sys/fs/cgroup" ||
    mount -t cgroup2 cgroup2 "$NEW/sys/fs/cgroup" || die "cannot mount cgroup2"
fi

mkdir -p "$NEW/dev/pts" "$NEW/dev/shm" "$NEW/dev/mqueue"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$NEW/dev/pts"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$NEW/dev/shm"
mount -t mqueue mqueue "$NEW/dev/mqueue"
ln -sf /proc/self/fd "$NEW/dev/fd"
ln -sf /proc/self/fd/0 "$NEW/dev/stdin"
ln -sf /proc/self/fd/1 "$NEW/dev/stdout"
ln -sf /proc/self/fd/2 "$NEW/dev/stderr"

[ -x "$NEW/bin/busybox" ] || die "the host has no /bin/busybox (busybox-static)"
# Stage 2 runs from a copy in the new root: with tsrun_vm.init=systemd a
# systemd unit runs it again there.
cp /stage2.sh "$NEW/run/tsrun-vm-stage2.sh" || die "cannot copy stage 2 into the new root"
exec switch_root "$NEW" /bin/busybox sh /run/tsrun-vm-stage2.sh boot "$VERBOSE"
