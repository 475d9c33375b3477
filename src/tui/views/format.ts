// Words and colours the views share. Pure.
import { PIPELINE, nextStage, nodeHealth, type Health } from '../../core/stage/machine.js';
import type { Stage } from '../../core/protocol/events.js';
import type { NodeEntry } from '../state/reducer.js';

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

/** A node that was never deployed has no services to be unhealthy about yet. */
/** Compacts the ISO timestamp deploy.sh puts before each log line to the time of day. */
export function compactLogLine(line: string): string {
  return line.replace(/^\d{4}-\d\d-\d\dT(\d\d:\d\d:\d\d)(?:\.\d+)?Z /, '$1 ');
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export const HEALTH_COLOUR: Record<Health, Colour> = {
  healthy: 'green',
  degraded: 'yellow',
  unhealthy: 'red',
  unreachable: 'red',
  'not-bootstrapped': 'gray',
  'not-deployed': 'gray',
  unknown: 'gray',
};

export function healthLabel(h: Health): string {
  return h === 'not-bootstrapped'
    ? 'not bootstrapped'
    : h === 'not-deployed'
      ? 'no services yet'
      : h === 'unknown'
        ? '…'
        : h;
}

export interface Badge {
  readonly text: string;
  readonly colour: Colour;
  readonly running: boolean;
}

/** The stage badge of a node row: the stage SATURN runs now, else what the node's state says. */
export function stageBadge(n: NodeEntry): Badge {
  if (n.run?.running) {
    // A run of several stages (up, resume, rollback) shows the one it is in now.
    const now = n.run.stages.findLast((s) => s.status === 'running')?.stage;
    const text = now && now !== n.run.stage ? `${n.run.stage}: ${now}` : `${n.run.stage} running`;
    return { text, colour: 'cyan', running: true };
  }
  if (
    n.run?.outcome &&
    n.run.outcome.result !== 'ok' &&
    n.run.outcome.result !== 'failed' &&
    n.run.outcome.result !== 'interrupted'
  ) {
    return {
      text: `${n.run.stage} ${n.run.outcome.result}`,
      colour: n.run.outcome.result === 'cancelled' ? 'yellow' : 'red',
      running: false,
    };
  }
  const p = n.probe;
  if (!p || !p.reachable) return { text: '-', colour: 'gray', running: false };
  const { stage, stageStatus } = p.status;
  if (!stage) return { text: 'never deployed', colour: 'gray', running: false };
  const colour: Colour =
    stageStatus === 'ok'
      ? 'green'
      : stageStatus === 'running'
        ? 'cyan'
        : stageStatus === 'interrupted'
          ? 'yellow'
          : 'red';
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
  return n.behind === 0
    ? { text: 'up to date', colour: 'green' }
    : { text: `${n.behind} behind`, colour: 'yellow' };
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
 * prepare -> deploy -> verify for the detail pane: what the node's recorded state says, with what
 * this session saw of each stage (results and durations) on top.
 */
export function pipeline(n: NodeEntry): PipelineCell[] {
  const status = n.probe?.reachable ? n.probe.status : undefined;
  const at = status ? PIPELINE.indexOf(status.stage as Stage) : -1;
  const seen = n.stages ?? {};
  const running = n.run?.running === true;
  // While a stage runs, what follows it is still to come, whatever the node recorded before.
  const runningAt = running ? PIPELINE.findIndex((st) => seen[st]?.status === 'running') : -1;
  return PIPELINE.map((stage, i): PipelineCell => {
    const s = seen[stage];
    if (runningAt >= 0 && i > runningAt) return { stage, mark: 'pending' };
    if (s) {
      const mark: StepMark =
        s.status === 'running' ? (running ? 'running' : 'interrupted') : s.status;
      return { stage, mark, ...(s.durationMs !== undefined ? { durationMs: s.durationMs } : {}) };
    }
    if (!status || at < 0 || i > at) return { stage, mark: 'pending' };
    if (i < at) return { stage, mark: 'ok' };
    const st = status.stageStatus;
    return {
      stage,
      mark:
        st === 'ok'
          ? 'ok'
          : st === 'running'
            ? 'running'
            : st === 'interrupted'
              ? 'interrupted'
              : st === 'failed'
                ? 'failed'
                : 'pending',
    };
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

/**
 * Word-wraps plain text into rows of at most `width` characters (a word longer than a row is cut
 * across rows); at most `max` rows, the last ending in … when text was left out.
 */
export function wrapText(text: string, width: number, max = Infinity): string[] {
  const w = Math.max(1, width);
  const rows: string[] = [];
  let row = '';
  const push = (): void => {
    rows.push(row);
    row = '';
  };
  for (const word of text.split(' ')) {
    let rest = word;
    if (row && row.length + 1 + rest.length > w) push();
    if (row) row += ' ';
    while (row.length + rest.length > w) {
      const room = w - row.length;
      row += rest.slice(0, room);
      rest = rest.slice(room);
      push();
    }
    row += rest;
  }
  if (row || rows.length === 0) push();
  if (rows.length <= max) return rows;
  const kept = rows.slice(0, max);
  const last = kept[max - 1] ?? '';
  kept[max - 1] = `${last.length >= w ? last.slice(0, w - 1) : last}…`;
  return kept;
}
