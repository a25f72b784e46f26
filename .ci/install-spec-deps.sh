#!/usr/bin/env bash
# Installs, when missing, what the conformance harness (spec-tests/) needs on a fresh Debian 12
# machine, as root: runc (the reference runtime) from Debian, and a check that Go is there (it is
# preinstalled in /usr/local/go; the harness fetches and builds the suite with it at test time).
# Idempotent and quiet: prints only what it changes, and errors.
set -euo pipefail

fail() {
  echo "install-spec-deps: $*" >&2
  exit 1
}

[[ $(id -u) -eq 0 ]] || fail "run as root (apt-get, and the suite itself, need it)"

# tar unpacks the suite's rootfs into each bundle; umount clears mounts a crashed container leaves.
for tool in tar umount; do
  command -v "$tool" >/dev/null || fail "$tool is missing from this machine"
done

if ! command -v runc >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  # Refresh the package lists only when they do not know runc (a fresh image ships without lists).
  if ! apt-cache show runc >/dev/null 2>&1; then
    apt-get update -qq
  fi
  apt-get install -y -qq --no-install-recommends runc >/dev/null
  echo "install-spec-deps: installed $(runc --version | head -n 1)"
fi

if ! command -v go >/dev/null; then
  [[ -x /usr/local/go/bin/go ]] ||
    fail "Go is not installed: expected it on PATH or at /usr/local/go/bin/go (the suite is built from source)"
  # The harness looks there too; other tools will want it on PATH.
  echo "install-spec-deps: Go found at /usr/local/go/bin/go but not on PATH (export PATH=\$PATH:/usr/local/go/bin)" >&2
fi
