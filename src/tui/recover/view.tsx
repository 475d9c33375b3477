// The guided recover view: a pure render of RecoverState in a box of the given size.
import { Box, Text } from 'ink';
import { useSyncExternalStore } from 'react';
import type { RecoverSession } from './session.js';
import {
  headline,
  mainLines,
  paneLines,
  windowOf,
  type Line,
  type LineStyle,
  type RecoverState,
} from './state.js';

export interface RecoverViewProps {
  readonly state: RecoverState;
  readonly width: number;
  readonly height: number;
}

const COLOR: Record<LineStyle, string | undefined> = {
  title: undefined,
  fail: 'red',
  warn: 'yellow',
  ok: 'green',
  dim: 'gray',
  text: undefined,
  heading: 'cyan',
  selected: 'cyan',
  confirm: 'yellow',
  error: 'red',
};

function Row({ line }: { line: Line }) {
  const color = COLOR[line.style];
  return (
    <Text
      wrap="truncate"
      bold={line.style === 'heading' || line.style === 'selected' || line.style === 'confirm'}
      {...(color ? { color } : {})}
    >
      {line.text === '' ? ' ' : line.text}
    </Text>
  );
}

/**
 * The rows that fit: the window keeps the selected line in view (PgUp/PgDn move it further) and a
 * last row counts what is below ("↓ 3 more lines").
 */
function fitWindow(
  lines: readonly Line[],
  room: number,
  selectedAt: number,
  scroll: number,
): Line[] {
  if (lines.length <= room) return [...lines];
  const inner = Math.max(1, room - 1);
  // Start so the selected line and a few after it (its evidence, its fix) are in view.
  const follow =
    selectedAt + 4 < inner ? 0 : Math.max(0, Math.min(selectedAt - 1, lines.length - inner));
  const from = Math.min(Math.max(0, follow + scroll), Math.max(0, lines.length - inner));
  const shown = windowOf(lines, inner, from);
  const below = lines.length - from - shown.length;
  const more = [from > 0 ? `↑ ${from} above` : '', below > 0 ? `↓ ${below} more lines` : '']
    .filter(Boolean)
    .join(' · ');
  return [...shown, { text: `${more} (↑↓ select · PgUp/PgDn scroll)`, style: 'dim' }];
}

export function RecoverView({ state, width, height }: RecoverViewProps) {
  const w = Math.max(20, width);
  const h = Math.max(6, height);
  const title: Line = { text: headline(state), style: 'title' };
  const notice: Line | undefined = state.notice
    ? {
        text: state.notice.text,
        style:
          state.notice.level === 'error' ? 'error' : state.notice.level === 'warn' ? 'warn' : 'dim',
      }
    : undefined;
  const busy: Line | undefined = state.busy
    ? { text: `${state.busy} running on ${state.node}…`, style: 'warn' }
    : undefined;
  const top = [busy, notice].filter((l): l is Line => l !== undefined);
  let rows: Line[];
  const room = Math.max(1, h - 1 - top.length);
  if (state.pane === 'main') {
    const { body, selectedAt } = mainLines(state, w);
    rows = fitWindow(body, room, selectedAt, state.scroll);
  } else {
    rows = fitWindow(paneLines(state, w), room, 0, state.scroll);
  }
  return (
    <Box flexDirection="column" width={w} height={h}>
      <Text bold wrap="truncate">
        {title.text}
      </Text>
      {top.map((l, i) => (
        <Row key={`t${i}`} line={l} />
      ))}
      {rows.map((l, i) => (
        <Row key={i} line={l} />
      ))}
    </Box>
  );
}

/** The view bound to a live session (re-renders on every change of its state). */
export function RecoverPanel({
  session,
  width,
  height,
}: {
  readonly session: RecoverSession;
  readonly width: number;
  readonly height: number;
}) {
  const state = useSyncExternalStore(session.subscribe, session.getState);
  return <RecoverView state={state} width={width} height={height} />;
}
