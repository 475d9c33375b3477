// Notifications (`notify:` in the topology): a failed stage and a finished walk reported to a
// command (the JSON event on its stdin) and/or an HTTP POST URL. Every string of the event passes
// the one redaction boundary (toScreen) first. A notifier never fails what it reports on: each
// delivery is bounded by `timeoutSeconds` (default 5), its failure is a warning line, never an
// exception, and nothing waits for it but flush() (Control.close() calls it, so a CLI process sends
// its notifications before it exits).
import { spawn } from 'node:child_process';
import { userInfo } from 'node:os';
import type { Inventory } from '../core/inventory/model.js';
import type { StageOutcome } from '../core/node/types.js';
import { toScreen } from '../core/recover/redact.js';

export const DEFAULT_NOTIFY_TIMEOUT_S = 5;

export type NotifyConfig = NonNullable<Inventory['notify']>;

/** The JSON a notifier receives. */
export interface NotifyEvent {
  readonly event: 'stage-failed' | 'walk-finished';
  readonly homelab: string;
  /** ISO-8601 UTC. */
  readonly at: string;
  /** Who started it on SATURN (the operator's name, as sent to the node with --by). */
  readonly who: string;
  readonly result: string;
  readonly node?: string;
  readonly stage?: string;
  readonly commit?: string;
  /** The first thing that went wrong (the failing step, check or refusal), '' when none. */
  readonly finding?: string;
  /** A finished walk: the nodes it deployed, the ones that failed (with why) and never started. */
  readonly deployed?: readonly string[];
  readonly failed?: ReadonlyArray<{ readonly node: string; readonly message: string }>;
  readonly notStarted?: readonly string[];
}

/** What a finished walk reports (the shape of walk.ts's WalkResult). */
export interface WalkEndNotice {
  readonly ok: boolean;
  readonly head: string;
  readonly deployed: readonly string[];
  readonly failed: ReadonlyArray<{ readonly node: string; readonly message: string }>;
  readonly notStarted: readonly string[];
  readonly declined: boolean;
  readonly refused?: { readonly node: string; readonly why: string };
}

export interface Notifier {
  /** Reports a stage's outcome when it failed (or was interrupted or unreachable); ok is silent. */
  stageOutcome(outcome: StageOutcome): void;
  /** Reports the end of a fleet walk. */
  walkEnd(walk: WalkEndNotice): void;
  /** Waits for every delivery started so far (each bounded by the timeout). */
  flush(): Promise<void>;
}

export interface NotifierOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** A delivery that failed, as one line (default: stderr). */
  readonly onWarning?: (line: string) => void;
  readonly now?: () => Date;
}

// Where undelivered notifications are said when no onWarning was given: the listeners (the TUI
// shows them as notices: a line on stderr would break its screen), else stderr.
const warningListeners = new Set<(line: string) => void>();

/** Receives the warnings of every notifier without its own onWarning; returns the unsubscribe. */
export function onNotifyWarning(listener: (line: string) => void): () => void {
  warningListeners.add(listener);
  return () => warningListeners.delete(listener);
}

function defaultWarning(line: string): void {
  if (warningListeners.size === 0) process.stderr.write(`${line}\n`);
  for (const l of warningListeners) l(line);
}

// Results a notification is sent for: a stage that did not do its work.
const NOTIFIED_RESULTS = new Set(['failed', 'interrupted', 'unreachable', 'locked']);

/** The operator's name as a node records it: $HOMELAB_OPERATOR, else the OS user, made safe. */
export function operatorName(env: NodeJS.ProcessEnv = process.env): string {
  let raw = env.HOMELAB_OPERATOR ?? '';
  if (!raw) {
    try {
      raw = userInfo().username;
    } catch {
      raw = env.USER ?? '';
    }
  }
  return safeOperator(raw);
}

/** 1-64 of A-Z a-z 0-9 . _ @ + - (what deploy.sh --by accepts); anything else becomes "_". */
export function safeOperator(raw: string): string {
  const cleaned = [...raw]
    .map((c) => (/^[A-Za-z0-9._@+-]$/.test(c) ? c : '_'))
    .join('')
    .slice(0, 64);
  return cleaned || 'unknown';
}

/** Every string in the event through the redaction boundary. */
export function redactEvent(ev: NotifyEvent): NotifyEvent {
  const clean = (v: unknown): unknown => {
    if (typeof v === 'string') return toScreen(v);
    if (Array.isArray(v)) return v.map(clean);
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clean(x)]));
    return v;
  };
  return clean(ev) as NotifyEvent;
}

