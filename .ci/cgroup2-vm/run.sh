#!/usr/bin/env bash
# Runs one command as root in a Linux guest whose cgroups are pure v2, with
# the host's root as its root (read-only 9p, tmpfs overlay on top). This host
# is hybrid: cgroup2 has no memory/cpu/pids/io controllers here (FIELD-NOTES §6).
#
#   bash .ci/cgroup2-vm/run.sh [--] <command> [args...]
#
# The command's stdout and stderr stream to ours; we exit with its status.
# Harness failures: 124 timeout, 125 the guest did not boot, panicked or
# stopped without a status (a message on stderr says which).
#
# Environment:
#   TSRUN_VM_TIMEOUT  seconds before qemu is killed (default 1800)
#   TSRUN_VM_APPEND   more kernel command line parameters, e.g.
#                     "security=selinux selinux=1 enforcing=0" (SELinux, not AppArmor)
#   TSRUN_VM_CGROUP  v1: cgroup v1 hierarchies (every controller, name=systemd,
#                     an empty cgroup2 at unified) instead of pure cgroup v2
#   TSRUN_VM_KERNEL   debian (default) or ubuntu-5.15 (prepare.sh)
#   TSRUN_VM_INIT     systemd: the host's systemd is PID 1 and runs the command
#                     as a service (pure cgroup v2 only)
#   TSRUN_VM_ENV      space-separated NAME=value or NAME (copied from ours)
#                     to export in the guest; PATH is always copied, HOME=/root
#   TSRUN_VM_RW       colon-separated host directories mounted writable at the
#                     same path in the guest (to get files out, or to see a
#                     host /tmp directory, which the guest's fresh /tmp hides)
#   TSRUN_VM_VERBOSE  1: copy the guest's console to stderr, print timings
#   TSRUN_VM_KEEP     1: keep the temporary directory (console log, job files)
#   TSRUN_VM_CACHE    kernel and initramfs cache (see prepare.sh)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd -P)
TIMEOUT=${TSRUN_VM_TIMEOUT:-1800}
VERBOSE=${TSRUN_VM_VERBOSE:-0}
EXIT_TIMEOUT=124
EXIT_GUEST=125

TMP=
QEMU_PID=
READERS=()

log() { echo "cgroup2-vm: $*" >&2; }
die() {
  log "$*"
  exit "$EXIT_GUEST"
}
usage() {
  echo "usage: $0 [--] <command> [args...]" >&2
  exit 2
}

# qemu's option parser splits on commas; a literal comma is written twice.
qemu_escape() { printf '%s' "${1//,/,,}"; }

cleanup() {
  local pid
  # QEMU_PID is timeout(1), which passes the signal on to qemu and waits.
  if [[ -n $QEMU_PID ]]; then
    kill "$QEMU_PID" 2>/dev/null || true
    wait "$QEMU_PID" 2>/dev/null || true
  fi
  for pid in "${READERS[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [[ -n $TMP ]]; then
    if [[ ${TSRUN_VM_KEEP:-0} == 1 ]]; then
      log "kept $TMP"
    else
      rm -rf "$TMP"
    fi
  fi
}

on_signal() {
  log "interrupted; stopping the guest"
  exit "$1"
}

