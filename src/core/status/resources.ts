// A node's resources (the `resources` record of `deploy.sh resources`) in words, compactly: the
// detail pane's lines (80 columns) and homelab status's line per node. Pure.
import type { ResourcesEvent } from '../protocol/events.js';

/** What SATURN holds of a node's resources: the record, or why there is none. */
export interface NodeResources {
  readonly node: string;
  readonly resources: ResourcesEvent | null;
  /** Why the record could not be read ('' when it was). */
  readonly error: string;
}

/** 1536 -> `1.5K`, 1.5 GiB -> `1.5G` (binary units, one decimal under 10). */
export function humanBytes(bytes: number): string {
  const units = ['B', 'K', 'M', 'G', 'T', 'P'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  const text = v < 10 && i > 0 ? v.toFixed(1) : Math.round(v).toString();
  return `${text}${units[i] ?? ''}`;
}

/** `cpu 12% mem 1.5G in 3 containers` (the node's containers summed). */
export function containersText(r: ResourcesEvent): string {
  if (r.containers.length === 0) return 'no containers run';
  const cpu = r.containers.reduce((s, c) => s + (c.cpuPercent ?? 0), 0);
  const mem = r.containers.reduce((s, c) => s + (c.memBytes ?? 0), 0);
  const n = r.containers.length;
  return `cpu ${cpu.toFixed(cpu < 10 ? 1 : 0)}% mem ${humanBytes(mem)} in ${n} container${n === 1 ? '' : 's'}`;
}

/** `docker 24G/252G 10%` per disk; both as one `disk 24G/252G 10%` when they are the same filesystem. */
export function disksText(r: ResourcesEvent): string {
  const same =
    r.disks.length === 2 &&
    r.disks[0]?.sizeKb === r.disks[1]?.sizeKb &&
    r.disks[0]?.availKb === r.disks[1]?.availKb;
  const disks = same ? r.disks.slice(0, 1) : r.disks;
  return disks
    .map((d) => {
      const pct = d.usedKb + d.availKb > 0 ? (100 * d.usedKb) / (d.usedKb + d.availKb) : 0;
      const name = same ? 'disk' : d.what;
      return `${name} ${humanBytes(d.usedKb * 1024)}/${humanBytes(d.sizeKb * 1024)} ${Math.ceil(pct)}%`;
    })
    .join(', ');
}

/** The busiest containers first: `web 12% 45M` each, as many as `max`. */
export function topContainers(r: ResourcesEvent, max: number): string[] {
  return [...r.containers]
    .sort(
      (a, b) => (b.cpuPercent ?? 0) - (a.cpuPercent ?? 0) || (b.memBytes ?? 0) - (a.memBytes ?? 0),
    )
    .slice(0, max)
    .map(
      (c) =>
        `${c.service || c.container} ${(c.cpuPercent ?? 0).toFixed(1)}% ${c.memBytes === null ? '?' : humanBytes(c.memBytes)}`,
    );
}

/** One line: `cpu 12% mem 1.5G in 3 containers; disk 24G/252G 10%` (and what could not be read). */
export function resourcesText(n: NodeResources): string {
  const r = n.resources;
  if (!r) return `resources unknown: ${n.error || 'not read yet'}`;
  const parts = [containersText(r), disksText(r)].filter(Boolean);
  if (r.error) parts.push(`(${r.error})`);
  return parts.join('; ');
}

/** homelab status's lines below the table: `NODE: cpu …; disk …` per node. */
export function resourcesLines(nodes: readonly NodeResources[]): string[] {
  return nodes.map((n) => `${n.node}: ${resourcesText(n)}`);
}
