// Runs a command on a node over its transport (ssh, tailscale-ssh, local): the one NodeRunner.
//
// - Every process is started in its own process group (`detached: true`); cancel and timeout kill
//   the whole group (SIGTERM, then SIGKILL after a grace period), so a grandchild holding the pipe
//   cannot keep us waiting. After the process exits, its pipes get a short grace to drain.
// - ssh never prompts (BatchMode) and has a connect timeout (the node's ssh.connectTimeout).
// - One connection per node: before the first command the runner opens an OpenSSH master
//   (`ssh -M -N -f`, memoized, so parallel first commands never race) on a control socket in a
//   private folder; commands then go over it (`ControlMaster=auto`: if the master has gone away,
//   the next command opens a new one). close() stops the master (`ssh -O exit`).
// - Cancelling kills the local side only: a remote command without a terminal is not signalled
//   by sshd; it ends when it next writes to its closed output. (deploy.sh's lock keeps a second
//   run away meanwhile.)
// - Failures of the transport are classified (classifyFailure) into RunResult.unreachable.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { constants } from 'node:os';
import { execa, type ResultPromise } from 'execa';
import type { NodeSpec } from '../../core/inventory/model.js';
import { controlArgv, masterArgv, transportArgv, type TransportArgv } from '../../core/remote/argv.js';
import { classifyFailure, type Unreachable } from '../../core/remote/unreachable.js';
import { controlPathFor, defaultControlDir, ensurePrivateDir } from './control-path.js';
import { createLineSplitter } from './line-splitter.js';
import type { NodeRunner, RunOptions, RunResult } from './types.js';

