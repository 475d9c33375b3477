// One step of the fleet walk on one wave, as a pure reducer: which nodes start now (concurrency
// limit, canary first), what each is doing, and when the step is over. The first failure stops
// new starts; the nodes already running finish and are reported. The driver
// (src/shell/control/walk.ts) feeds it the runs' events and starts what `startable` names.
import type { Stage } from '../protocol/events.js';

export type WalkNodeState =
  | { readonly status: 'waiting' }
  | { readonly status: 'running'; readonly stage: Stage }
  | { readonly status: 'ok'; readonly durationMs: number }
  | { readonly status: 'failed'; readonly result: string; readonly message: string };

export interface WaveRun {
  readonly wave: number;
  /** The nodes of this step, in topology order (the canary, when any, is the first). */
  readonly nodes: readonly string[];
  /** At most this many run at once. */
  readonly limit: number;
  /** The node that runs alone first; the rest start only once it is ok. */
  readonly canary?: string;
  readonly states: Readonly<Record<string, WalkNodeState>>;
  /** The first node that failed: nothing new starts after it. */
  readonly failedFirst?: string;
}

export type WaveEvent =
  | { readonly type: 'started'; readonly node: string; readonly stage: Stage }
  | { readonly type: 'stage'; readonly node: string; readonly stage: Stage }
  | { readonly type: 'ok'; readonly node: string; readonly durationMs: number }
  | {
      readonly type: 'failed';
      readonly node: string;
      readonly result: string;
      readonly message: string;
    };

export interface WaveOptions {
  /** Nodes at once (absent, 0 or more than the wave: the whole wave). */
  readonly concurrency?: number;
  /** The first node alone, then the rest (only when the wave has more than one node). */
  readonly canary?: boolean;
}

export function startWave(wave: number, nodes: readonly string[], opts: WaveOptions = {}): WaveRun {
  const c = opts.concurrency;
  const limit = c && c > 0 ? Math.min(c, Math.max(1, nodes.length)) : Math.max(1, nodes.length);
  const states: Record<string, WalkNodeState> = {};
  for (const n of nodes) states[n] = { status: 'waiting' };
  const canary = opts.canary && nodes.length > 1 ? nodes[0] : undefined;
  return { wave, nodes, limit, states, ...(canary ? { canary } : {}) };
}

const stateOf = (run: WaveRun, node: string): WalkNodeState =>
  run.states[node] ?? { status: 'waiting' };

export function reduceWave(run: WaveRun, ev: WaveEvent): WaveRun {
  if (!run.nodes.includes(ev.node)) return run;
  const set = (s: WalkNodeState): Readonly<Record<string, WalkNodeState>> => ({
    ...run.states,
    [ev.node]: s,
  });
  switch (ev.type) {
    case 'started':
    case 'stage':
      return { ...run, states: set({ status: 'running', stage: ev.stage }) };
    case 'ok':
      return { ...run, states: set({ status: 'ok', durationMs: ev.durationMs }) };
    case 'failed':
      return {
        ...run,
        states: set({ status: 'failed', result: ev.result, message: ev.message }),
        failedFirst: run.failedFirst ?? ev.node,
      };
  }
}

/** The nodes that should start now, in order: none after a failure, the canary alone first. */
export function startable(run: WaveRun): readonly string[] {
  if (run.failedFirst) return [];
  const waiting = run.nodes.filter((n) => stateOf(run, n).status === 'waiting');
  const running = run.nodes.filter((n) => stateOf(run, n).status === 'running').length;
  if (run.canary && stateOf(run, run.canary).status !== 'ok')
    return stateOf(run, run.canary).status === 'waiting' ? [run.canary] : [];
  return waiting.slice(0, Math.max(0, run.limit - running));
}

/** Over: nothing runs and nothing more will start. */
export function waveOver(run: WaveRun): boolean {
  const running = run.nodes.some((n) => stateOf(run, n).status === 'running');
  return !running && startable(run).length === 0;
}

export interface WaveSummary {
  readonly ok: readonly string[];
  readonly failed: ReadonlyArray<{ readonly node: string; readonly message: string }>;
  /** Never started: the walk stopped first. */
  readonly notStarted: readonly string[];
}

export function summarizeWave(run: WaveRun): WaveSummary {
  const ok: string[] = [];
  const failed: Array<{ node: string; message: string }> = [];
  const notStarted: string[] = [];
  for (const n of run.nodes) {
    const s = stateOf(run, n);
    if (s.status === 'ok') ok.push(n);
    else if (s.status === 'failed') failed.push({ node: n, message: s.message });
    else notStarted.push(n);
  }
  return { ok, failed, notStarted };
}
