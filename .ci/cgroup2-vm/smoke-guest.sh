#!/usr/bin/env bash
# The guest half of smoke.sh: runs inside the VM (through run.sh) and checks
# what can only be seen from there. Prints "ok ..." / "FAIL ..." lines and
# "timing ..." lines; exits non-zero if any check failed.
#   smoke-guest.sh <expected cwd> <writable host dir shared with TSRUN_VM_RW>
set -uo pipefail

EXPECTED_CWD=$1
OUT_DIR=$2
failures=0

ok() { echo "ok   $*"; }
bad() {
  echo "FAIL $*"
  failures=$((failures + 1))
}
check() {
  local what=$1 want=$2 got=$3
  if [[ $got == "$want" ]]; then ok "$what: $got"; else bad "$what: want '$want', got '$got'"; fi
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

check_environment() {
  check "cwd" "$EXPECTED_CWD" "$(pwd)"
  check "HOME" /root "${HOME:-}"
  check "TSRUN_VM_GUEST" 1 "${TSRUN_VM_GUEST:-}"
  check "TSRUN_VM_ENV literal" "a=b" "${SMOKE_LITERAL:-}"
  check "TSRUN_VM_ENV copied" "x y" "${SMOKE_COPIED:-}"
  check "uid" 0 "$(id -u)"
}

check_cgroup2() {
  check "/sys/fs/cgroup type" cgroup2fs "$(stat -f -c %T /sys/fs/cgroup)"
  check "mounts below /sys/fs/cgroup" "" "$(awk '$2 ~ "^/sys/fs/cgroup/" {print $2}' /proc/mounts)"
  local c controllers
  controllers=$(cat /sys/fs/cgroup/cgroup.controllers)
  for c in cpu io memory pids; do
    [[ " $controllers " == *" $c "* ]] && ok "controller $c" || bad "controller $c missing: $controllers"
  done
  echo "$controllers" >"$OUT_DIR/controllers"
}

check_node_and_tsrun() {
  local t0 t1 version
  t0=$(now_ms)
  version=$(node -e 'console.log(process.version)') && ok "node $version" || bad "node failed"
  t1=$(now_ms)
  echo "timing node_first_ms=$((t1 - t0))"
  t0=$(now_ms)
  node -e 1
  t1=$(now_ms)
  echo "timing node_e_1_warm_ms=$((t1 - t0))"
  t0=$(now_ms)
  if version=$(/work/main/bin/tsrun --version 2>&1); then
    ok "tsrun --version: $(head -n1 <<<"$version")"
  else
    bad "tsrun --version: $version"
  fi
  t1=$(now_ms)
  echo "timing tsrun_version_ms=$((t1 - t0))"
}

# A runc bundle on the guest's tmpfs, from the busybox example rootfs, with
# memory and pids limits. Edited with node: jq may not be installed.
make_bundle() {
  local dir=$1
  shift
  mkdir -p "$dir"
  cp -a /work/main/examples/rootfs "$dir/rootfs"
  (cd "$dir" && runc spec)
  node -e '
    const fs = require("fs");
    const [file, ...args] = process.argv.slice(1);
    const c = JSON.parse(fs.readFileSync(file, "utf8"));
    c.process.terminal = false;
    c.process.args = args;
    c.linux.resources = { memory: { limit: 33554432 }, pids: { limit: 16 } };
    fs.writeFileSync(file, JSON.stringify(c, null, 2));
  ' "$dir/config.json" "$@"
}

check_runc_limits() {
  if ! command -v runc >/dev/null; then
    bad "runc is not installed on the host (.ci/install-deps.sh installs it)"
    return
  fi
  if [[ ! -x /work/main/examples/rootfs/bin/busybox ]]; then
    bad "examples/rootfs is missing (examples/make-rootfs.sh makes it)"
    return
  fi
  make_bundle /tmp/smoke sleep 60
  if (cd /tmp/smoke && runc create smoke); then
    check "runc cgroup memory.max" 33554432 "$(cat /sys/fs/cgroup/smoke/memory.max 2>&1)"
    check "runc cgroup pids.max" 16 "$(cat /sys/fs/cgroup/smoke/pids.max 2>&1)"
    check "runc cgroup procs" "$(runc state smoke | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')" \
      "$(cat /sys/fs/cgroup/smoke/cgroup.procs 2>&1)"
    runc delete -f smoke
  else
    bad "runc create failed"
  fi

  # Enforcement, not only the file: dd's 64 MiB buffer in a 32 MiB cgroup.
  make_bundle /tmp/smoke-oom dd if=/dev/zero of=/dev/null bs=64M count=1
  local rc=0
  (cd /tmp/smoke-oom && runc run smoke-oom 2>&1) || rc=$?
  check "runc run over the memory limit (OOM kill: 137)" 137 "$rc"
}

check_environment
check_cgroup2
check_node_and_tsrun
check_runc_limits
echo "written in the guest" >"$OUT_DIR/artefact"
exit $((failures > 0))
