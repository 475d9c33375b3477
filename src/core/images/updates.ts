// What `homelab updates` shows: per node and service, the image it runs against what its tag
// points to in the registry now (from the node's `image` records), with the running image's age.
// Pure: the clock is passed in.
import type { ImageEvent } from '../protocol/events.js';

export interface NodeImages {
  readonly node: string;
  readonly images: readonly ImageEvent[];
  /** Why the node could not be asked ('' when it answered). */
  readonly error: string;
}

export interface UpdateRow {
  readonly node: string;
  readonly service: string;
  readonly container: string;
  readonly ref: string;
  readonly running: string;
  readonly latest: string;
  readonly age: string;
  readonly status: ImageEvent['status'] | 'error';
  readonly detail: string;
}

/** "3d", "5h", "12m", "40s" from two instants; '' when the creation time is unknown. */
export function ageOf(created: string, nowMs: number): string {
  const t = Date.parse(created);
  if (!Number.isFinite(t)) return '';
  const s = Math.max(0, Math.floor((nowMs - t) / 1000));
  if (s >= 86_400) return `${Math.floor(s / 86_400)}d`;
  if (s >= 3_600) return `${Math.floor(s / 3_600)}h`;
  if (s >= 60) return `${Math.floor(s / 60)}m`;
  return `${s}s`;
}

/** sha256:abcdef… -> sha256:abcdef123456 (12 hex digits), repo@ dropped. */
export function shortDigest(digest: string): string {
  const d = digest.includes('@') ? digest.slice(digest.lastIndexOf('@') + 1) : digest;
  return /^sha256:[0-9a-f]{12}/.test(d) ? d.slice(0, 19) : d;
}

export function updateRows(nodes: readonly NodeImages[], nowMs: number): UpdateRow[] {
  return nodes.flatMap((n): UpdateRow[] =>
    n.error
      ? [
          {
            node: n.node,
            service: '',
            container: '',
            ref: '',
            running: '',
            latest: '',
            age: '',
            status: 'error',
            detail: n.error,
          },
        ]
      : n.images.map((i) => ({
          node: n.node,
          service: i.service,
          container: i.containerService,
          ref: i.ref,
          running: shortDigest(i.digest || i.id),
          latest: shortDigest(i.remoteDigest),
          age: ageOf(i.created, nowMs),
          status: i.status,
          detail: i.detail,
        })),
  );
}

/** The services of a node whose tag points to a newer image (each once). */
export function updatableServices(images: readonly ImageEvent[]): string[] {
  return [...new Set(images.filter((i) => i.status === 'updatable').map((i) => i.service))];
}

const COLUMNS = ['NODE', 'SERVICE', 'IMAGE', 'RUNNING', 'AGE', 'REGISTRY', 'STATUS'] as const;

export function renderUpdatesTable(rows: readonly UpdateRow[]): string {
  const cells = rows.map((r) => [
    r.node,
    r.container && r.container !== r.service ? `${r.service}/${r.container}` : r.service,
    r.ref,
    r.running,
    r.age,
    r.latest,
    r.status === 'updatable' ? 'update available' : r.status,
  ]);
  const widths = COLUMNS.map((c, i) =>
    Math.max(c.length, ...cells.map((row) => row[i]?.length ?? 0)),
  );
  const line = (row: readonly string[]): string =>
    row
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const out = [line(COLUMNS), ...cells.map(line)];
  const notes = rows
    .filter((r) => r.detail && r.status !== 'current')
    .map((r) => `${r.node}${r.service ? ` ${r.service}` : ''}: ${r.detail}`);
  const n = rows.filter((r) => r.status === 'updatable').length;
  const summary =
    n === 0
      ? 'every image is what its tag points to'
      : `${n} image${n === 1 ? '' : 's'} out of date`;
  return `${[...out, '', ...(notes.length > 0 ? [...notes, ''] : []), summary].join('\n')}\n`;
}

