// Words and colours the views share. Pure.
import { PIPELINE, nextStage, nodeHealth, type Health } from '../../core/stage/machine.js';
import type { Stage } from '../../core/protocol/events.js';
import type { NodeEntry, RunView } from '../state/reducer.js';

export const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'] as const;

export function spinnerFrame(tick: number): string {
  return SPINNER[tick % SPINNER.length] ?? '*';
}

export function shortSha(sha: string): string {
  return sha ? sha.slice(0, 7) : '-';
}

export function duration(ms: number | undefined): string {
  if (ms === undefined) return '';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${Math.round((ms % 60_000) / 1000)}s`;
}

export type Colour = 'green' | 'yellow' | 'red' | 'gray' | 'cyan' | 'blue' | 'magenta' | 'white';

export function entryHealth(n: NodeEntry): Health {
  if (!n.probe) return 'unknown';
  return nodeHealth(n.probe.reachable ? n.probe.status : undefined, n.probe.reachable);
}

export const HEALTH_COLOUR: Record<Health, Colour> = {
  healthy: 'green',
  degraded: 'yellow',
  unhealthy: 'red',
  unreachable: 'red',
  'not-bootstrapped': 'gray',
  unknown: 'gray',
};

export function healthLabel(h: Health): string {
  return h === 'not-bootstrapped' ? 'not bootstrapped' : h === 'unknown' ? '…' : h;
}

export interface Badge {
  readonly text: string;
  readonly colour: Colour;
  readonly running: boolean;
}

/** The stage badge of a node row: the stage SATURN runs now, else what the node's state says. */
export function stageBadge(n: NodeEntry): Badge {
  if (n.run?.running) return { text: `${n.run.stage} running`, colour: 'cyan', running: true };
  if (n.run?.outcome && n.run.outcome.result !== 'ok' && n.run.outcome.result !== 'failed' && n.run.outcome.result !== 'interrupted') {
    return { text: `${n.run.stage} ${n.run.outcome.result}`, colour: n.run.outcome.result === 'cancelled' ? 'yellow' : 'red', running: false };
  }
  const p = n.probe;
  if (!p || !p.reachable) return { text: '-', colour: 'gray', running: false };
  const { stage, stageStatus } = p.status;
  if (!stage) return { text: 'never deployed', colour: 'gray', running: false };
  const colour: Colour = stageStatus === 'ok' ? 'green' : stageStatus === 'running' ? 'cyan' : stageStatus === 'interrupted' ? 'yellow' : 'red';
  return { text: `${stage} ${stageStatus}`, colour, running: stageStatus === 'running' };
}

/** "up to date", "3 behind", "not deployed". */
export function position(n: NodeEntry, head: string): { text: string; colour: Colour } {
  const p = n.probe;
  if (!p || !p.reachable || !p.status.bootstrapped) return { text: '', colour: 'gray' };
  const deployed = p.status.deployed;
  if (!deployed) return { text: 'not deployed', colour: 'gray' };
  if (head && deployed === head) return { text: 'up to date', colour: 'green' };
  if (n.behind === null) return { text: `at ${shortSha(deployed)}`, colour: 'yellow' };
  return n.behind === 0 ? { text: 'up to date', colour: 'green' } : { text: `${n.behind} behind`, colour: 'yellow' };
}

export function nextFor(n: NodeEntry, head: string): Stage | null {
  if (!n.probe || !n.probe.reachable) return null;
  return nextStage(n.probe.status, head);
}

export type StepMark = 'ok' | 'failed' | 'running' | 'pending' | 'interrupted';

export interface PipelineCell {
  readonly stage: Stage;
  readonly mark: StepMark;
  readonly durationMs?: number;
}

/**
 * prepare -> deploy -> verify for the detail pane: from this session's run when there is one (with
 * durations), else from the node's recorded stage.
 */
export function pipeline(n: NodeEntry): PipelineCell[] {
  const run: RunView | undefined = n.run;
  if (run && run.stages.length > 0) {
    return PIPELINE.map((stage) => {
      const s = run.stages.find((x) => x.stage === stage);
      if (!s) return { stage, mark: 'pending' };
      return { stage, mark: s.status === 'running' ? (run.running ? 'running' : 'interrupted') : s.status, ...(s.durationMs !== undefined ? { durationMs: s.durationMs } : {}) };
    });
  }
  const status = n.probe?.reachable ? n.probe.status : undefined;
  const at = status ? PIPELINE.indexOf(status.stage as Stage) : -1;
  return PIPELINE.map((stage, i) => {
    if (!status || at < 0 || i > at) return { stage, mark: 'pending' };
    if (i < at) return { stage, mark: 'ok' };
    const st = status.stageStatus;
    return { stage, mark: st === 'ok' ? 'ok' : st === 'running' ? 'running' : st === 'interrupted' ? 'interrupted' : st === 'failed' ? 'failed' : 'pending' };
  });
}

export const MARK: Record<StepMark, { glyph: string; colour: Colour }> = {
  ok: { glyph: '✓', colour: 'green' },
  failed: { glyph: '✗', colour: 'red' },
  running: { glyph: '●', colour: 'cyan' },
  pending: { glyph: '·', colour: 'gray' },
  interrupted: { glyph: '!', colour: 'yellow' },
};

/** Clips plain text to a width with an ellipsis. */
export function clip(text: string, width: number): string {
  if (width <= 0) return '';
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}