# Writes the job for the guest into $TMP/share: cmd.sh (run by bash in the
# guest with an empty environment), the module tree's path, the rw shares.
write_job() {
  local share=$1 moddir=$2
  shift 2
  local cwd name value word words=()
  cwd=$(pwd -P)
  {
    # Stage 2 hands this script over as fd 8; the command must not inherit it.
    echo 'exec 8<&-'
    printf 'export HOME=/root PATH=%q TSRUN_VM_GUEST=1\n' "$PATH"
    read -r -a words <<<"${TSRUN_VM_ENV:-}"
    for word in "${words[@]}"; do
      if [[ $word == *=* ]]; then
        name=${word%%=*}
        value=${word#*=}
      else
        name=$word
        [[ -v $name ]] || continue
        value=${!name}
      fi
      [[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "TSRUN_VM_ENV: bad variable name '$name'"
      printf 'export %s=%q\n' "$name" "$value"
    done
    printf 'cd -- %q || { echo %q >&2; exit %d; }\n' "$cwd" \
      "cgroup2-vm: cannot cd to $cwd in the guest (its /tmp and /run are empty tmpfs; share a host directory with TSRUN_VM_RW)" \
      "$EXIT_GUEST"
    printf 'exec --'
    printf ' %q' "$@"
    echo
  } >"$share/cmd.sh"
  printf '%s\n' "$moddir" >"$share/modules-dir"
  : >"$share/rw"
}

# Adds a -virtfs per TSRUN_VM_RW directory to the array QEMU_RW and lists them
# for the guest.
QEMU_RW=()
add_rw_shares() {
  local share=$1 dir path i=0 dirs=()
  IFS=: read -r -a dirs <<<"${TSRUN_VM_RW:-}"
  for dir in "${dirs[@]}"; do
    [[ -n $dir ]] || continue
    [[ -d $dir ]] || die "TSRUN_VM_RW: $dir is not a directory"
    path=$(cd "$dir" && pwd -P)
    [[ $path != *$'\n'* ]] || die "TSRUN_VM_RW: newline in $dir"
    [[ $path != / ]] || die "TSRUN_VM_RW: / cannot be shared writable"
    QEMU_RW+=(-virtfs "local,path=$(qemu_escape "$path"),mount_tag=rw$i,security_model=none,multidevs=remap")
    printf 'rw%d %s\n' "$i" "$path" >>"$share/rw"
    i=$((i + 1))
  done
}

# One reader per fifo (console, stdout, stderr): qemu's open of a fifo waits
# for a reader.
start_readers() {
  mkfifo "$TMP/console" "$TMP/stdout" "$TMP/stderr"
  cat "$TMP/stdout" &
  READERS+=($!)
  cat "$TMP/stderr" >&2 &
  READERS+=($!)
  if [[ $VERBOSE == 1 ]]; then
    tee "$TMP/console.log" <"$TMP/console" >&2 &
  else
    cat "$TMP/console" >"$TMP/console.log" &
  fi
  READERS+=($!)
}

# After qemu is gone: a reader still waiting in open() (qemu died before
# opening its fifo) gets a writer that closes at once; the others drain.
stop_readers() {
  local pid fifo i=0
  for fifo in stdout stderr console; do
    pid=${READERS[$i]}
    i=$((i + 1))
    if kill -0 "$pid" 2>/dev/null; then
      timeout 2 bash -c ': >"$1"' _ "$TMP/$fifo" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  READERS=()
}

console_tail() {
  [[ -s $TMP/console.log ]] || return 0
  log "last lines of the guest console:"
  tail -n 25 "$TMP/console.log" | tr -d '\r' | sed 's/^/  | /' >&2
}

run_qemu() {
  local kernel=$1 initrd=$2 share=$3
  local chr="security_model=none,multidevs=remap" append="console=ttyS0 quiet panic=-1"
  [[ $VERBOSE == 1 ]] && append+=" tsrun_vm.verbose"
  [[ ${TSRUN_VM_CGROUP:-v2} == v1 ]] && append+=" tsrun_vm.cgroup=v1"
  [[ ${TSRUN_VM_INIT:-} == systemd ]] && append+=" tsrun_vm.init=systemd"
  [[ -n ${TSRUN_VM_APPEND:-} ]] && append+=" $TSRUN_VM_APPEND"
  # TCG, not KVM: guests hang under KVM on this host (FIELD-NOTES §6).
  # -cpu max: the newest x86 features TCG emulates (node's code uses them).
  # -nodefaults: no NIC, VGA or default serial port. ttyS0 is the console;
  # the command's stdout and stderr are virtio serial ports (named
  # tsrun.stdout, tsrun.stderr): about 100 times faster than a 8250 UART
  # under TCG, and not ttys, so the command sees no terminal.
  timeout -k 10 "$TIMEOUT" qemu-system-x86_64 \
    -accel tcg -cpu max -m 2048 -smp 2 -nographic -nodefaults -no-reboot \
    -kernel "$kernel" -initrd "$initrd" \
    -append "$append" \
    -virtfs "local,path=/,mount_tag=hostroot,$chr,readonly=on" \
    -virtfs "local,path=$(qemu_escape "$share"),mount_tag=tsrunjob,$chr" \
    "${QEMU_RW[@]}" \
    -chardev "file,id=console,path=$(qemu_escape "$TMP/console")" -serial chardev:console \
    -device virtio-serial-pci,id=vser \
    -chardev "file,id=out,path=$(qemu_escape "$TMP/stdout")" \
    -device virtserialport,bus=vser.0,chardev=out,name=tsrun.stdout \
    -chardev "file,id=err,path=$(qemu_escape "$TMP/stderr")" \
    -device virtserialport,bus=vser.0,chardev=err,name=tsrun.stderr \
    </dev/null >"$TMP/qemu.log" 2>&1 &
  QEMU_PID=$!
  local rc=0
  wait "$QEMU_PID" || rc=$?
  QEMU_PID=
  return "$rc"
}

# The command's status from the share, else from the console marker.
guest_status() {
  local status=
  [[ -f $1/status ]] && status=$(tr -dc '0-9' <"$1/status")
  if [[ -z $status && -f $TMP/console.log ]]; then
    status=$(tr -d '\r' <"$TMP/console.log" | sed -n 's/^tsrun-vm: exit status \([0-9]*\)$/\1/p' | tail -n1)
  fi
  echo "$status"
}

main() {
  [[ ${1:-} == -- ]] && shift
  (($# > 0)) || usage
  [[ $TIMEOUT =~ ^[0-9]+$ ]] || die "TSRUN_VM_TIMEOUT must be a number of seconds"
  # qemu would read a comma as an option separator; the kernel wants no quotes here.
  [[ ${TSRUN_VM_CGROUP:-v2} =~ ^v[12]$ ]] || die "TSRUN_VM_CGROUP: v1 or v2"
  [[ ${TSRUN_VM_INIT:-} =~ ^(systemd)?$ ]] || die "TSRUN_VM_INIT: systemd or nothing"
  [[ ${TSRUN_VM_INIT:-} != systemd || ${TSRUN_VM_CGROUP:-v2} == v2 ]] || die "TSRUN_VM_INIT=systemd needs TSRUN_VM_CGROUP=v2"
  [[ ${TSRUN_VM_APPEND:-} =~ ^[A-Za-z0-9_.=\ -]*$ ]] || die "TSRUN_VM_APPEND: only letters, digits, _ . = - and spaces"

  export TSRUN_VM_KERNEL=${TSRUN_VM_KERNEL:-debian}

  local prepared kernel initrd moddir
  prepared=$(bash "$HERE/prepare.sh") || die "preparing the guest failed"
  kernel=$(sed -n 's/^kernel //p' <<<"$prepared")
  initrd=$(sed -n 's/^initrd //p' <<<"$prepared")
  moddir=$(sed -n 's/^modules //p' <<<"$prepared")

  trap cleanup EXIT
  trap 'on_signal 129' HUP
  trap 'on_signal 130' INT
  trap 'on_signal 143' TERM
  TMP=$(mktemp -d "${TMPDIR:-/tmp}/tsrun-cgroup2-vm.XXXXXX")
  local share=$TMP/share
  mkdir "$share"
  write_job "$share" "$moddir" "$@"
  add_rw_shares "$share"
  start_readers

  local start rc=0 status
  start=$(date +%s%N)
  run_qemu "$kernel" "$initrd" "$share" || rc=$?
  stop_readers
  if [[ $VERBOSE == 1 ]]; then
    log "qemu ran for $((($(date +%s%N) - start) / 1000000)) ms"
  fi

  status=$(guest_status "$share")
  if [[ -n $status ]]; then
    exit "$status"
  fi
  if ((rc == 124 || rc == 137)); then
    console_tail
    log "timed out after ${TIMEOUT}s (TSRUN_VM_TIMEOUT); qemu was killed"
    exit "$EXIT_TIMEOUT"
  fi
  console_tail
  [[ -s $TMP/qemu.log ]] && sed 's/^/cgroup2-vm: qemu: /' "$TMP/qemu.log" >&2
  # The guest's init says why it gave up: in the share once it is mounted,
  # on the console always.
  local why=
  [[ -s $share/boot-error ]] && why=$(head -n1 "$share/boot-error")
  [[ -n $why ]] || why=$(tr -d '\r' <"$TMP/console.log" 2>/dev/null | sed -n 's/^tsrun-vm: boot failed: //p' | tail -n1)
  [[ -z $why ]] || die "the guest failed to boot: $why"
  if grep -q 'Kernel panic' "$TMP/console.log" 2>/dev/null; then
    die "the guest kernel panicked"
  fi
  die "the guest stopped without an exit status (qemu exit code $rc)"
}

main "$@"