/** Below `homelab status`'s table: the images each node's known-good runs (verify's record). */
export function knownGoodImageLines(
  nodes: ReadonlyArray<{
    readonly node: string;
    readonly services: ReadonlyArray<{
      readonly name: string;
      readonly images?: ReadonlyArray<{ service: string; image: string; digest: string }>;
    }>;
  }>,
): string[] {
  const rows = nodes.flatMap((n) =>
    n.services.flatMap((s) =>
      (s.images ?? []).map(
        (i) =>
          `  ${n.node} ${s.name}${i.service !== s.name ? `/${i.service}` : ''}  ${i.image}  ${
            i.digest ? shortDigest(i.digest) : 'local image (no registry digest)'
          }`,
      ),
    ),
  );
  return rows.length > 0 ? ['known-good images (a rollback starts exactly these):', ...rows] : [];
}

/**
 * What an update of these services changes, one line each: service, image, running digest ->
 * the registry's, and the running image's age. The CLI's question and the TUI's dialog both.
 */
export function updateChanges(
  images: readonly ImageEvent[],
  services: readonly string[],
  nowMs: number,
): string[] {
  return images
    .filter((i) => i.status === 'updatable' && services.includes(i.service))
    .map((i) => {
      const age = ageOf(i.created, nowMs);
      return `${i.service}${i.containerService && i.containerService !== i.service ? `/${i.containerService}` : ''}  ${i.ref}  ${shortDigest(i.digest)} -> ${shortDigest(i.remoteDigest)}${age ? `  (running one built ${age} ago)` : ''}`;
    });
}

/** What an update applies to: per node, its updatable services (of `wanted`, when any named). */
export interface UpdateWork {
  /** Node -> the services to pull and recreate, nodes without any left out. */
  readonly services: ReadonlyMap<string, readonly string[]>;
  /** Named services no asked node runs (a usage error: nothing runs). */
  readonly unknown: readonly string[];
  /** Nodes that could not be asked, with why. */
  readonly errors: ReadonlyArray<{ readonly node: string; readonly error: string }>;
}

export function updateWork(nodes: readonly NodeImages[], wanted: readonly string[]): UpdateWork {
  const services = new Map<string, readonly string[]>();
  const runs = new Set(nodes.flatMap((n) => n.images.map((i) => i.service)));
  for (const n of nodes) {
    if (n.error) continue;
    const s = updatableServices(n.images).filter((x) => wanted.length === 0 || wanted.includes(x));
    if (s.length > 0) services.set(n.node, s);
  }
  return {
    services,
    unknown: wanted.filter((s) => !runs.has(s)),
    errors: nodes.filter((n) => n.error).map((n) => ({ node: n.node, error: n.error })),
  };
}

/** The node list's column: "2 updates", "current", "?" (could not ask), '' (not read yet). */
export function updatesLabel(n: Pick<NodeImages, 'images' | 'error'> | undefined): string {
  if (!n) return '';
  if (n.error) return '? images';
  const k = updatableServices(n.images).length;
  return k === 0 ? 'current' : `${k} update${k === 1 ? '' : 's'}`;
}

/** The detail pane's lines: per service, updatable (old -> new) or its status. */
export function serviceImageLines(images: readonly ImageEvent[]): string[] {
  return images.map((i) => {
    const name =
      i.containerService && i.containerService !== i.service
        ? `${i.service}/${i.containerService}`
        : i.service;
    return i.status === 'updatable'
      ? `${name}: update ${shortDigest(i.digest)} -> ${shortDigest(i.remoteDigest)}`
      : `${name}: ${i.status}${i.detail && i.status !== 'current' ? ` (${i.detail})` : ''}`;
  });
}

/** What the TUI's `u` updates: one service of the selected node, the node, or its whole wave. */
export type UpdateScope =
  | { readonly kind: 'node' }
  | { readonly kind: 'service'; readonly service: string }
  | { readonly kind: 'wave' };
