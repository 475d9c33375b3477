// The plain status table printed by `homelab status` and by `homelab` when not on a terminal. Pure.
import {
  commitPosition,
  confirmText,
  drifted,
  driftText,
  shortSha,
  stageLabel,
  type NodeSummary,
} from './summary.js';

export interface StatusHeader {
  readonly homelab: string;
  readonly branch: string;
  readonly head: string;
  readonly dirty: readonly string[];
}

/** `mesh-lab · main @ c0ffee0 (uncommitted: 2 under inventory/ or hosts/)` */
export function statusHeader(r: StatusHeader): string {
  const dirty =
    r.dirty.length > 0 ? ` (uncommitted: ${r.dirty.length} under inventory/ or hosts/)` : '';
  return `${r.homelab} · ${r.branch || 'detached'} @ ${shortSha(r.head)}${dirty}`;
}

/** `homelab status` exits 0 only when this holds (and no node drifted: driftLines is empty). */
export function allHealthy(nodes: readonly NodeSummary[]): boolean {
  return nodes.every((n) => n.health === 'healthy');
}

/**
 * Below the table: per node with drift, `drift on NODE:` then each item and its fix, e.g.
 * `  web: container … runs compose config 3f2a…, not the deployed 9c1b…: changed by hand`
 * `    fix: redeploy: homelab run deploy --node pluto (or make the change in Git on SATURN, …)`
 */
export function driftLines(nodes: readonly NodeSummary[]): string[] {
  return drifted(nodes).flatMap((n) => [
    `drift on ${n.node}:`,
    ...(n.drift ?? []).flatMap((d) => [`  ${driftText(d)}`, `    fix: ${d.fix}`]),
  ]);
}

/** Below the table: `NODE: rolled back by itself: SATURN could not confirm within 60 s (…)`. */
export function confirmLines(nodes: readonly NodeSummary[]): string[] {
  return nodes.flatMap((n) => {
    const text = confirmText(n);
    return text ? [`${n.node}: ${text}`] : [];
  });
}

const HEADERS = [
  'NODE',
  'WAVE',
  'ROLE',
  'HEALTH',
  'STAGE',
  'DEPLOYED',
  'POSITION',
  'SERVICES',
] as const;

function servicesCell(s: NodeSummary): string {
  if (!s.reachable) return `${s.reason}: ${s.message}`;
  if (!s.bootstrapped) return 'run `homelab node bootstrap ' + s.node + '`';
  if (s.services.length === 0) return '-';
  return s.services
    .map((svc) => `${svc.name}:${svc.state === 'running' ? svc.health : svc.state}`)
    .join(' ');
}

export function statusRows(nodes: readonly NodeSummary[]): string[][] {
  return nodes.map((s) => [
    s.node,
    String(s.wave),
    s.role,
    s.health,
    stageLabel(s) + (s.lock ? ` (locked by pid ${s.lock.pid})` : ''),
    shortSha(s.deployed),
    s.reachable && s.bootstrapped ? commitPosition(s) : '-',
    servicesCell(s),
  ]);
}

/** Styles a node's cell (colour escapes only; the table pads the plain text). */
export type CellStyle = (
  cell: string,
  column: (typeof HEADERS)[number],
  node: NodeSummary,
) => string;

export function renderStatusTable(
  header: string,
  nodes: readonly NodeSummary[],
  style?: CellStyle,
): string {
  const rows = [Array.from(HEADERS), ...statusRows(nodes)];
  const widths = HEADERS.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const lines = rows.map((r, row) =>
    r
      .map((cell, i) => {
        const node = nodes[row - 1];
        const column = HEADERS[i];
        const styled = style && node && column ? style(cell, column, node) : cell;
        return i === r.length - 1 ? styled : styled + ' '.repeat((widths[i] ?? 0) - cell.length);
      })
      .join('  ')
      .trimEnd(),
  );
  return `${header}\n\n${lines.join('\n')}\n`;
}
