// The nodes pane: one row per node, grouped by wave, with stage badge, health and commit position.
import { Box, Text } from 'ink';
import { memo } from 'react';
import type { NodeEntry } from '../state/reducer.js';
import {
  HEALTH_COLOUR,
  clip,
  entryHealth,
  healthLabel,
  position,
  spinnerFrame,
  stageBadge,
} from './format.js';
import { updatesLabel } from '../../core/images/updates.js';

export interface NodeListProps {
  readonly nodes: readonly NodeEntry[];
  readonly selected: string;
  readonly head: string;
  readonly spinner: number;
  readonly width: number;
  readonly height: number;
  readonly filter: string;
  readonly loading: boolean;
}

type Row =
  | { readonly kind: 'wave'; readonly wave: number }
  | { readonly kind: 'node'; readonly entry: NodeEntry };

export function nodeRows(nodes: readonly NodeEntry[]): Row[] {
  const rows: Row[] = [];
  let wave: number | null = null;
  for (const entry of nodes) {
    if (entry.spec.wave !== wave) {
      wave = entry.spec.wave;
      rows.push({ kind: 'wave', wave });
    }
    rows.push({ kind: 'node', entry });
  }
  return rows;
}

/** Rows a node list of these nodes wants (wave headings included). */
export function nodeListHeight(nodes: readonly NodeEntry[]): number {
  return Math.max(1, nodeRows(nodes).length);
}

/** First row to show so the selected node stays in view. */
export function windowStart(rows: readonly Row[], selected: string, height: number): number {
  if (rows.length <= height) return 0;
  const at = rows.findIndex((r) => r.kind === 'node' && r.entry.spec.name === selected);
  // Keep the wave heading above the selected node when there is room.
  const want = Math.max(0, at - 1);
  return Math.min(Math.max(0, want - Math.floor(height / 2) + 1), rows.length - height);
}

function NodeListView({
  nodes,
  selected,
  head,
  spinner,
  width,
  height,
  filter,
  loading,
}: NodeListProps) {
  if (nodes.length === 0) {
    return (
      <Box height={height} width={width}>
        <Text color="gray">
          {filter ? `no node matches "${filter}"` : 'the inventory has no nodes'}
        </Text>
      </Box>
    );
  }
  const rows = nodeRows(nodes);
  // Rows that do not fit are counted on the last row ("↑ 2 above · ↓ 3 more"), never dropped silently.
  const room = rows.length > height ? Math.max(1, height - 1) : height;
  const start = windowStart(rows, selected, room);
  const shown = rows.slice(start, start + room);
  const above = rows.slice(0, start).filter((r) => r.kind === 'node').length;
  const below = rows.slice(start + room).filter((r) => r.kind === 'node').length;
  const more = [above > 0 ? `↑ ${above} above` : '', below > 0 ? `↓ ${below} more` : '']
    .filter(Boolean)
    .join(' · ');
  const nameW = Math.min(22, Math.max(6, ...nodes.map((n) => n.spec.name.length))) + 1;
  const badgeW = 17;
  const healthW = 17;
  const posW = 12;
  // "N updates" once the registry was asked (U), taken from the role's room.
  const updW = nodes.some((n) => n.images) ? 10 : 0;
  const roleW = Math.max(4, width - 4 - nameW - badgeW - healthW - posW - updW);
  return (
    <Box flexDirection="column" width={width} height={height}>
      {shown.map((row) => {
        if (row.kind === 'wave') {
          return (
            <Text key={`w${row.wave}`} color="gray" wrap="truncate">
              {`── wave ${row.wave} ${'─'.repeat(Math.max(0, width - 9 - String(row.wave).length))}`}
            </Text>
          );
        }
        const n = row.entry;
        const isSel = n.spec.name === selected;
        const badge = stageBadge(n);
        const health = entryHealth(n);
        // Tailscale SSH holds the node for a browser check (or it waits behind another's).
        const checking = n.probe?.reachable === false && n.probe.reason === 'needs-check';
        const pos = position(n, head);
        const upd = n.images?.loading ? 'asking…' : updatesLabel(n.images);
        const role =
          n.spec.tags.length > 0 ? `${n.spec.role} [${n.spec.tags.join(',')}]` : n.spec.role;
        return (
          <Box key={n.spec.name} width={width} height={1}>
            <Text color={isSel ? 'cyan' : undefined} bold={isSel} inverse={isSel}>
              {isSel ? '▸' : ' '}
            </Text>
            <Text color="cyan">{badge.running ? ` ${spinnerFrame(spinner)} ` : '   '}</Text>
            <Text bold={isSel} color={isSel ? 'cyan' : undefined}>
              {clip(n.spec.name, nameW - 1).padEnd(nameW)}
            </Text>
            <Text color="gray">{clip(role, roleW - 1).padEnd(roleW)}</Text>
            <Text color={badge.colour}>{clip(badge.text, badgeW - 1).padEnd(badgeW)}</Text>
            <Text
              color={loading && !n.probe ? 'gray' : checking ? 'yellow' : HEALTH_COLOUR[health]}
            >
              {clip(
                loading && !n.probe ? 'probing…' : checking ? 'needs check' : healthLabel(health),
                healthW - 1,
              ).padEnd(healthW)}
            </Text>
            <Text color={pos.colour}>
              {updW > 0 ? clip(pos.text, posW - 1).padEnd(posW) : clip(pos.text, posW)}
            </Text>
            {updW > 0 ? (
              <Text color={/update/.test(upd) ? 'yellow' : 'gray'}>{clip(upd, updW - 1)}</Text>
            ) : null}
          </Box>
        );
      })}
      {rows.length > height ? (
        <Text color="gray" wrap="truncate">
          {`    ${more || `${rows.length - room} more rows`} (↑↓ scrolls, / filters)`}
        </Text>
      ) : null}
    </Box>
  );
}

/** Redrawn only when its own props change (not on every batch of log lines). */
export const NodeList = memo(NodeListView);
