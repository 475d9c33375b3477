// Taking a node or a service out of inventory/topology.yaml: only the lines of what is removed go
// (with its own comments, and the blank line that separated it); every other byte stays, and the
// result means exactly the old topology without it. Checked on every node and every service of
// the example homelab, and on the file shapes `node add` writes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  addNodeToTopology,
  nodeNames,
  removeNodeFromTopology,
  removeServiceFromTopology,
} from '../../../src/core/inventory/add-node.js';

const EXAMPLE = readFileSync(
  join(import.meta.dirname, '..', '..', '..', 'inventory', 'topology.yaml'),
  'utf8',
);

/** True when `after` is `before` with some whole lines deleted (nothing added or changed). */
function onlyDeletedLines(before: string, after: string): boolean {
  const a = before.split('\n');
  let i = 0;
  for (const line of after.split('\n')) {
    while (i < a.length && a[i] !== line) i++;
    if (i === a.length) return false;
    i++;
  }
  return true;
}

function services(text: string, node: string): string[] {
  const js = parseDocument(text).toJS() as { nodes: Record<string, { services?: unknown[] }> };
  return (js.nodes[node]?.services ?? []).map((s) =>
    typeof s === 'string' ? s : String((s as { name: string }).name),
  );
}

describe('removeNodeFromTopology', () => {
  it.each(nodeNames(EXAMPLE))('removes %s from the example, deleting only its lines', (name) => {
    const r = removeNodeFromTopology(EXAMPLE, name);
    if (!r.ok) throw new Error(r.reason);
    expect(onlyDeletedLines(EXAMPLE, r.text)).toBe(true);
    expect(nodeNames(r.text)).toEqual(nodeNames(EXAMPLE).filter((n) => n !== name));
    expect(r.text).not.toMatch(new RegExp(`^ {2}${name}:`, 'm'));
    // No doubled blank lines left behind.
    expect(r.text).not.toContain('\n\n\n');
  });

  it('undoes node add byte for byte when the node was added last', () => {
    const added = addNodeToTopology(EXAMPLE, {
      name: 'pluto',
      address: 'pluto',
      role: 'worker',
      tags: [],
      services: ['web'],
      ssh: { port: 2222 },
    });
    if (!added.ok) throw new Error(added.reason);
    const r = removeNodeFromTopology(added.text, 'pluto');
    expect(r).toEqual({ ok: true, text: EXAMPLE });
  });

  it('refuses a node that is not there', () => {
    expect(removeNodeFromTopology(EXAMPLE, 'pluto')).toMatchObject({ ok: false });
  });
});

describe('removeServiceFromTopology', () => {
  const cases = nodeNames(EXAMPLE).flatMap((n) => services(EXAMPLE, n).map((s) => [n, s]));
  it.each(cases)('removes %s/%s, deleting only its lines', (node, svc) => {
    const r = removeServiceFromTopology(EXAMPLE, node ?? '', svc ?? '');
    if (!r.ok) throw new Error(r.reason);
    expect(onlyDeletedLines(EXAMPLE, r.text)).toBe(true);
    expect(services(r.text, node ?? '')).toEqual(
      services(EXAMPLE, node ?? '').filter((s) => s !== svc),
    );
    for (const other of nodeNames(EXAMPLE).filter((n) => n !== node))
      expect(services(r.text, other)).toEqual(services(EXAMPLE, other));
  });

  it('removes the services key with the last service, and refuses flow lists and unknown names', () => {
    const text =
      'homelab: t\ngit:\n  remote: /r.git\nnodes:\n  a:\n    address: a\n    services:\n      - web\n  b:\n    address: b\n    services: [x, y]\n';
    const r = removeServiceFromTopology(text, 'a', 'web');
    expect(r).toEqual({
      ok: true,
      text: 'homelab: t\ngit:\n  remote: /r.git\nnodes:\n  a:\n    address: a\n  b:\n    address: b\n    services: [x, y]\n',
    });
    expect(removeServiceFromTopology(text, 'b', 'x')).toMatchObject({ ok: false });
    expect(removeServiceFromTopology(text, 'a', 'nope')).toMatchObject({ ok: false });
  });
});
