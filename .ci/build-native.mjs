// Builds ffi/native/*.c, the C that tsrun cannot do without (docs/process.md,
// "The real-time signals"), into dist/native/ as shared objects that koffi
// loads. With no C compiler the build goes on without them and says so:
// tsrun then runs, but does not pass the real-time signals on.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';

const sources = readdirSync('ffi/native').filter((f) => f.endsWith('.c'));
mkdirSync('dist/native', { recursive: true });
for (const source of sources) {
  const output = `dist/native/${source.replace(/\.c$/, '.so')}`;
  const cc = process.env.CC ?? 'cc';
  const result = spawnSync(cc, ['-std=c11', '-D_POSIX_C_SOURCE=200809L', '-O2', '-Wall', '-Wextra', '-Werror', '-shared', '-fPIC', '-o', output, `ffi/native/${source}`], {
    stdio: 'inherit',
  });
  if (result.error !== undefined && result.error.code === 'ENOENT') {
    console.warn(`build-native: no C compiler (${cc}): ${output} not built, so a foreground run or exec does not pass real-time signals on (.ci/install-deps.sh installs gcc)`);
    continue;
  }
  if (result.status !== 0) process.exit(result.status ?? 1);
}
