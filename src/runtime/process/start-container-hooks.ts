import { closeSync, createReadStream, createWriteStream } from 'node:fs';
import type { Hook, Process, Spec, State } from '../../config/types.js';
import { decodeWaitStatus, errnoMessage, errnoName, pipe, SIGKILL } from '../../linux/kernel.js';
import { findExecutableInProcess } from '../../linux/process/find-executable.js';
import type { Container } from '../container/container.js';
import { HookError } from '../hooks.js';
import { joinContainer, type JoinedProcess } from './exec-conductor.js';

// Enough of a failing hook's output to explain it; the rest is read and dropped.
const OUTPUT_EXCERPT = 4096;

/**
 * config.md: startContainer hooks run during `start`, before the user's
 * program, "in the container namespace"; their path and args are the
 * container's. Each runs as an `exec` process does, so with the container
 * process's identity and confinement (user, capabilities, no_new_privs,
 * seccomp, LSM labels, cgroup, rlimits), as in runc, where the container's
 * own process runs them. It gets the state on stdin and its stdout and
 * stderr are captured, like the runtime-namespace hooks'. The first that
 * fails is thrown as a HookError; the caller stops the container.
 */
export async function runStartContainerHooks(container: Container, spec: Spec): Promise<void> {
  const hooks = spec.hooks?.startContainer ?? [];
  const state = container.state('created');
  for (const [index, hook] of hooks.entries()) await runInContainer(container, spec, hook, index, state);
}

async function runInContainer(container: Container, spec: Spec, hook: Hook, index: number, state: State): Promise<void> {
  const fail = (problem: string, output = '') => new HookError('startContainer', index, hook, output === '' ? problem : `${problem}; output: ${output}`);
  const proc: Process = {
    ...spec.process,
    cwd: spec.process?.cwd ?? '/',
    args: hook.args ?? [hook.path],
    env: hook.env ?? [],
    terminal: false,
  };
  let executable: string;
  try {
    executable = findExecutableInProcess({ ...proc, args: [hook.path] }, container.record.pid);
  } catch {
    throw fail(`could not be run: ${hook.path} is not an executable file in the container`);
  }
  const [stdinRead, stdinWrite] = pipe();
  const [outputRead, outputWrite] = pipe();
  const output = collect(outputRead);
  const stdio = [stdinRead, outputWrite, outputWrite] as const;
  let joined: JoinedProcess;
  try {
    joined = joinContainer(container, spec, proc, 0, state, { executable, stdio });
  } catch (error) {
    closeSync(stdinWrite);
    throw error;
  } finally {
    // The process has its copies: the output reaches EOF when it (and any child of it) is done.
    closeSync(stdinRead);
    closeSync(outputWrite);
  }
  const { puppet } = joined;
  // A hook need not read its stdin: EPIPE is no error (as for the other hooks).
  createWriteStream('', { fd: stdinWrite }).on('error', () => {}).end(JSON.stringify(state));
  const execErrno = puppet.execOutcome();
  puppet.detach();
  if (execErrno !== undefined) {
    puppet.reap();
    throw fail(`could not be run: execve ${executable}: ${errnoName(execErrno)} (${errnoMessage(execErrno)})`);
  }
  let timedOut = false;
  const timer =
    hook.timeout === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          puppet.kill(SIGKILL);
        }, hook.timeout * 1000);
  let status: number;
  try {
    status = await puppet.waitForExit();
  } finally {
    clearTimeout(timer);
  }
  const text = (await output).trim();
  if (timedOut) throw fail(`did not finish within its timeout of ${hook.timeout}s and was killed`, text);
  const { signal, code } = decodeWaitStatus(status);
  if (signal !== 0) throw fail(`was killed by signal ${signal}`, text);
  if (code !== 0) throw fail(`exited with status ${code}`, text);
}

/** Reads a pipe to EOF, keeping the start of what came through. */
function collect(fd: number): Promise<string> {
  return new Promise((resolve) => {
    let kept = '';
    createReadStream('', { fd, encoding: 'utf8' })
      .on('data', (chunk) => {
        if (kept.length < OUTPUT_EXCERPT) kept += String(chunk).slice(0, OUTPUT_EXCERPT - kept.length);
      })
      .on('error', () => resolve(kept))
      .on('close', () => resolve(kept));
  });
}