export function stageFailedEvent(
  homelab: string,
  outcome: StageOutcome,
  who: string,
  at: Date,
): NotifyEvent {
  return {
    event: 'stage-failed',
    homelab,
    at: at.toISOString(),
    who,
    result: outcome.result,
    node: outcome.node,
    stage: outcome.stage,
    commit: outcome.commit,
    finding: outcome.message,
  };
}

export function walkFinishedEvent(
  homelab: string,
  walk: WalkEndNotice,
  who: string,
  at: Date,
): NotifyEvent {
  const first = walk.failed[0];
  const result = walk.ok
    ? 'ok'
    : walk.declined
      ? 'declined'
      : walk.refused
        ? 'refused'
        : walk.failed.length > 0
          ? 'failed'
          : 'stopped';
  return {
    event: 'walk-finished',
    homelab,
    at: at.toISOString(),
    who,
    result,
    commit: walk.head,
    ...(first ? { node: first.node } : walk.refused ? { node: walk.refused.node } : {}),
    finding: first?.message ?? walk.refused?.why ?? '',
    deployed: walk.deployed,
    failed: walk.failed,
    notStarted: walk.notStarted,
  };
}

/** Sends one event to every configured target; returns the failures (never throws). */
export async function deliver(
  config: NotifyConfig,
  event: NotifyEvent,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string[]> {
  const body = `${JSON.stringify(redactEvent(event))}\n`;
  const timeoutMs = (config.timeoutSeconds ?? DEFAULT_NOTIFY_TIMEOUT_S) * 1000;
  const jobs: Promise<string | undefined>[] = [];
  if (config.command) jobs.push(runCommand(config.command, body, timeoutMs, env));
  if (config.url) jobs.push(postUrl(config.url, body, timeoutMs));
  const results = await Promise.all(jobs);
  return results.filter((r): r is string => r !== undefined);
}

async function postUrl(url: string, body: string, timeoutMs: number): Promise<string | undefined> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The answer is not read beyond its status: drain it so the socket is freed.
    await res.arrayBuffer().catch(() => undefined);
    return res.ok ? undefined : `notify: POST ${hostOf(url)} answered ${res.status}`;
  } catch (err) {
    const why =
      err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')
        ? `no answer within ${timeoutMs / 1000} s`
        : err instanceof Error
          ? err.cause instanceof Error
            ? err.cause.message
            : err.message
          : String(err);
    return `notify: POST ${hostOf(url)} failed: ${toScreen(why)}`;
  }
}

/** The URL's scheme and host only: its path may hold a token (an ntfy topic, a webhook key). */
function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return 'the notify URL';
  }
}

function runCommand(
  argv: readonly string[],
  body: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  const [program, ...args] = argv;
  return new Promise((resolve) => {
    if (!program) {
      resolve('notify: the command is empty');
      return;
    }
    let settled = false;
    const done = (msg: string | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(msg);
    };
    const child = spawn(program, args, {
      stdio: ['pipe', 'ignore', 'ignore'],
      env,
      detached: true,
    });
    const timer = setTimeout(() => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone already
      }
      done(`notify: ${program} did not finish within ${timeoutMs / 1000} s (killed)`);
    }, timeoutMs);
    child.on('error', (err) => done(`notify: cannot run ${program}: ${toScreen(err.message)}`));
    child.on('close', (code, signal) =>
      done(
        code === 0
          ? undefined
          : `notify: ${program} exited ${code ?? `on ${signal ?? 'a signal'}`}`,
      ),
    );
    child.stdin.on('error', () => undefined);
    child.stdin.end(body);
  });
}

/** A notifier for the inventory (read at each send): silent while it has no `notify:`. */
export function createNotifier(
  inventoryOf: () => Inventory,
  options: NotifierOptions = {},
): Notifier {
  const env = options.env ?? process.env;
  const warn = options.onWarning ?? defaultWarning;
  const now = options.now ?? (() => new Date());
  const pending = new Set<Promise<void>>();
  const send = (event: NotifyEvent): void => {
    const config = inventoryOf().notify;
    if (!config) return;
    const job = deliver(config, event, env)
      .then((failures) => failures.forEach((f) => warn(f)))
      .catch((err: unknown) => warn(`notify: ${toScreen(String(err))}`))
      .finally(() => pending.delete(job));
    pending.add(job);
  };
  return {
    stageOutcome(outcome) {
      if (!NOTIFIED_RESULTS.has(outcome.result)) return;
      send(stageFailedEvent(inventoryOf().homelab, outcome, operatorName(env), now()));
    },
    walkEnd(walk) {
      send(walkFinishedEvent(inventoryOf().homelab, walk, operatorName(env), now()));
    },
    async flush() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