export interface RunnerOptions {
  /** Folder for control sockets (default /tmp/homelab-ssh-<uid>); keep the path short. */
  readonly controlDir?: string;
  /** Variables added to (or overriding) the environment of ssh, tailscale or the local command. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Milliseconds between SIGTERM and SIGKILL of a cancelled process group. */
const KILL_GRACE_MS = 1500;
/** Milliseconds the pipes may stay open after the process exited (a grandchild holding them). */
const DRAIN_GRACE_MS = 500;
/** Bytes of stderr kept for classifying a failure. */
const STDERR_TAIL = 16_384;
/** Longest socket path we accept: sun_path is 104-108 bytes and ssh appends a 17-byte suffix while binding. */
const MAX_CONTROL_PATH = 86;

interface Spawned {
  readonly exitCode: number | null;
  readonly spawnError?: string;
  readonly stderrTail: string;
  readonly cancelled: boolean;
  readonly timedOut: boolean;
}

interface SpawnOptions {
  readonly env: NodeJS.ProcessEnv | undefined;
  readonly input?: string;
  readonly onStdout?: (line: string) => void;
  readonly onStderr?: (line: string) => void;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  /** Ignore stdout (the master: its stdout is not ours to read). */
  readonly quiet?: boolean;
}

export function createRunner(node: NodeSpec, opts: RunnerOptions = {}): NodeRunner {
  if (node.transport === 'local') return localRunner(node, opts);
  return sshRunner(node, opts);
}

function localRunner(node: NodeSpec, opts: RunnerOptions): NodeRunner {
  return {
    async run(argv, options = {}) {
      const started = Date.now();
      const spawned = await spawnGroup(transportArgv(node, argv), { ...options, env: opts.env });
      return toResult(node, spawned, started);
    },
    async close() {},
  };
}

function sshRunner(node: NodeSpec, opts: RunnerOptions): NodeRunner {
  const dir = opts.controlDir ?? defaultControlDir();
  const controlPath = controlPathFor(node, dir);
  if (controlPath.length > MAX_CONTROL_PATH) {
    throw new Error(`control socket path ${controlPath} is ${controlPath.length} bytes; the limit is ${MAX_CONTROL_PATH}: use a shorter controlDir`);
  }
  let master: Promise<Unreachable | undefined> | undefined;
  let closed = false;

  const masterAlive = async (): Promise<boolean> =>
    existsSync(controlPath) && (await spawnGroup(controlArgv(node, controlPath, 'check'), { env: opts.env, quiet: true, timeoutMs: 5000 })).exitCode === 0;

  const openMaster = async (): Promise<Unreachable | undefined> => {
    await ensurePrivateDir(dir);
    if (existsSync(controlPath)) {
      if (await masterAlive()) return undefined;
      await rm(controlPath, { force: true });
    }
    // Bounded: connect timeout plus the login itself.
    const timeoutMs = node.ssh.connectTimeout * 2000 + 10_000;
    const spawned = await spawnGroup(masterArgv(node, controlPath), { env: opts.env, quiet: true, timeoutMs });
    if (spawned.exitCode === 0) return undefined;
    if (spawned.timedOut) return { reason: 'timeout', message: `opening the connection to ${node.address} took over ${timeoutMs / 1000} s` };
    return (
      classifyFailure({ transport: node.transport, exitCode: spawned.exitCode, stderr: spawned.stderrTail, spawnError: spawned.spawnError }) ?? {
        reason: 'unknown',
        message: `could not open the connection to ${node.address} (exit ${spawned.exitCode ?? 'none'}): ${lastLine(spawned.stderrTail) ?? 'no message'}`,
      }
    );
  };

  /** Memoized while the master lives; a failure is not kept, so the next command tries again. */
  let open = false;
  const ensureMaster = (): Promise<Unreachable | undefined> => {
    // An open master that has gone since (ControlPersist expired, killed): open a new one.
    if (master && open && !existsSync(controlPath)) master = undefined;
    if (!master) {
      open = false;
      const attempt = openMaster();
      master = attempt;
      attempt.then(
        (failure) => {
          if (master !== attempt) return;
          if (failure) master = undefined;
          else open = true;
        },
        () => {
          if (master === attempt) master = undefined;
        },
      );
    }
    return master;
  };

  return {
    async run(argv, options = {}) {
      const started = Date.now();
      if (closed) throw new Error(`runner for ${node.name} is closed`);
      const failure = await raceSignal(ensureMaster(), options.signal, options.timeoutMs);
      if (failure === 'cancelled' || failure === 'timed-out') {
        return { exitCode: null, cancelled: failure === 'cancelled', timedOut: failure === 'timed-out', durationMs: Date.now() - started };
      }
      if (failure) return { exitCode: null, cancelled: false, timedOut: false, unreachable: failure, durationMs: Date.now() - started };
      const remaining = options.timeoutMs === undefined ? undefined : Math.max(1, options.timeoutMs - (Date.now() - started));
      const spawned = await spawnGroup(transportArgv(node, argv, { controlPath }), { ...options, timeoutMs: remaining, env: opts.env });
      const result = toResult(node, spawned, started);
      // A multiplexed client whose master died exits 255 without a word: tell that apart from a
      // remote command that exited 255 by asking the master.
      if (result.exitCode === 255 && !result.unreachable && !(await masterAlive())) {
        return { ...result, exitCode: null, unreachable: { reason: 'connection-lost', message: `the connection to ${node.address} closed while the command ran: the node may have rebooted or lost the network; run the command again` } };
      }
      return result;
    },
    async close() {
      if (closed) return;
      closed = true;
      const pending = master;
      master = undefined;
      if (pending) await pending.catch(() => undefined);
      if (existsSync(controlPath)) {
        await spawnGroup(controlArgv(node, controlPath, 'exit'), { env: opts.env, quiet: true, timeoutMs: 5000 });
      }
    },
  };
}

function toResult(node: NodeSpec, s: Spawned, started: number): RunResult {
  const durationMs = Date.now() - started;
  if (s.cancelled || s.timedOut) return { exitCode: null, cancelled: s.cancelled, timedOut: s.timedOut, durationMs };
  const unreachable = classifyFailure({ transport: node.transport, exitCode: s.exitCode, stderr: s.stderrTail, spawnError: s.spawnError });
  const ranRemote = unreachable === undefined || unreachable.reason === 'command-not-found';
  return { exitCode: ranRemote ? s.exitCode : null, cancelled: false, timedOut: false, ...(unreachable ? { unreachable } : {}), durationMs };
}

/** Waits for `work`, unless the signal aborts or the deadline passes first. */
async function raceSignal<T>(work: Promise<T>, signal: AbortSignal | undefined, timeoutMs: number | undefined): Promise<T | 'cancelled' | 'timed-out'> {
  if (signal?.aborted) return 'cancelled';
  if (!signal && timeoutMs === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<'cancelled' | 'timed-out'>((resolve) => {
    onAbort = () => resolve('cancelled');
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined) timer = setTimeout(() => resolve('timed-out'), timeoutMs);
  });
  try {
    return await Promise.race([work, stop]);
  } finally {
    if (timer) clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/** Spawns argv in its own process group, streams lines, and kills the group on cancel/timeout. */
async function spawnGroup(cmd: TransportArgv, o: SpawnOptions): Promise<Spawned> {
  if (o.signal?.aborted) return { exitCode: null, stderrTail: '', cancelled: true, timedOut: false };
  let stderrTail = '';
  const out = createLineSplitter((line) => o.onStdout?.(line));
  const err = createLineSplitter((line) => o.onStderr?.(line));
  let sub: ResultPromise;
  try {
    sub = execa(cmd.file, cmd.args, {
      detached: true,
      cleanup: true,
      buffer: false,
      reject: false,
      stripFinalNewline: false,
      env: o.env,
      ...(o.input !== undefined ? { input: o.input } : { stdin: 'ignore' as const }),
      stdout: o.quiet ? 'ignore' : 'pipe',
      stderr: 'pipe',
    });
  } catch (error) {
    return { exitCode: null, spawnError: errorText(error), stderrTail: '', cancelled: false, timedOut: false };
  }
  sub.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
  sub.stderr?.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL);
    err.push(chunk);
  });

