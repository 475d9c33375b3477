// Spawns a command in its own process group (`detached: true`), streams its output line by line,
// and kills the whole group on cancel or timeout (SIGTERM, then SIGKILL after a grace period).
// execa's `subprocess.kill()` signals only the child: a grandchild holding the pipe would keep
// `await` waiting (LAB.md), hence the group, and a short drain after the child exits.
import { constants } from 'node:os';
import { execa, type ResultPromise } from 'execa';
import type { TransportArgv } from '../../core/remote/argv.js';
import { createLineSplitter } from './line-splitter.js';

/** Milliseconds between SIGTERM and SIGKILL of a cancelled process group. */
const KILL_GRACE_MS = 1500;
/** Milliseconds the pipes may stay open after the process exited (a grandchild holding them). */
const DRAIN_GRACE_MS = 500;
/** Bytes of stderr kept for classifying a failure. */
const STDERR_TAIL = 16_384;

export interface Spawned {
  /** Exit code; 128+n when a signal we did not send killed it; null when it never ran or we killed it. */
  readonly exitCode: number | null;
  /** Why the program could not start (for example `ENOENT: spawn ssh ENOENT`). */
  readonly spawnError?: string;
  /** The last STDERR_TAIL bytes of stderr. */
  readonly stderrTail: string;
  readonly cancelled: boolean;
  readonly timedOut: boolean;
}

export interface SpawnOptions {
  /** Variables added to (or overriding) the inherited environment. */
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string;
  readonly onStdout?: (line: string) => void;
  /** A last stdout line without a newline goes here when given (else to onStdout). */
  readonly onStdoutPartial?: (line: string) => void;
  readonly onStderr?: (line: string) => void;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  /** Ignore stdout (an ssh master: its stdout is not ours to read). */
  readonly quiet?: boolean;
}

/** Spawns argv in its own process group, streams lines, and kills the group on cancel/timeout. */
export async function spawnGroup(cmd: TransportArgv, o: SpawnOptions): Promise<Spawned> {
  if (o.signal?.aborted)
    return { exitCode: null, stderrTail: '', cancelled: true, timedOut: false };
  let stderrTail = '';
  const out = createLineSplitter(
    (line) => o.onStdout?.(line),
    o.onStdoutPartial && ((line) => o.onStdoutPartial?.(line)),
  );
  const err = createLineSplitter((line) => o.onStderr?.(line));
  let sub: ResultPromise;
  try {
    sub = execa(cmd.file, cmd.args, {
      detached: true,
      buffer: false,
      reject: false,
      stripFinalNewline: false,
      env: o.env,
      ...(o.input !== undefined ? { input: o.input } : { stdin: 'ignore' as const }),
      stdout: o.quiet ? 'ignore' : 'pipe',
      stderr: 'pipe',
    });
  } catch (error) {
    return {
      exitCode: null,
      spawnError: errorText(error),
      stderrTail: '',
      cancelled: false,
      timedOut: false,
    };
  }
  const pid = sub.pid;
  if (pid !== undefined) trackGroup(pid);
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
    // Not cleared when the child exits: a grandchild that ignores SIGTERM still gets SIGKILL.
    killTimer ??= setTimeout(() => signalGroup(sub.pid, 'SIGKILL'), KILL_GRACE_MS).unref();
  };
  const onAbort = (): void => {
    cancelled = true;
    killGroup();
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const deadline =
    o.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          killGroup();
        }, o.timeoutMs);

  // After the process itself exits, something else may still hold the pipes: a grandchild, or
  // the ssh master (a multiplexed client hands its stdio to the master, which keeps it until the
  // remote command ends). Give output a moment to drain, none after a cancel, then stop reading
  // so the caller is never held hostage.
  let drainTimer: NodeJS.Timeout | undefined;
  sub.once('exit', () => {
    drainTimer = setTimeout(
      () => {
        sub.stdout?.destroy();
        sub.stderr?.destroy();
      },
      cancelled || timedOut ? 0 : DRAIN_GRACE_MS,
    );
  });

  try {
    const result = await sub;
    out.end();
    err.end();
    const spawnError =
      result.exitCode === undefined && result.signal === undefined && result.code
        ? `${result.code}: ${result.originalMessage ?? result.shortMessage}`
        : undefined;
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
    if (pid !== undefined) liveGroups.delete(pid);
  }
}

// Process groups still running. `detached` puts each command in its own group, so nothing kills
// them when homelab exits: the exit hook does, and runs the other cleanups registered with
// onExit (closing ssh masters). A signal such as SIGINT ends Node without an 'exit' event: the
// CLI and TUI abort their runs on signals, which kills the groups the same way.
const liveGroups = new Set<number>();
const exitCleanups = new Set<() => void>();
let exitHook = false;

function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const group of liveGroups) signalGroup(group, 'SIGTERM');
    for (const cleanup of exitCleanups) {
      try {
        cleanup();
      } catch {
        // Best effort at exit.
      }
    }
  });
}

function trackGroup(pid: number): void {
  liveGroups.add(pid);
  installExitHook();
}

/** Registers a synchronous cleanup for process exit; returns its unregistration. */
export function onExit(cleanup: () => void): () => void {
  installExitHook();
  exitCleanups.add(cleanup);
  return () => exitCleanups.delete(cleanup);
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
