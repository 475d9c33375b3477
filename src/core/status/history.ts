// The fleet's deploy history: every node's `history` records (deploy.sh history) in one list,
// newest first, and the table `homelab history` prints. Pure.
import type { HistoryEvent } from '../protocol/events.js';

export type HistoryEntry = Omit<HistoryEvent, 'type' | 'ts'>;

/** What one node answered: its records, or why it could not be read. */
export interface NodeHistory {
  readonly node: string;
  readonly entries: readonly HistoryEntry[];
  /** '' when read. */
  readonly error: string;
}

/** Every node's entries, newest first (ISO times sort as text; ties keep node order, newest line first). */
export function mergeHistory(nodes: readonly NodeHistory[]): HistoryEntry[] {
  const all = nodes.flatMap((n, ni) =>
    n.entries.map((e, i) => ({ e, ni, i: n.entries.length - i })),
  );
  all.sort((a, b) =>
    a.e.when === b.e.when
      ? a.ni === b.ni
        ? a.i - b.i
        : a.ni - b.ni
      : a.e.when < b.e.when
        ? 1
        : -1,
  );
  return all.map((x) => x.e);
}

/** `1.2 s`, `850 ms`, `-` when unknown. */
export function historyDuration(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

const HEADERS = ['WHEN', 'NODE', 'STAGE', 'RESULT', 'COMMIT', 'DURATION', 'BY', 'RUN'] as const;

export function historyRow(e: HistoryEntry): string[] {
  return [
    e.when.replace('T', ' ').replace(/Z$/, ''),
    e.node,
    e.stage,
    e.result,
    e.commit ? e.commit.slice(0, 7) : '-',
    historyDuration(e.durationMs),
    e.by || '-',
    e.run,
  ];
}

/** The table `homelab history` prints, then a line per node that could not be read. */
export function renderHistoryTable(nodes: readonly NodeHistory[], limit?: number): string {
  const entries = mergeHistory(nodes).slice(0, limit ?? Infinity);
  const rows = [Array.from(HEADERS), ...entries.map(historyRow)];
  const widths = HEADERS.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const lines = rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
  const errors = nodes.filter((n) => n.error).map((n) => `${n.node}: ${n.error}`);
  const empty = entries.length === 0 ? ['(no runs recorded yet)'] : [];
  return `${[...lines, ...empty, ...errors].join('\n')}\n`;
}
