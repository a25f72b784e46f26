#!/usr/bin/env bash
# One container lifecycle as an engine drives it, step by step:
#   bench/lifecycle.sh RUNTIME ROOT BUNDLE ID PIDFILE
# create, start, wait until the container's process has exited, delete. Exits non-zero
# (with the failing step on stderr) when any step fails. bench/run.sh times it whole, once
# per runtime, and runs 50 at a time for the parallel round; both runtimes pay the same
# bash start (a few ms).
set -euo pipefail
rt=$1 root=$2 bundle=$3 id=$4 pidfile=$5

"$rt" --root "$root" create --bundle "$bundle" --pid-file "$pidfile" "$id"
pid=$(<"$pidfile")
"$rt" --root "$root" start "$id"

# Wait the way a subreaper would learn it, without one: the process is gone, or a zombie
# (state Z, waiting for pid 1 to reap it). Polled every millisecond with bash builtins only
# (read -t on a pipe nobody writes to is a sleep without a fork), so 50 waiters in parallel
# do not take the CPU from the runtimes they wait for.
exec {nap}<> <(:)
deadline=$((SECONDS + 60))
while { read -r stat <"/proc/$pid/stat"; } 2>/dev/null; do
  state=${stat##*) }
  [[ ${state%% *} == [ZX] ]] && break
  if ((SECONDS > deadline)); then
    echo "lifecycle: $id (pid $pid) still running after 60 s" >&2
    exit 1
  fi
  read -r -t 0.001 -u "$nap" _ || true
done

"$rt" --root "$root" delete "$id"
rm -f "$pidfile"
