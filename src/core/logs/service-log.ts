// A service's logs as the node prints them (`deploy.sh logs`, docs/protocol.md): the argv that asks
// for them, and each line split into container, timestamp and text. Pure.
import { deployScriptPath, type NodeSpec } from '../inventory/model.js';

/** The line deploy.sh writes to stderr every few seconds while following (dropped by SATURN). */
export const LOGS_HEARTBEAT = 'deploy.sh: logs: following';

export interface ServiceLogsQuery {
  /** Lines from the end to start with (default 200); 'all' for every line Docker keeps. */
  readonly tail?: number | 'all';
  /** Only lines since: a duration (10m, 2h) or a timestamp (2026-01-02T15:04:05Z). */
  readonly since?: string;
  readonly follow?: boolean;
}

export const DEFAULT_TAIL = 200;
const SINCE = /^[0-9A-Za-z:.+-]{1,40}$/;

/** Why the query cannot go to the node, or null. */
export function checkLogsQuery(q: ServiceLogsQuery): string | null {
  if (q.tail !== undefined && q.tail !== 'all') {
    if (!Number.isInteger(q.tail) || q.tail < 0 || q.tail > 999_999)
      return `--tail must be a number of lines from 0 to 999999, or all (got ${String(q.tail)})`;
  }
  if (q.since !== undefined && !SINCE.test(q.since))
    return `--since must be a duration (10m, 2h) or a timestamp (2026-01-02T15:04:05Z), got "${q.since}"`;
  return null;
}

/** `deploy.sh logs SERVICE ...` on the node. */
export function serviceLogsArgv(spec: NodeSpec, service: string, q: ServiceLogsQuery): string[] {
  return [
    deployScriptPath(spec),
    'logs',
    service,
    '--root',
    spec.root,
    '--node',
    spec.name,
    '--tail',
    String(q.tail ?? DEFAULT_TAIL),
    ...(q.since !== undefined ? ['--since', q.since] : []),
    ...(q.follow ? ['--follow'] : []),
  ];
}

export interface LogLine {
  /** The container's name as Compose prints it (`web-1`); '' when the line has none. */
  readonly container: string;
  /** RFC 3339 timestamp ('' when the line has none). */
  readonly timestamp: string;
  readonly text: string;
}

// "web-1  | 2026-12-01T16:01:30.631002129Z started" (Compose v2 with --timestamps --no-color)
const LINE =
  /^(\S+)\s+\| (?:(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) ?)?(.*)$/s;

export function parseLogLine(line: string): LogLine {
  const m = LINE.exec(line);
  if (!m) return { container: '', timestamp: '', text: line };
  return { container: m[1] ?? '', timestamp: m[2] ?? '', text: m[3] ?? '' };
}

/** The line to show: `web-1 | text`, with the timestamp (to the second, UTC) when asked. */
export function formatLogLine(line: LogLine, timestamps: boolean): string {
  const ts = timestamps && line.timestamp ? `${shortTimestamp(line.timestamp)} ` : '';
  return line.container ? `${ts}${line.container} | ${line.text}` : `${ts}${line.text}`;
}

function shortTimestamp(ts: string): string {
  // 2026-12-01T16:01:30.631002129Z -> 2026-12-01 16:01:30.631
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.(\d{1,3})\d*)?/.exec(ts);
  return m ? `${m[1]} ${m[2]}${m[3] ? `.${m[3].padEnd(3, '0')}` : ''}` : ts;
}

/** True when the filter (case-insensitive, plain text) matches the line as shown. */
export function matchesFilter(shown: string, filter: string): boolean {
  return filter === '' || shown.toLowerCase().includes(filter.toLowerCase());
}