  let cancelled = false;
  let timedOut = false;
  let killTimer: NodeJS.Timeout | undefined;
  const killGroup = (): void => {
    signalGroup(sub.pid, 'SIGTERM');
    killTimer ??= setTimeout(() => signalGroup(sub.pid, 'SIGKILL'), KILL_GRACE_MS);
  };
  const onAbort = (): void => {
    cancelled = true;
    killGroup();
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const deadline = o.timeoutMs === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    killGroup();
  }, o.timeoutMs);

  // After the process itself exits, something else may still hold the pipes: a grandchild, or
  // the ssh master (a multiplexed client hands its stdio to the master, which keeps it until the
  // remote command ends). Give output a moment to drain, none after a cancel, then stop reading
  // so the caller is never held hostage.
  let drainTimer: NodeJS.Timeout | undefined;
  sub.once('exit', () => {
    drainTimer = setTimeout(() => {
      sub.stdout?.destroy();
      sub.stderr?.destroy();
    }, cancelled || timedOut ? 0 : DRAIN_GRACE_MS);
  });

  try {
    const result = await sub;
    out.end();
    err.end();
    const spawnError = result.exitCode === undefined && result.signal === undefined && result.code ? `${result.code}: ${result.originalMessage ?? result.shortMessage}` : undefined;
    const signalCode = result.signal ? 128 + (constants.signals[result.signal] ?? 0) : null;
    return {
      exitCode: result.exitCode ?? signalCode,
      ...(spawnError ? { spawnError } : {}),
      stderrTail,
      cancelled,
      timedOut: timedOut && !cancelled,
    };
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    if (deadline) clearTimeout(deadline);
    if (drainTimer) clearTimeout(drainTimer);
    if (killTimer) clearTimeout(killTimer);
  }
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function lastLine(text: string): string | undefined {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1];
}
