# Stage 2 of the guest: PID 1 in the new root after switch_root, run by the
# host's /bin/busybox from a copy in the new root's /run (the initramfs is
# gone by now): `sh /run/tsrun-vm-stage2.sh boot|job [verbose]`.
# Runs the job's command with its stdout and stderr on virtio ports, writes
# its exit status to the job share, powers off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
JOB=/run/tsrun-vm
SELF=/run/tsrun-vm-stage2.sh

MODE=$1
VERBOSE=$2

say() { echo "tsrun-vm: $*" >&2; }
step() {
  [ -n "$VERBOSE" ] && echo "tsrun-vm: [$(busybox cut -d' ' -f1 /proc/uptime)] $*" >&2
  return 0
}
step "stage 2"

# The virtio serial port the host named $1, as a /dev path.
port() {
  for p in /sys/class/virtio-ports/*; do
    if [ "$(busybox cat "$p/name" 2>/dev/null)" = "$1" ]; then
      echo "/dev/${p##*/}"
      return 0
    fi
  done
  return 1
}
OUT=$(port tsrun.stdout) && ERR=$(port tsrun.stderr) || {
  say "no virtio serial ports for stdout/stderr; using the console"
  OUT=/dev/console ERR=/dev/console
}

# The job: run the command with its stdout and stderr on the virtio ports,
# write its status to the job share, power off. Called by this shell as PID 1,
# or (tsrun_vm.init=systemd) by a systemd unit.
run_job() {
  # Keep the command script and the status file open, then take the job share
  # out of sight: the command sees a plain /run.
  exec 8<"$JOB/cmd.sh" 9>"$JOB/status"
  busybox umount -l "$JOB" && busybox rmdir "$JOB"

  step "command starts"
  # env -i: the command gets only what cmd.sh exports. The subshell keeps the
  # redirections away from this shell, which reports a killed job ("Killed")
  # on its own stderr: the console, not the command's stderr.
  (exec env -i /bin/bash /proc/self/fd/8 </dev/null >"$OUT" 2>"$ERR" 9>&-)
  rc=$?
  exec 8<&-
  step "command exited"

  # Nothing to drain: a blocking write to a virtio port returns once the host
  # has taken the data.
  echo "$rc" >&9
  exec 9>&-
  sync
  say "exit status $rc"
  busybox poweroff -f
  sleep 5
  echo o >/proc/sysrq-trigger
}

if [ "$MODE" = job ]; then
  run_job
fi

busybox ip link set lo up 2>/dev/null
# As systemd does at boot: securityfs is where AppArmor (enabled by default
# in Debian's kernel) takes its policy and lists its profiles.
busybox mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
# Booted with security=selinux (TSRUN_VM_APPEND): SELinux's own filesystem.
[ -d /sys/fs/selinux ] && busybox mount -t selinuxfs selinuxfs /sys/fs/selinux 2>/dev/null
busybox hostname tsrun-vm

# As on a systemd host: the common controllers are enabled for children of
# the root cgroup. Others (hugetlb, rdma, misc) stay available to enable.
# (Not with v1 hierarchies, whose root is a tmpfs.)
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  for c in cpuset cpu io memory pids; do
    echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
  done
fi

# TSRUN_VM_INIT=systemd on the host adds tsrun_vm.init=systemd: the host's
# systemd becomes PID 1 and runs the job as a service (this script again, as
# `job`), so that the command can talk to a real systemd (its D-Bus API on
# /run/systemd/private, and on the system bus, as podman and dockerd do).
# The target pulls in the job and dbus.socket alone; the job waits for the
# socket, and so for sysinit.target, whose systemd-tmpfiles empties /tmp: a
# bus started on demand later would empty it under the command's feet.
if [ "$MODE" = boot ] && busybox grep -q 'tsrun_vm.init=systemd' /proc/cmdline; then
  [ -x /lib/systemd/systemd ] || { say "tsrun_vm.init=systemd: the host has no /lib/systemd/systemd"; busybox poweroff -f; }
  units=/run/systemd/system
  busybox mkdir -p "$units"
  cat >"$units/tsrun-job.service" <<UNIT
[Unit]
Description=tsrun-vm job
DefaultDependencies=no
After=dbus.socket

[Service]
Type=oneshot
ExecStart=/bin/busybox sh $SELF job $VERBOSE
StandardInput=null
StandardOutput=tty
StandardError=tty
TTYPath=/dev/console
UNIT
  cat >"$units/tsrun-job.target" <<UNIT
[Unit]
Description=tsrun-vm: the job, and the system bus engines talk to systemd on
Requires=tsrun-job.service
Wants=dbus.socket
AllowIsolate=yes
UNIT
  step "exec systemd"
  exec /lib/systemd/systemd --system --unit=tsrun-job.target
fi

run_job
