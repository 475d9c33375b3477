// The history view (`h`): every run recorded on the nodes, newest first (when, node, stage,
// result, commit, duration, who started it), and, on Enter, that run's log from the node. A pure
// function of state: the controller reads the nodes; the router moves and opens.
import { Box, Text } from 'ink';
import { historyRow } from '../../core/status/history.js';
import type { HistoryView as HistoryData } from '../state/reducer.js';
import { sanitizeLine } from '../log-store.js';

export interface HistoryViewProps {
  readonly history: HistoryData | undefined;
  readonly index: number;
  readonly scroll: number;
  readonly width: number;
  readonly height: number;
}

const COLUMNS = ['WHEN', 'NODE', 'STAGE', 'RESULT', 'COMMIT', 'DURATION', 'BY'] as const;

function fit(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

/** Rows of the list that fit: the title, the header, the runs and a "↓ N more" line. */
export function historyListRows(height: number): number {
  return Math.max(1, height - 3);
}

/** Lines of an open log that fit below its title. */
export function historyLogRows(height: number): number {
  return Math.max(1, height - 2);
}

export function HistoryView({ history, index, scroll, width, height }: HistoryViewProps) {
  if (!history || (history.loading && history.entries.length === 0)) {
    return (
      <Box flexDirection="column" width={width} height={height}>
        <Text bold>history</Text>
        <Text color="gray">reading the history of every node…</Text>
      </Box>
    );
  }
  if (history.log) {
    const log = history.log;
    const rows = historyLogRows(height);
    const end = Math.max(0, log.lines.length - scroll);
    const shown = log.lines.slice(Math.max(0, end - rows), end);
    const above = Math.max(0, end - rows);
    return (
      <Box flexDirection="column" width={width} height={height}>
        <Text bold wrap="truncate">
          {fit(
            `log of run ${log.run} on ${log.node}${log.loading ? ' (reading…)' : ` · ${log.lines.length} lines`}${above > 0 ? ` · ↑ ${above} more` : ''}`,
            width,
          )}
        </Text>
        {log.error ? <Text color="red">{fit(log.error, width)}</Text> : null}
        {shown.map((line, i) => (
          <Text key={i} wrap="truncate">
            {fit(sanitizeLine(line, false), width)}
          </Text>
        ))}
      </Box>
    );
  }
  const rows = [...history.entries.map(historyRow)];
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    COLUMNS.map((_, i) => (cells[i] ?? '').padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const room = historyListRows(height) - history.errors.length;
  const visible = Math.max(1, room - 1);
  const first = Math.min(Math.max(0, index - visible + 1), Math.max(0, rows.length - visible));
  const shown = rows.slice(first, first + visible);
  const below = rows.length - first - shown.length;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate">
        {fit(
          `history · ${rows.length} run${rows.length === 1 ? '' : 's'}, newest first${history.loading ? ' (reading…)' : ''}`,
          width,
        )}
      </Text>
      <Text color="gray" wrap="truncate">
        {fit(`  ${line(COLUMNS)}`, width)}
      </Text>
      {rows.length === 0 ? <Text color="gray">no runs recorded yet</Text> : null}
      {shown.map((r, i) => {
        const at = first + i;
        const failed = r[3] === 'failed' || r[3] === 'interrupted';
        return (
          <Text
            key={at}
            wrap="truncate"
            inverse={at === index}
            {...(failed ? { color: 'red' } : {})}
          >
            {fit(`${at === index ? '▸ ' : '  '}${line(r)}`, width)}
          </Text>
        );
      })}
      {below > 0 ? <Text color="gray">{`↓ ${below} more`}</Text> : null}
      {history.errors.map((e, i) => (
        <Text key={`e${i}`} color="yellow" wrap="truncate">
          {fit(sanitizeLine(e, false), width)}
        </Text>
      ))}
    </Box>
  );
}
