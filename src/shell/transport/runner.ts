// Runs a command on a node over its transport (ssh, tailscale-ssh, local): the one NodeRunner.
//
// - Every process runs in its own process group (spawn-group.ts): cancel and timeout kill the
//   whole group, and a grandchild holding the pipe cannot keep us waiting.
// - ssh never prompts (BatchMode) and has a connect timeout (the node's ssh.connectTimeout).
// - One connection per node: before the first command the runner opens an OpenSSH master
//   (`ssh -M -N -f`, memoized, so parallel first commands never race) on a control socket in a
//   private folder; commands then go over it (`ControlMaster=auto`: if the master has gone away,
//   the next command opens a new one). close() stops the master (`ssh -O exit`).
// - Cancelling kills the local side only: a remote command without a terminal is not signalled
//   by sshd; it ends when it next writes to its closed output. (deploy.sh's lock keeps a second
//   run away meanwhile.)
// - Failures of the transport are classified (classifyFailure) into RunResult.unreachable.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { NodeSpec } from '../../core/inventory/model.js';
import { controlArgv, masterArgv, transportArgv } from '../../core/remote/argv.js';
import { classifyFailure, type Unreachable } from '../../core/remote/unreachable.js';
import { commandLog as defaultCommandLog, type CommandLog } from './command-log.js';
import { defaultCheckGate, type CheckGate } from './check-gate.js';
import { controlPathFor, defaultControlDir, ensurePrivateDir } from './control-path.js';
import { onExit, spawnGroup, type Spawned } from './spawn-group.js';
import { checkedCommand, checkedOpener, needsCheck } from './tailscale-check.js';
import type { NodeRunner, RunResult } from './types.js';

export interface RunnerOptions {
  /** Folder for control sockets (default /tmp/homelab-ssh-<uid>); keep the path short. */
  readonly controlDir?: string;
  /** Variables added to (or overriding) the environment of ssh, tailscale or the local command. */
  readonly env?: NodeJS.ProcessEnv;
  /** Where every command run on the node is recorded (default: the process's command log). */
  readonly commandLog?: CommandLog;
  /** The tailnet's gate for Tailscale SSH checks (one at a time); default: the process's. */
  readonly checkGate?: CheckGate;
  /**
   * Every command opens a connection of its own: no control master, no ControlPath (the
   * magic-rollback confirmation, which must prove that SATURN can still reach the node anew).
   */
  readonly fresh?: boolean;
}

/** Longest socket path we accept: sun_path is 104-108 bytes and ssh appends a 17-byte suffix while binding. */
const MAX_CONTROL_PATH = 86;

export function createRunner(node: NodeSpec, opts: RunnerOptions = {}): NodeRunner {
  const inner =
    node.transport === 'local'
      ? localRunner(node, opts)
      : opts.fresh
        ? freshRunner(node, opts)
        : sshRunner(node, opts);
  return logged(node, inner, opts.commandLog ?? defaultCommandLog);
}

