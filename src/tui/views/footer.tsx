// The bottom line: the keys that work right now, from the key table, as many as fit.
import { Box, Text } from 'ink';
import { activeBindings, footerLabel, type Command } from '../keys.js';
import type { AppState } from '../state/reducer.js';

/**
 * The order keys claim the footer's room in: what moves the homelab forward first (the walkthrough
 * starts with D), then the way out of a failure, then looking around. Keys not listed come last,
 * in table order.
 */
export const FOOTER_PRIORITY: readonly Command[] = [
  'yes',
  'no',
  'rec-resume',
  'rec-rollback',
  'rec-copy',
  'rec-raw',
  'rec-diagnose',
  'rec-back',
  'rec-expand',
  'rec-prompt',
  'rec-log',
  'rec-ai',
  'rec-up',
  'rec-page-down',
  'walk-each',
  'walk-wave',
  'menu-pick',
  'filter-apply',
  'filter-clear',
  'check-done',
  'check-copy',
  'advance',
  'deploy-all',
  'resume',
  'recover',
  'rollback',
  'diagnose',
  'up',
  'menu-up',
  'help-scroll-up',
  'stage-menu',
  'add-node',
  'filter',
  'refresh',
  'log-up',
  'log-down',
  'close',
];

function rank(c: Command): number {
  const i = FOOTER_PRIORITY.indexOf(c);
  return i < 0 ? FOOTER_PRIORITY.length : i;
}

export function footerItems(
  state: AppState,
  width: number,
  acts?: (command: Command) => boolean,
): Array<{ key: string; hint: string }> {
  const all = activeBindings(state)
    .filter((b) => b.group !== 'Recover' || (acts?.(b.command) ?? true))
    .map((b) => ({
      key: footerLabel(b),
      hint: b.hint,
      command: b.command,
    }));
  // Help and quit always make it onto the line; the rest fill it in priority order.
  const pinned = all.filter((i) => i.command === 'help' || i.command === 'quit');
  const rest = all
    .filter((i) => !pinned.includes(i))
    .sort((a, b) => rank(a.command) - rank(b.command));
  const cost = (i: { key: string; hint: string }) => i.key.length + 1 + i.hint.length + 2;
  let used = pinned.reduce((a, i) => a + cost(i), 0);
  const chosen = new Set(pinned);
  for (const i of rest) {
    if (used + cost(i) > width) continue;
    used += cost(i);
    chosen.add(i);
  }
  return [...rest, ...pinned].filter((i) => chosen.has(i)).map(({ key, hint }) => ({ key, hint }));
}

export function Footer({
  state,
  width,
  acts,
}: {
  readonly state: AppState;
  readonly width: number;
  /** For the recover view's keys: whether each acts now. */
  readonly acts?: (command: Command) => boolean;
}) {
  const items = footerItems(state, width, acts);
  return (
    <Box width={width} height={1}>
      <Text wrap="truncate">
        {items.map((i, n) => (
          <Text key={`${i.key}${n}`}>
            <Text bold color="cyan">
              {i.key}
            </Text>
            <Text color="gray">{` ${i.hint}${n < items.length - 1 ? '  ' : ''}`}</Text>
          </Text>
        ))}
      </Text>
    </Box>
  );
}
