// One human line per protocol record, for `homelab run` and the TUI's pipeline. Pure.
import type { NodeEvent } from './events.js';

const MARK: Record<string, string> = {
  ok: '✓',
  fail: '✗',
  failed: '✗',
  skip: '·',
  start: '›',
  warn: '!',
  interrupted: '✗',
};

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** A line for the record, or undefined for records that carry nothing a person needs to read. */
export function describeEvent(ev: NodeEvent): string | undefined {
  switch (ev.type) {
    case 'run':
      return `› ${ev.stage} on ${ev.node}${ev.commit ? ` at ${ev.commit.slice(0, 7)}` : ''} (log: ${ev.log})`;
    case 'stage-start':
      return `› ${ev.stage}`;
    case 'step': {
      // A started step says nothing, except the wait for SATURN's confirmation (magic rollback).
      if (ev.status === 'start' && ev.step !== 'confirm') return undefined;
      const what = [ev.step, ev.service].filter(Boolean).join(' ');
      const took = ev.durationMs !== undefined ? ` (${formatDuration(ev.durationMs)})` : '';
      return `  ${MARK[ev.status] ?? ' '} ${what}${ev.detail ? `: ${ev.detail}` : ''}${took}`;
    }
    case 'check':
      return `  ${MARK[ev.status] ?? ' '} ${ev.service} ${ev.check} ${ev.target}${ev.detail ? `: ${ev.detail}` : ''}`;
    case 'finding':
      return `  ${MARK[ev.severity] ?? ' '} ${ev.summary}${ev.hint && ev.severity !== 'ok' ? ` — ${ev.hint}` : ''}`;
    case 'stage-end':
      return `${MARK[ev.result] ?? ' '} ${ev.stage} ${ev.result} in ${formatDuration(ev.durationMs)}${ev.error ? `: ${ev.error}` : ''}`;
    case 'confirm':
      return ev.result === 'confirmed'
        ? `✓ confirmed ${ev.commit.slice(0, 7)} on ${ev.node} over a new connection: it is the known-good`
        : `✗ confirm refused on ${ev.node}: ${ev.detail}`;
    case 'run-end':
    case 'history':
    case 'status':
      return undefined;
  }
}