/** Records every command in the command log: its argv as it went out, exit code and duration. */
function logged(node: NodeSpec, inner: NodeRunner, log: CommandLog): NodeRunner {
  // The same object, its run wrapped: whatever else a runner offers stays as it is.
  const run = inner.run.bind(inner);
  inner.run = async (argv, options) => {
    const done = log.start(node.name, node.transport, argv);
    try {
      const r = await run(argv, options);
      done({
        end:
          r.unreachable && r.exitCode === null
            ? 'unreachable'
            : r.cancelled
              ? 'cancelled'
              : r.timedOut
                ? 'timed-out'
                : 'exit',
        exitCode: r.exitCode,
        durationMs: r.durationMs,
        ...(r.unreachable ? { message: r.unreachable.message } : {}),
      });
      return r;
    } catch (err) {
      done({
        end: 'unreachable',
        exitCode: null,
        durationMs: 0,
        message: err instanceof Error ? err.message : String(err),
      });
      throw err;
    }
  };
  return inner;
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

/**
 * One new ssh (or tailscale ssh) connection per command, never over a shared one. Through
 * tailscale it opens within the tailnet's check gate like every other opening: blocked while
 * another node holds a Tailscale SSH check, and a check it meets is the tailnet's one check.
 */
function freshRunner(node: NodeSpec, opts: RunnerOptions): NodeRunner {
  const gate =
    node.transport === 'tailscale-ssh' ? (opts.checkGate ?? defaultCheckGate) : undefined;
  return {
    async run(argv, options = {}) {
      const started = Date.now();
      const cmd = transportArgv(node, argv, { fresh: true });
      if (!gate)
        return toResult(node, await spawnGroup(cmd, { ...options, env: opts.env }), started);
      const ran = await checkedCommand(node, cmd, gate, { ...options, env: opts.env });
      const durationMs = Date.now() - started;
      if ('unreachable' in ran)
        return {
          exitCode: null,
          cancelled: false,
          timedOut: false,
          unreachable: ran.unreachable,
          durationMs,
        };
      const result = toResult(node, ran.spawned, started);
      // Held for a check that did not pass in time (or was stopped): the node needs that check.
      if (ran.checkUrl !== undefined && result.exitCode === null && !options.signal?.aborted)
        return {
          exitCode: null,
          cancelled: false,
          timedOut: result.timedOut,
          unreachable: needsCheck(node, ran.checkUrl),
          durationMs,
        };
      return result;
    },
    async close() {},
  };
}

function sshRunner(node: NodeSpec, opts: RunnerOptions): NodeRunner {
  const dir = opts.controlDir ?? defaultControlDir();
  const controlPath = controlPathFor(node, dir);
  if (controlPath.length > MAX_CONTROL_PATH) {
    throw new Error(
      `control socket path ${controlPath} is ${controlPath.length} bytes; the limit is ${MAX_CONTROL_PATH}: use a shorter controlDir`,
    );
  }
  let master: Promise<Unreachable | undefined> | undefined;
  let closed = false;
  // If homelab exits without close(), stop the master anyway (it would linger ControlPersist s).
  const forgetExit = onExit(() => {
    if (existsSync(controlPath)) {
      const { file, args } = controlArgv(node, controlPath, 'exit');
      spawnSync(file, args, {
        stdio: 'ignore',
        timeout: 2000,
        env: { ...process.env, ...opts.env },
      });
    }
  });

  const masterAlive = async (): Promise<boolean> =>
    existsSync(controlPath) &&
    (
      await spawnGroup(controlArgv(node, controlPath, 'check'), {
        env: opts.env,
        quiet: true,
        timeoutMs: 5000,
      })
    ).exitCode === 0;

  const checked =
    node.transport === 'tailscale-ssh'
      ? checkedOpener(node, controlPath, opts.checkGate ?? defaultCheckGate, opts.env)
      : undefined;
  const openMaster = async (): Promise<Unreachable | undefined> => {
    await ensurePrivateDir(dir);
    if (existsSync(controlPath)) {
      if (await masterAlive()) return undefined;
      await rm(controlPath, { force: true });
    }
    // Bounded: connect timeout plus the login itself.
    const timeoutMs = node.ssh.connectTimeout * 2000 + 10_000;
    // Through tailscale: a check banner is reported at once, and one node at a time holds one.
    const opened = checked
      ? await checked.open(timeoutMs)
      : {
          spawned: await spawnGroup(masterArgv(node, controlPath), {
            env: opts.env,
            quiet: true,
            timeoutMs,
          }),
          timedOut: false,
        };
    if ('unreachable' in opened) return opened.unreachable;
    const { spawned } = opened;
    if (spawned.exitCode === 0) return undefined;
    if (spawned.timedOut || opened.timedOut)
      return {
        reason: 'timeout',
        message: `opening the connection to ${node.address} took over ${timeoutMs / 1000} s`,
      };
    return (
      classifyFailure({
        transport: node.transport,
        exitCode: spawned.exitCode,
        stderr: spawned.stderrTail,
        spawnError: spawned.spawnError,
      }) ?? {
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
        return {
          exitCode: null,
          cancelled: failure === 'cancelled',
          timedOut: failure === 'timed-out',
          durationMs: Date.now() - started,
        };
      }
      if (failure)
        return {
          exitCode: null,
          cancelled: false,
          timedOut: false,
          unreachable: failure,
          durationMs: Date.now() - started,
        };
      const remaining =
        options.timeoutMs === undefined
          ? undefined
          : Math.max(1, options.timeoutMs - (Date.now() - started));
      const spawned = await spawnGroup(transportArgv(node, argv, { controlPath }), {
        ...options,
        timeoutMs: remaining,
        env: opts.env,
      });
      const result = toResult(node, spawned, started);
      // A multiplexed client whose master died exits 255 without a word: tell that apart from a
      // remote command that exited 255 by asking the master.
      const lost = (result.exitCode === 255 || result.unreachable) && !(await masterAlive());
      // A killed master leaves its socket file: the next command opens a new master.
      if (lost) master = undefined;
      if (lost && result.exitCode === 255 && !result.unreachable) {
        return {
          ...result,
          exitCode: null,
          unreachable: {
            reason: 'connection-lost',
            message: `the connection to ${node.address} closed while the command ran: the node may have rebooted or lost the network; run the command again`,
          },
        };
      }
      return result;
    },
    async close() {
      if (closed) return;
      closed = true;
      forgetExit();
      const pending = master;
      master = undefined;
      if (pending) await pending.catch(() => undefined);
      await checked?.close();
      if (existsSync(controlPath)) {
        await spawnGroup(controlArgv(node, controlPath, 'exit'), {
          env: opts.env,
          quiet: true,
          timeoutMs: 5000,
        });
        // `-O exit` returns when the master has the request, before it unlinks its socket: remove
        // it here so a closed runner leaves nothing behind for the next one to mistake for a master.
        await rm(controlPath, { force: true });
      }
    },
  };
}

function toResult(node: NodeSpec, s: Spawned, started: number): RunResult {
  const durationMs = Date.now() - started;
  if (s.cancelled || s.timedOut)
    return { exitCode: null, cancelled: s.cancelled, timedOut: s.timedOut, durationMs };
  const unreachable = classifyFailure({
    transport: node.transport,
    exitCode: s.exitCode,
    stderr: s.stderrTail,
    spawnError: s.spawnError,
  });
  const ranRemote = unreachable === undefined || unreachable.reason === 'command-not-found';
  return {
    exitCode: ranRemote ? s.exitCode : null,
    cancelled: false,
    timedOut: false,
    ...(unreachable ? { unreachable } : {}),
    durationMs,
  };
}

/** Waits for `work`, unless the signal aborts or the deadline passes first. */
async function raceSignal<T>(
  work: Promise<T>,
  signal: AbortSignal | undefined,
  timeoutMs: number | undefined,
): Promise<T | 'cancelled' | 'timed-out'> {
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

function lastLine(text: string): string | undefined {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines[lines.length - 1];
}
