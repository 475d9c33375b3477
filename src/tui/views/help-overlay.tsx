// The ? screen: every binding of the key table, grouped, with its description. Scrolls when the
// terminal is short.
import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { KEY_TABLE, type KeyGroup } from '../keys.js';

const GROUPS: readonly KeyGroup[] = ['Move', 'Stages', 'View', 'Recover', 'Logs', 'Dialogs'];

export interface HelpLine {
  readonly group: KeyGroup;
  readonly label: string;
  readonly description: string;
  readonly changes: boolean;
}

/** Every binding, grouped; `first` puts the keys of the view the help was opened from on top. */
export function helpLines(first?: KeyGroup): HelpLine[] {
  const seen = new Set<string>();
  const out: HelpLine[] = [];
  const groups = first ? [first, ...GROUPS.filter((g) => g !== first)] : GROUPS;
  for (const group of groups) {
    for (const b of KEY_TABLE.filter((x) => x.group === group)) {
      const id = `${b.label}|${b.description}`;
      if (seen.has(id)) continue;
      seen.add(id);
      out.push({ group, label: b.label, description: b.description, changes: b.changes === true });
    }
  }
  return out;
}

/** Rows of the help screen below its title (for the scroll limit). */
export function helpRowCount(): number {
  const lines = helpLines();
  return lines.length + new Set(lines.map((l) => l.group)).size;
}

export function HelpOverlay({
  width,
  height,
  scroll,
  first,
}: {
  readonly width: number;
  readonly height: number;
  readonly scroll: number;
  /** The group of the view beneath (the recover view's keys first when it is open). */
  readonly first?: KeyGroup;
}) {
  const lines = helpLines(first);
  const labelW = Math.max(...lines.map((l) => l.label.length)) + 2;
  const rows: Array<{ key: string; node: ReactNode }> = [];
  let group: KeyGroup | null = null;
  for (const l of lines) {
    if (l.group !== group) {
      group = l.group;
      rows.push({ key: `g${group}`, node: <Text color="magenta">{group}</Text> });
    }
    rows.push({
      key: `${l.group}${l.label}${l.description}`,
      node: (
        <Text wrap="truncate">
          <Text bold color="cyan">{`  ${l.label.padEnd(labelW)}`}</Text>
          <Text color="yellow">{l.changes ? '⚠ ' : '  '}</Text>
          <Text>{l.description}</Text>
        </Text>
      ),
    });
  }
  const room = Math.max(1, height - 1);
  const top = Math.max(0, Math.min(scroll, rows.length - room));
  const more = rows.length - top - room;
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Box height={1} width={width}>
        <Text bold wrap="truncate">
          {`Keys · ⚠ changes a node and asks first · Esc closes${more > 0 ? ` · ↓ ${more} more` : top > 0 ? ' · ↑ more' : ''}`}
        </Text>
      </Box>
      {rows.slice(top, top + room).map((r) => (
        <Box key={r.key} height={1} width={width}>
          {r.node}
        </Box>
      ))}
    </Box>
  );
}
