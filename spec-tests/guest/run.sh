#!/usr/bin/env bash
# The conformance programs this machine kind cannot run (root lacks
# CAP_SYS_RESOURCE; the kernel has no AppArmor), run inside the cgroup2 guest,
# whose root has every capability and whose kernel runs AppArmor:
#
#   TSRUN_VM_RW="$PWD:$scratch" bash .ci/cgroup2-vm/run.sh bash spec-tests/guest/run.sh
#
# $scratch is the suite's scratch directory (built on the host first, by the
# host run); it must be shared at its own path. Writes spec-tests/RESULTS-guest.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ ${TSRUN_VM_GUEST:-} != 1 ]]; then
  echo "spec-tests/guest/run.sh: run me in the guest: bash .ci/cgroup2-vm/run.sh bash $0" >&2
  exit 2
fi
# A fresh guest has no profile loaded; --skip-cache: nothing to keep.
apparmor_parser --replace --skip-cache spec-tests/guest/acme_secure_profile
exec node dist/spec-tests/run-suite.js --guest "$@"
