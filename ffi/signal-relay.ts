import { closeSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { O } from './constants.js';
import { koffi } from './koffi.js';
import { lastErrno, libc } from './libc.js';
import { SyscallError } from './syscall-error.js';

/**
 * The real-time signals for Node, through the C helper ffi/native/signal-relay.c
 * (built by `npm run build` into dist/native/): its handler writes each
 * signal's number into a pipe, which Node reads like any stream.
 */
export interface SignalRelayPipe {
  /** The signals' earlier actions back, then the pipe closed: a signal from now on acts on tsrun itself. */
  stop(): void;
}

// From a chunk of the bundle (dist/cli/) or from this source file (ffi/), as tests load it.
const CANDIDATES = ['../native/signal-relay.so', '../dist/native/signal-relay.so'].map((p) => fileURLToPath(new URL(p, import.meta.url)));

/** Where the helper was built, or undefined when it was not (no C compiler at build time). */
export function signalRelayLibrary(): string | undefined {
  return CANDIDATES.find((path) => existsSync(path));
}

/**
 * Catch signals first..last and call `onSignal` with each one's number, from
 * Node's event loop. Undefined when the helper was not built. The pipe does
 * not keep tsrun alive.
 */
export function relaySignals(first: number, last: number, onSignal: (signal: number) => void): SignalRelayPipe | undefined {
  const path = signalRelayLibrary();
  if (path === undefined) return undefined;
  const lib = koffi().load(path);
  const relay = lib.func('int tsrun_relay_signals(int fd, int first, int last)');
  const restore = lib.func('int tsrun_restore_signals(void)');
  const fds = [0, 0];
  // Non-blocking: the handler must never wait on a full pipe.
  if (libc().pipe2(fds, O.CLOEXEC | O.NONBLOCK) !== 0) throw new SyscallError('pipe2', lastErrno());
  const [readEnd, writeEnd] = fds as [number, number];
  const { Socket } = process.getBuiltinModule('node:net');
  const socket = new Socket({ fd: readEnd, readable: true, writable: false });
  socket.on('data', (bytes: Buffer) => {
    for (const signal of bytes) onSignal(signal);
  });
  socket.unref();
  const failed = relay(writeEnd, first, last) as number;
  const stop = () => {
    restore();
    socket.destroy();
    closeSync(writeEnd);
  };
  if (failed !== 0) {
    stop();
    throw new SyscallError('sigaction', -failed, `catching signals ${first}-${last}`);
  }
  return { stop };
}
