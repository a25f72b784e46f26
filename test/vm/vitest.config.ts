import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests that need a pure cgroup v2 host (all controllers). This machine is
// hybrid, so they run in the qemu guest of .ci/cgroup2-vm:
//   npm run build && bash .ci/cgroup2-vm/run.sh npx vitest run --config test/vm/vitest.config.ts
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['test/vm/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
