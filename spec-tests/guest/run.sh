#!/usr/bin/env bash
# The conformance programs this machine kind cannot run (root lacks
# CAP_SYS_RESOURCE; the kernel has no AppArmor; no v1 hugetlb, net_cls or
# net_prio hierarchy; a kernel that ignores kmem limits), run inside a guest of
# .ci/cgroup2-vm, whose root has every capability and whose kernel runs AppArmor:
#
#   TSRUN_VM_RW="$PWD:$scratch" bash .ci/cgroup2-vm/run.sh bash spec-tests/guest/run.sh
#
# $scratch is the suite's scratch directory (built on the host first, by the
# host run); it must be shared at its own path. Writes spec-tests/RESULTS-guest.md,
# or with TSRUN_VM_CGROUP=v1 (the boot with v1 hierarchies) RESULTS-guest-cgroup-v1.md,
# RESULTS-guest-cgroup-v1-kmem.md with TSRUN_VM_KERNEL=ubuntu-5.15 too.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ ${TSRUN_VM_GUEST:-} != 1 ]]; then
  echo "spec-tests/guest/run.sh: run me in the guest: bash .ci/cgroup2-vm/run.sh bash $0" >&2
  exit 2
fi
# A fresh guest has no profile loaded; --skip-cache: nothing to keep.
apparmor_parser --replace --skip-cache spec-tests/guest/acme_secure_profile
# linux_cgroups_network takes the first two of the host's interfaces for its
# priority map, and the guest has only lo: give it a second one (what a host
# with a network card has), or the program indexes past the end of its list.
if [[ $(ls /sys/class/net | wc -l) -lt 2 ]]; then
  modprobe dummy numdummies=0
  ip link add tsrun-dummy0 type dummy
fi
# Under TCG a program takes 5-10 times as long as on the host: linux_cgroups_network
# (32 containers) needed about 7 min with tsrun, past the host's 300 s default.
exec node dist/spec-tests/run-suite.js --guest --timeout 900 "$@"
