#!/usr/bin/env bash
# USS of a created, waiting container (between `create` and `start`), tsrun beside runc, on
# one bundle (runc's own `runc spec`, running /bin/true, as bench/run.sh makes it):
#   test/measure-waiting-uss.sh [ROUNDS] [--by-mapping]    (as root; default 5 rounds)
# USS is Private_Clean + Private_Dirty from /proc/<pid>/smaps_rollup, read once `create` has
# returned (tsrun's parent has exited, so nothing is shared with it any more). Prints one
# line per runtime: the median and the range in kB; with --by-mapping, also the mappings of
# the last round that hold private memory (from /proc/<pid>/smaps), largest first.
# Output lines are "name<TAB>median_kB<TAB>min_kB<TAB>max_kB", for bench/ to fold in.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-5}"
by_mapping="${2:-}"
runc=/usr/sbin/runc

[[ -f dist/cli/main.js ]] || npm run --silent build
examples/make-rootfs.sh >/dev/null

work="$(mktemp -d /tmp/tsrun-uss.XXXXXX)"
cleanup() {
  bin/tsrun --root "$work/tsrun" delete --force "uss-t-$$" >/dev/null 2>&1 || true
  "$runc" --root "$work/runc" delete --force "uss-r-$$" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
bundle="$work/bundle"
mkdir -p "$bundle"
cp -a examples/rootfs "$bundle/rootfs"
(cd "$bundle" && "$runc" spec)
node -e '
  const fs = require("fs"); const f = process.argv[1];
  const c = JSON.parse(fs.readFileSync(f, "utf8"));
  c.process.terminal = false; c.process.args = ["/bin/true"];
  fs.writeFileSync(f, JSON.stringify(c));' "$bundle/config.json"

uss() { awk '/^Private_(Clean|Dirty):/ { kb += $2 } END { print kb }' "/proc/$1/smaps_rollup"; }

# Private kB per mapping: each smaps entry starts with its address range and ends at VmFlags.
by_mapping() {
  awk '/^[0-9a-f]+-[0-9a-f]+ / { range = $1; name = ($6 == "" ? "[anon]" : $6); priv = 0; next }
       /^Private_(Clean|Dirty):/ { priv += $2 }
       /^VmFlags:/ { if (priv > 0) printf "  %6d kB  %s %s\n", priv, range, name }' "/proc/$1/smaps" | sort -rn
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] "\t" v[1] "\t" v[NR] }'; }

measure() { # name, create command..., pid command...
  local name=$1 id=$2 kind=$3 values=() pid
  for _ in $(seq "$rounds"); do
    if [[ $kind == tsrun ]]; then
      bin/tsrun --root "$work/tsrun" create -b "$bundle" "$id" </dev/null >/dev/null 2>&1
      pid=$(bin/tsrun --root "$work/tsrun" state "$id" | node -e 'process.stdout.write(String(JSON.parse(require("fs").readFileSync(0, "utf8")).pid))')
    else
      "$runc" --root "$work/runc" create -b "$bundle" "$id" </dev/null >/dev/null 2>&1
      pid=$("$runc" --root "$work/runc" state "$id" | node -e 'process.stdout.write(String(JSON.parse(require("fs").readFileSync(0, "utf8")).pid))')
    fi
    values+=("$(uss "$pid")")
    [[ $by_mapping == --by-mapping ]] && last_map=$(by_mapping "$pid")
    if [[ $kind == tsrun ]]; then
      bin/tsrun --root "$work/tsrun" delete --force "$id" >/dev/null
    else
      "$runc" --root "$work/runc" delete --force "$id" >/dev/null
    fi
  done
  printf '%s\t%s\n' "$name" "$(printf '%s\n' "${values[@]}" | median)"
  [[ $by_mapping == --by-mapping ]] && printf '%s\n' "$last_map"
  return 0
}

echo -e "runtime\tmedian_kB\tmin_kB\tmax_kB"
measure "tsrun waiting USS" "uss-t-$$" tsrun
measure "runc waiting USS" "uss-r-$$" runc
