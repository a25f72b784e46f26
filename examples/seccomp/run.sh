#!/usr/bin/env bash
# Run a busybox shell under examples/seccomp/default.json, as root:
#   examples/seccomp/run.sh                    # with tsrun
#   RUNTIME=/usr/sbin/runc examples/seccomp/run.sh   # the same bundle with another runtime
# Builds a throwaway bundle from examples/hello/config.json and examples/rootfs, puts the
# profile in linux.seccomp, and runs an ordinary shell script that ends with calls the
# profile denies. Then runs `unshare -U true` once more without the profile, for contrast.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
runtime="${RUNTIME:-$repo/bin/tsrun}"

[[ -x "$repo/examples/rootfs/bin/busybox" ]] || "$repo/examples/make-rootfs.sh" >/dev/null
if [[ "$runtime" == "$repo/bin/tsrun" && ! -e "$repo/dist/cli/main.js" ]]; then
  echo "run.sh: tsrun is not built: run \`npm run build\` first" >&2
  exit 1
fi

work="$(mktemp -d /tmp/tsrun-seccomp-XXXXXX)"
trap 'rm -rf "$work"' EXIT

# The container's script: everyday work first, then what the profile forbids.
read -r -d '' script <<'SCRIPT' || true
grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status
echo "ls /:" $(ls /)
cd /tmp && mkdir -p work/a && echo hello > work/a/f && cat work/a/f | tr a-z A-Z && rm -r work
echo "pid 1: $(ps -o pid,comm | awk '$1 == 1 { print $2 }'); $(id); $(date -u +%Y)"
(sleep 0.2; echo background job done) & wait $!
kill -0 $$ && echo "kill -0 \$\$ ok"
echo "--- denied by the profile (a new user namespace needs no capability):"
unshare -U true; echo "unshare -U: exit $?"
echo "--- the shell is still here: ok"
SCRIPT

# bundle(DIR, SCRIPT, WITH_PROFILE): examples/hello's config, run as root, absolute rootfs.
bundle() {
  mkdir -p "$1"
  node - "$repo" "$1" "$2" "$3" <<'NODE'
const { readFileSync, writeFileSync } = require('node:fs');
const [repo, dir, script, withProfile] = process.argv.slice(2);
const config = JSON.parse(readFileSync(`${repo}/examples/hello/config.json`, 'utf8'));
config.root.path = `${repo}/examples/rootfs`;
config.process.user = { uid: 0, gid: 0 };
config.process.args = ['/bin/sh', '-c', script];
if (withProfile === 'yes') config.linux.seccomp = JSON.parse(readFileSync(`${repo}/examples/seccomp/default.json`, 'utf8'));
writeFileSync(`${dir}/config.json`, JSON.stringify(config, null, 2));
NODE
}

bundle "$work/with" "$script" yes
echo "+ $(basename "$runtime") run --bundle <bundle with examples/seccomp/default.json> sp-demo-$$" >&2
"$runtime" --root "$work/state" run --bundle "$work/with" "sp-demo-$$"

bundle "$work/without" 'unshare -U true && echo "without the profile: unshare -U true works"' no
echo "+ $(basename "$runtime") run --bundle <the same bundle without linux.seccomp> sp-plain-$$" >&2
"$runtime" --root "$work/state" run --bundle "$work/without" "sp-plain-$$"
