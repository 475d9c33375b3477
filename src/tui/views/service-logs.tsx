// A service's logs in the detail area: a title with the stream's state, the filter and the pause,
// then the lines (screen-safe, from the bounded store); and the service picker before it.
import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import type { Mode } from '../state/reducer.js';
import { CommandLogView, type CommandRow } from './command-log.js';

export interface LogsViewState {
  readonly node: string;
  readonly service: string;
  readonly status: 'connecting' | 'following' | 'ended' | 'failed' | 'unreachable';
  readonly message: string;
  readonly filter: string;
  readonly timestamps: boolean;
  readonly scroll: number;
  readonly paused: boolean;
}

export interface LogsViewLines {
  readonly lines: readonly string[];
  readonly matching: number;
  readonly held: number;
  readonly newSincePause: number;
}

export interface ServiceLogsProps {
  readonly logs: LogsViewState;
  /** The lines for `n` rows. */
  readonly shown: (n: number) => LogsViewLines;
  /** The filter is being typed. */
  readonly filtering: boolean;
  readonly width: number;
  readonly height: number;
}

const STATUS_TEXT: Record<LogsViewState['status'], string> = {
  connecting: 'connecting…',
  following: 'following',
  ended: 'ended',
  failed: 'failed',
  unreachable: 'unreachable',
};

function count(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

/** Rows of the view that are not log lines (title, and the message or the filter being typed). */
export function serviceLogsChrome(logs: LogsViewState, filtering: boolean): number {
  return 1 + (filtering || logs.message ? 1 : 0);
}

export function ServiceLogs({ logs, shown, filtering, width, height }: ServiceLogsProps) {
  const rows = Math.max(0, height - serviceLogsChrome(logs, filtering));
  const view = shown(rows);
  // Most important first: a narrow pane cuts the title's end.
  const parts = [
    `logs: ${logs.service} on ${logs.node}`,
    logs.paused
      ? `PAUSED${view.newSincePause > 0 ? ` (+${view.newSincePause} new)` : ''}`
      : STATUS_TEXT[logs.status],
    logs.filter
      ? `filter "${logs.filter}": ${count(view.matching, 'line')} of ${view.held}`
      : count(view.held, 'line'),
    ...(logs.scroll > 0 ? [`↑${logs.scroll}`] : []),
    ...(logs.timestamps ? ['timestamps'] : []),
  ];
  const title = `── ${parts.join(' · ')} `;
  const colour =
    logs.status === 'failed' || logs.status === 'unreachable'
      ? 'red'
      : logs.paused
        ? 'yellow'
        : 'gray';
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text color={colour} wrap="truncate">
        {title + '─'.repeat(Math.max(0, width - title.length))}
      </Text>
      {filtering ? (
        <Text wrap="truncate">
          <Text color="cyan">filter: </Text>
          <Text>{logs.filter}</Text>
          <Text inverse> </Text>
          <Text color="gray"> Enter keeps it · Esc clears it</Text>
        </Text>
      ) : null}
      {logs.message && !filtering ? (
        <Text color={logs.status === 'ended' ? 'gray' : 'red'} wrap="truncate">
          {logs.message}
        </Text>
      ) : null}
      {view.lines.length === 0 && rows > 0 ? (
        <Text color="gray" wrap="truncate">
          {logs.filter && view.held > 0
            ? `no line matches "${logs.filter}"`
            : logs.status === 'connecting'
              ? 'asking the node for the logs…'
              : 'no lines yet'}
        </Text>
      ) : null}
      {view.lines.map((l, i) => (
        <Box key={i} height={1} width={width}>
          <Text wrap="truncate">{l || ' '}</Text>
        </Box>
      ))}
    </Box>
  );
}

export interface ServicePickProps {
  readonly node: string;
  readonly services: readonly string[];
  readonly index: number;
  readonly width: number;
  readonly height: number;
}

export function ServicePick({ node, services, index, width, height }: ServicePickProps) {
  const rows = Math.max(1, height - 1);
  const first = Math.max(0, Math.min(index - rows + 1, services.length - rows));
  const visible = services.slice(first, first + rows);
  const title = `── logs on ${node}: choose a service (${services.length}) `;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text color="gray" wrap="truncate">
        {title + '─'.repeat(Math.max(0, width - title.length))}
      </Text>
      {visible.map((s, i) => (
        <Text key={s} wrap="truncate" color={first + i === index ? 'cyan' : undefined}>
          {`${first + i === index ? '▸ ' : '  '}${s}`}
        </Text>
      ))}
    </Box>
  );
}

/** What the views read from the app's ViewsHost (plain data and readers: no shell here). */
export interface ViewsSource {
  readonly logs: LogsViewState | undefined;
  shown(n: number): LogsViewLines;
  services(node: string): readonly string[];
  readonly commandView:
    { readonly node: string; readonly all: boolean; readonly scroll: number } | undefined;
  shownCommands(n: number): { readonly entries: readonly CommandRow[]; readonly total: number };
}

const OWN_MODES: ReadonlySet<string> = new Set([
  'service-pick',
  'service-logs',
  'logs-filter',
  'command-log',
]);

/** True when the mode is one of these views (they take the detail area, like the recover view). */
export function isOwnMode(mode: string): boolean {
  return OWN_MODES.has(mode);
}

/** The view of the mode, or null when the mode is not one of these views. */
export function ownView(
  mode: Mode,
  node: string,
  views: ViewsSource,
  width: number,
  height: number,
): ReactNode {
  if (mode.kind === 'service-pick')
    return (
      <ServicePick
        node={node}
        services={views.services(node)}
        index={mode.index}
        width={width}
        height={height}
      />
    );
  if ((mode.kind === 'service-logs' || mode.kind === 'logs-filter') && views.logs)
    return (
      <ServiceLogs
        logs={views.logs}
        shown={(n) => views.shown(n)}
        filtering={mode.kind === 'logs-filter'}
        width={width}
        height={height}
      />
    );
  if (mode.kind === 'command-log' && views.commandView)
    return (
      <CommandLogView
        {...views.commandView}
        shown={(n) => views.shownCommands(n)}
        width={width}
        height={height}
      />
    );
  return null;
}
