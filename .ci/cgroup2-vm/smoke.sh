#!/usr/bin/env bash
# Proves the cgroup2 guest works: pure cgroup v2 with its controllers, exit
# statuses, environment, cwd, writable shares, node, tsrun, and runc putting a
# container in a cgroup with memory and pids limits (smoke-guest.sh). Prints
# the timings it measured. Exits 1 if anything failed.
#   bash .ci/cgroup2-vm/smoke.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

RUN=.ci/cgroup2-vm/run.sh
failures=0
ok() { echo "ok   $*"; }
bad() {
  echo "FAIL $*"
  failures=$((failures + 1))
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

OUT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tsrun-cgroup2-smoke.XXXXXX")
trap 'rm -rf "$OUT_DIR"' EXIT

# Builds what is missing first, so that the timings below are warm ones.
bash .ci/cgroup2-vm/prepare.sh >/dev/null

smoke_controllers() {
  local t0 out rc=0
  t0=$(now_ms)
  out=$(bash "$RUN" cat /sys/fs/cgroup/cgroup.controllers) || rc=$?
  echo "timing run_cat_ms=$(($(now_ms) - t0))"
  if [[ $rc == 0 && " $out " == *" memory "* && " $out " == *" pids "* && " $out " == *" cpu "* && " $out " == *" io "* ]]; then
    ok "cgroup.controllers: $out"
  else
    bad "cgroup.controllers: status $rc, '$out'"
  fi
}

smoke_exit_status() {
  local rc=0
  bash "$RUN" sh -c 'exit 7' || rc=$?
  [[ $rc == 7 ]] && ok "exit status 7 comes back" || bad "exit status: want 7, got $rc"
  rc=0
  bash "$RUN" -- no-such-command-tsrun 2>/dev/null || rc=$?
  [[ $rc == 127 ]] && ok "command not found: 127" || bad "command not found: want 127, got $rc"
}

smoke_streams() {
  local out err rc=0
  out=$(bash "$RUN" sh -c 'printf "out\n"; printf "err\n" >&2' 2>"$OUT_DIR/stderr") || rc=$?
  err=$(cat "$OUT_DIR/stderr")
  [[ $rc == 0 && $out == out && $err == err ]] && ok "stdout and stderr apart" ||
    bad "streams: status $rc, stdout '$out', stderr '$err'"
}

smoke_guest() {
  local t0 rc=0
  t0=$(now_ms)
  SMOKE_COPIED="x y" TSRUN_VM_ENV="SMOKE_LITERAL=a=b SMOKE_COPIED" TSRUN_VM_RW="$OUT_DIR" \
    bash "$RUN" bash .ci/cgroup2-vm/smoke-guest.sh "$(pwd -P)" "$OUT_DIR" || rc=$?
  echo "timing run_guest_checks_ms=$(($(now_ms) - t0))"
  [[ $rc == 0 ]] && ok "guest checks" || bad "guest checks: status $rc"
  [[ $(cat "$OUT_DIR/artefact" 2>/dev/null) == "written in the guest" ]] &&
    ok "file written in the guest reached the host (TSRUN_VM_RW)" || bad "no artefact from the guest"
}

smoke_boot_time() {
  local t0
  t0=$(now_ms)
  bash "$RUN" true
  echo "timing run_true_ms=$(($(now_ms) - t0)) (boot + power off, cached kernel and initramfs)"
}

smoke_boot_time
smoke_controllers
smoke_exit_status
smoke_streams
smoke_guest
if ((failures > 0)); then
  echo "cgroup2-vm smoke: $failures failed"
  exit 1
fi
echo "cgroup2-vm smoke: all passed"
