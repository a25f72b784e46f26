// Bundles the CLI into dist/cli/ with esbuild. A bundle loads in one read
// instead of ~100 ES module resolutions: about 80-100 ms less per command
// (see bench/). Code splitting keeps each command's lazy imports lazy, so
// `state` and `list` still never load koffi. koffi stays external: it
// carries a native addon.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names carry content hashes: without a clean start, every build would
// leave the previous chunks behind. The same goes for V8's code cache of them
// (bin/tsrun points NODE_COMPILE_CACHE there).
rmSync('dist/cli', { recursive: true, force: true });
rmSync('node_modules/.cache/tsrun', { recursive: true, force: true });
await build({
  entryPoints: ['src/cli/main.ts'],
  outdir: 'dist/cli',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  // The oldest Node that runs it: bin/tsrun uses the project's Node 24 LTS,
  // but falls back to `node` on PATH (engines: >= 20.19) where that is missing.
  // For today's sources node20 and node24 give byte-identical output.
  target: 'node20.19',
  // @homebridge/dbus-native too: CommonJS with an optional require (abstract-socket)
  // that is never installed, loaded by the systemd cgroup driver alone.
  external: ['koffi', '@homebridge/dbus-native'],
  logLevel: 'warning',
  plugins: [asciiStringWidth()],
});

/**
 * yargs measures help text with string-width, whose import alone builds an
 * emoji regex and an Intl.Segmenter: about 60 ms of every command's start,
 * for help that is almost never printed (docs/STARTUP.md). tsrun's help is
 * ASCII, where the width of a string is its length once colour codes are
 * stripped; test/unit/cli/bundle-help.test.ts checks that every help text
 * comes out the same as with the real string-width.
 */
function asciiStringWidth() {
  return {
    name: 'ascii-string-width',
    setup(b) {
      b.onResolve({ filter: /^string-width$/ }, () => ({ path: 'string-width', namespace: 'ascii' }));
      b.onLoad({ filter: /.*/, namespace: 'ascii' }, () => ({
        contents: 'export default (s) => typeof s === "string" ? s.replace(/\\u001b\\[[0-9;]*m/g, "").length : 0;',
        loader: 'js',
      }));
    },
  };
}
