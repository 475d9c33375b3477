// The command log in the detail area: every command SATURN ran on the node (or on every node), the
// newest last, each with its time, node, result and duration, then its argv as it went out (whole,
// wrapped over as many rows as it takes, up to a bound).
import { Box, Text } from 'ink';
import { toScreen } from '../../core/recover/redact.js';

export interface CommandRow {
  readonly id: number;
  readonly node: string;
  readonly command: string;
  readonly startedAt: number;
  readonly end?: 'exit' | 'unreachable' | 'cancelled' | 'timed-out';
  readonly exitCode?: number | null;
  readonly durationMs?: number;
  readonly message?: string;
}

export interface CommandLogProps {
  readonly node: string;
  readonly all: boolean;
  readonly scroll: number;
  /** The newest `n` commands up to the scroll position, oldest first, and how many there are. */
  readonly shown: (n: number) => {
    readonly entries: readonly CommandRow[];
    readonly total: number;
  };
  readonly width: number;
  readonly height: number;
}

/** Rows one command's argv may take before it is cut. */
const MAX_ARGV_ROWS = 4;

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

function took(ms: number | undefined): string {
  if (ms === undefined) return '';
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
}

function result(e: CommandRow): { text: string; colour: 'green' | 'red' | 'yellow' | 'cyan' } {
  if (e.end === undefined) return { text: 'running', colour: 'cyan' };
  if (e.end === 'exit')
    return { text: `exit ${e.exitCode ?? '?'}`, colour: e.exitCode === 0 ? 'green' : 'red' };
  return { text: e.end, colour: e.end === 'cancelled' ? 'yellow' : 'red' };
}

function chunks(text: string, width: number, max: number): string[] {
  const w = Math.max(10, width);
  const out: string[] = [];
  for (let i = 0; i < text.length && out.length < max; i += w) out.push(text.slice(i, i + w));
  if (out.length === max && text.length > w * max)
    out[max - 1] = `${out[max - 1]?.slice(0, -1) ?? ''}…`;
  return out;
}

export function CommandLogView({ node, all, scroll, shown, width, height }: CommandLogProps) {
  const rows = Math.max(1, height - 1);
  // Each command takes at least two rows: ask for enough, then keep what fits, newest first.
  const { entries, total } = shown(rows);
  const blocks: Array<{ e: CommandRow; argv: string[] }> = [];
  let used = 0;
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i];
    if (!e) continue;
    // An argument may hold a newline or a credential: shown escaped and redacted, never raw.
    const text = toScreen(e.command).replace(
      /[\x00-\x1f\x7f]/g,
      (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
    );
    const argv = chunks(text, width - 2, MAX_ARGV_ROWS);
    const need = 1 + argv.length;
    if (used + need > rows) {
      if (used + 2 <= rows) blocks.unshift({ e, argv: argv.slice(0, rows - used - 1) });
      break;
    }
    blocks.unshift({ e, argv });
    used += need;
  }
  const title = `── commands ${all ? 'on every node' : `on ${node}`} · ${total}${scroll > 0 ? ` ↑${scroll}` : ''} · a: ${all ? 'only this node' : 'all nodes'} `;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text color="gray" wrap="truncate">
        {title + '─'.repeat(Math.max(0, width - title.length))}
      </Text>
      {blocks.length === 0 ? (
        <Text color="gray" wrap="truncate">
          no command has run on {all ? 'any node' : node} yet in this session
        </Text>
      ) : null}
      {blocks.map(({ e, argv }) => {
        const r = result(e);
        return (
          <Box key={e.id} flexDirection="column" width={width}>
            <Text wrap="truncate">
              <Text color="gray">{`${clock(e.startedAt)} `}</Text>
              <Text bold>{e.node}</Text>
              <Text color={r.colour}>{` ${r.text}`}</Text>
              <Text color="gray">{` ${took(e.durationMs)}`}</Text>
              {e.message ? <Text color="red">{`  ${e.message}`}</Text> : null}
            </Text>
            {argv.map((a, i) => (
              <Text key={i} wrap="truncate">{`  ${a}`}</Text>
            ))}
          </Box>
        );
      })}
    </Box>
  );
}
