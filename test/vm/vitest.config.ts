import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests that need a kernel this machine kind does not run: a pure cgroup v2
// host (all controllers), AppArmor, SELinux; or systemd as PID 1. They run in the qemu guest of
// .ci/cgroup2-vm, SELinux in a boot of its own (a kernel runs one of the two):
//   npm run build && bash .ci/cgroup2-vm/run.sh npx vitest run --config test/vm/vitest.config.ts cgroup-limits apparmor
//   TSRUN_VM_APPEND="security=selinux selinux=1 enforcing=0" bash .ci/cgroup2-vm/run.sh npx vitest run --config test/vm/vitest.config.ts selinux
//   TSRUN_VM_INIT=systemd bash .ci/cgroup2-vm/run.sh npx vitest run --config test/vm/vitest.config.ts systemd-cgroup
// Elsewhere a file skips, saying why, unless TSRUN_VM_REQUIRE names it (skip-unless-required.ts).
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['test/vm/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
