// The guided recover view: a pure render of RecoverState in a box of the given size.
import { Box, Text } from 'ink';
import { useSyncExternalStore } from 'react';
import type { RecoverSession } from '../recover-session.js';
import {
  headline,
  mainLines,
  paneLines,
  windowOf,
  type Line,
  type LineStyle,
  type RecoverState,
} from '../state/recover.js';

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
  if (state.pane === 'main') {
    const { body, actions } = mainLines(state, w);
    const room = Math.max(1, h - 1 - top.length - actions.length - 1);
    rows = [...windowOf(body, room, state.scroll), { text: '', style: 'text' }, ...actions];
  } else {
    rows = windowOf(paneLines(state, w), Math.max(1, h - 1 - top.length), state.scroll);
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
