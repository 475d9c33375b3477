// hosts/<node>/node.manifest: what deploy.sh on a node needs from the topology, as plain
// tab-separated records (format: docs/node-manifest.md). Pure: same inventory, same bytes.
import type { Inventory, NodeSpec } from './model.js';

export const MANIFEST_VERSION = 1;
export const MANIFEST_HEADER =
  '# Generated from inventory/topology.yaml by `homelab manifest`. Do not edit by hand.';

/** Seconds SATURN has to confirm a verify that waits for it (magic rollback). */
export const DEFAULT_CONFIRM_TIMEOUT = 60;

export function manifestPath(node: string): string {
  return `hosts/${node}/node.manifest`;
}

export function renderManifest(inventory: Inventory, node: NodeSpec): string {
  const rows: string[][] = [
    ['manifest', String(MANIFEST_VERSION)],
    ['homelab', inventory.homelab],
    ['node', node.name],
    ['role', node.role],
    ['tags', node.tags.join(',')],
    ['wave', String(node.wave)],
  ];
  // Magic rollback: verify waits for SATURN's confirmation (`optional` carries only the timeout).
  if (node.confirm === 'required' || node.confirmTimeout !== undefined)
    rows.push([
      'confirm',
      node.confirm ?? 'optional',
      String(node.confirmTimeout ?? DEFAULT_CONFIRM_TIMEOUT),
    ]);
  for (const s of node.services) {
    rows.push(['service', s.name]);
    for (const key of s.secrets) rows.push(['secret', s.name, key]);
    if (s.override === 'required') rows.push(['override', s.name, 'required']);
    for (const c of s.checks) {
      if (c.kind === 'http') rows.push(['check', s.name, 'http', c.url, String(c.status)]);
      else rows.push(['check', s.name, 'tcp', c.host, String(c.port)]);
    }
  }
  return `${MANIFEST_HEADER}\n${rows.map((r) => r.join('\t')).join('\n')}\n`;
}
