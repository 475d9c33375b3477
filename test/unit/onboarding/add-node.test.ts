import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  addNodeToTopology,
  newNodeNameFlaw,
  nodeNames,
  starterCompose,
} from '../../../src/core/inventory/add-node.js';
import type { NewNode } from '../../../src/core/inventory/add-node.js';

const vega: NewNode = {
  name: 'vega',
  address: 'vega.tail1234.ts.net',
  role: 'storage',
  tags: ['nas', 'backup'],
  wave: 2,
  services: ['samba', 'web'],
};

const commented = `# The homelab's topology.
homelab: mesh-lab   # name shown in the header
git:
  remote: ssh://git@saturn/srv/git/homelab.git
  branch: main

nodes:
  # DNS and reverse proxy first
  pluto:
    address: pluto.tail1234.ts.net
    role: edge
    tags: [dns, proxy]
    wave: 0
    services:
      - caddy
      - name: pihole
        secrets: [WEBPASSWORD]

  solaria:
    address: "100.64.0.7"
    role: gpu
    tags: [gpu, media]
    services:
      - jellyfin   # media
    # services to add later: ollama

# AI helper
ai:
  command: [claude, -p]
`;

function added(text: string, node: NewNode = vega): { text: string; entry: string; rest: string } {
  const r = addNodeToTopology(text, node);
  if (!r.ok) throw new Error(r.reason);
  return {
    text: r.text,
    entry: r.text.slice(r.inserted.start, r.inserted.end),
    rest: r.text.slice(0, r.inserted.start) + r.text.slice(r.inserted.end),
  };
}

describe('addNodeToTopology', () => {
  it('keeps every byte outside the new entry and places it after the last node, before the next section', () => {
    const { text, entry, rest } = added(commented);
    expect(rest).toBe(commented);
    expect(entry).toBe(
      '\n  vega:\n    address: vega.tail1234.ts.net\n    role: storage\n    tags: [nas, backup]\n    wave: 2\n    services:\n      - samba\n      - web\n',
    );
    // The last node's trailing comment stays with it; the section comment stays with `ai:`.
    expect(text).toContain('    # services to add later: ollama\n\n  vega:\n');
    expect(text).toContain('      - web\n\n# AI helper\nai:\n');
    expect(Object.keys((parse(text) as { nodes: object }).nodes)).toEqual([
      'pluto',
      'solaria',
      'vega',
    ]);
  });

  it('writes in the style of the file: 4-space indent, unindented block lists, no blank lines', () => {
    const text =
      'homelab: lab\ngit:\n    remote: /srv/git/homelab.git\nnodes:\n    a:\n        address: a\n        tags:\n        - x\n        services:\n        - web\n';
    const { entry, rest } = added(text);
    expect(rest).toBe(text);
    expect(entry).toBe(
      '    vega:\n        address: vega.tail1234.ts.net\n        role: storage\n        tags:\n        - nas\n        - backup\n        wave: 2\n        services:\n        - samba\n        - web\n',
    );
  });

  it('adds to a file without a final newline, to an empty `nodes:`, and to a file without nodes', () => {
    const noNewline = 'homelab: lab\nnodes:\n  a:\n    address: a';
    expect(added(noNewline).text).toBe(
      `${noNewline}\n  vega:\n    address: vega.tail1234.ts.net\n    role: storage\n    tags: [nas, backup]\n    wave: 2\n    services:\n      - samba\n      - web\n`,
    );
    const empty = 'homelab: lab\nnodes:\n# more later\n';
    expect(added(empty).rest).toBe(empty);
    expect(
      (parse(added(empty).text) as { nodes: Record<string, unknown> }).nodes.vega,
    ).toMatchObject({ address: 'vega.tail1234.ts.net' });
    const none = 'homelab: lab\n';
    expect(added(none).text).toMatch(/^homelab: lab\nnodes:\n {2}vega:\n/);
  });

  it('quotes values that YAML would read as something else and leaves out what was not given', () => {
    const { entry } = added(commented, {
      name: '42',
      address: '100.64',
      role: 'edge',
      tags: [],
      services: [],
    });
    expect(entry).toBe('\n  "42":\n    address: "100.64"\n    role: edge\n');
    expect(
      nodeNames(
        added(commented, { name: '42', address: '100.64', role: 'edge', tags: [], services: [] })
          .text,
      ),
    ).toContain('42');
  });

  it('keeps CRLF line ends in a file written with them', () => {
    const crlf = commented.replace(/\n/g, '\r\n');
    const { entry, rest } = added(crlf);
    expect(rest).toBe(crlf);
    expect(entry).toBe(
      '\r\n  vega:\r\n    address: vega.tail1234.ts.net\r\n    role: storage\r\n    tags: [nas, backup]\r\n    wave: 2\r\n    services:\r\n      - samba\r\n      - web\r\n',
    );
  });

  it('writes the transport when one is given', () => {
    expect(added(commented, { ...vega, transport: 'ssh' }).entry).toContain('    transport: ssh\n');
  });

  it.each([
    ['Bad', 'uppercase'],
    ['a;b', '";"'],
    ['$(x)', '"$"'],
    ['-edge', 'starts or ends with "-"'],
    ['', 'empty'],
  ])('refuses the node name %j with the reason (%s) and changes nothing', (name, why) => {
    const r = addNodeToTopology(commented, { ...vega, name });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toContain('is not a valid node name');
      expect(r.reason).toContain(why);
    }
  });

  it('refuses a node that exists', () => {
    const r = addNodeToTopology(commented, { ...vega, name: 'solaria' });
    expect(r).toEqual({
      ok: false,
      reason: expect.stringContaining('node "solaria" already exists'),
    });
  });

  it('refuses a file that does not parse or writes nodes in flow style', () => {
    expect(addNodeToTopology('nodes: [\n', vega).ok).toBe(false);
    const flow = addNodeToTopology('homelab: lab\nnodes: {a: {address: a}}\n', vega);
    expect(flow.ok ? '' : flow.reason).toContain('flow style');
  });
});

describe('newNodeNameFlaw', () => {
  it('accepts a fresh DNS label', () => {
    expect(newNodeNameFlaw('vega-2', ['pluto'])).toBeUndefined();
    expect(newNodeNameFlaw('pluto', ['pluto'])).toContain('already exists');
  });
});

describe('starterCompose', () => {
  it('is a compose file with one busybox service listening on loopback, with a healthcheck', () => {
    const c = parse(starterCompose('vega', 'web', 18080)) as {
      services: Record<
        string,
        { image: string; network_mode: string; command: string[]; healthcheck: { test: string[] } }
      >;
    };
    expect(Object.keys(c.services)).toEqual(['web']);
    expect(c.services.web?.image).toBe('busybox:1.36');
    expect(c.services.web?.network_mode).toBe('host');
    expect(c.services.web?.command.join(' ')).toContain('httpd -f -p 127.0.0.1:18080');
    expect(c.services.web?.healthcheck.test).toContain('http://127.0.0.1:18080/');
  });
});

describe('the example homelab', () => {
  // The repo's own example, found from this file (not the working directory): a missing file fails.
  const topology = resolve(import.meta.dirname, '../../../inventory/topology.yaml');

  it('gets a node added with every other byte of inventory/topology.yaml unchanged', () => {
    expect(existsSync(topology), `${topology} is missing`).toBe(true);
    const example = readFileSync(topology, 'utf8');
    const { text, rest, entry } = added(example);
    expect(rest).toBe(example);
    expect(entry.startsWith('\n  vega:\n')).toBe(true); // nodes there are separated by a blank line
    expect(nodeNames(text).at(-1)).toBe('vega');
  });
});
