// renderManifest: the exact bytes deploy.sh reads (docs/node-manifest.md).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderManifest } from '../../../src/core/inventory/manifest.js';
import { parseTopology } from '../../../src/core/inventory/parse.js';
import { syncManifests } from '../../../src/shell/inventory/manifests.js';
import { filesFor, validate } from './helpers.js';

const TOPOLOGY = `homelab: mesh-lab
git: { remote: "ssh://git@saturn/srv/git/homelab.git" }
nodes:
  saturn:
    address: saturn
    role: control
    services:
      - name: gitea
        secrets: [GITEA_DB_PASSWORD, GITEA_SECRET_KEY]
        checks:
          - http: http://127.0.0.1:3000/api/healthz
          - tcp: 127.0.0.1:2222
  solaria:
    address: solaria
    tags: [gpu, media]
    wave: 1
    services:
      - name: ollama
        override: required
      - jellyfin
`;

describe('renderManifest', () => {
  const { inventory } = parseTopology(TOPOLOGY);
  if (!inventory) throw new Error('fixture topology is invalid');
  const [saturn, solaria] = inventory.nodes;

  it('writes one tab-separated record a line, services with their secrets, override and checks', () => {
    expect(renderManifest(inventory, saturn!)).toBe(
      [
        '# Generated from inventory/topology.yaml by `homelab manifest`. Do not edit by hand.',
        'manifest\t1',
        'homelab\tmesh-lab',
        'node\tsaturn',
        'role\tcontrol',
        'tags\t',
        'wave\t0',
        'service\tgitea',
        'secret\tgitea\tGITEA_DB_PASSWORD',
        'secret\tgitea\tGITEA_SECRET_KEY',
        'check\tgitea\thttp\thttp://127.0.0.1:3000/api/healthz\t200',
        'check\tgitea\ttcp\t127.0.0.1\t2222',
        '',
      ].join('\n'),
    );
  });

  it('writes override only for required ones, and the default role', () => {
    expect(renderManifest(inventory, solaria!).split('\n').slice(4)).toEqual([
      'role\tworker',
      'tags\tgpu,media',
      'wave\t1',
      'service\tollama',
      'override\tollama\trequired',
      'service\tjellyfin',
      '',
    ]);
  });

  it('matches the example in docs/node-manifest.md and the committed example manifest', () => {
    const doc = readFileSync(new URL('../../../docs/node-manifest.md', import.meta.url), 'utf8');
    const committed = readFileSync(
      new URL('../../../hosts/solaria/node.manifest', import.meta.url),
      'utf8',
    );
    const example = /```\n(# Generated[\s\S]*?)```/.exec(doc)?.[1];
    expect(example).toBe(committed);
  });
});

describe('the stale-manifest check compares the whole manifest', () => {
  const files = filesFor(TOPOLOGY);
  const path = 'hosts/saturn/node.manifest';
  const good = files[path] ?? '';
  const lines = good.split('\n');

  /** Every way a committed manifest can differ from what the topology renders, at every line. */
  const variants: { readonly what: string; readonly text: string; readonly line: number }[] = [
    ...lines.slice(0, -1).map((l, i) => ({
      what: `line ${i + 1} changed`,
      text: [...lines.slice(0, i), `${l}x`, ...lines.slice(i + 1)].join('\n'),
      line: i + 1,
    })),
    ...lines.slice(0, -1).map((_, i) => ({
      what: `line ${i + 1} removed`,
      text: [...lines.slice(0, i), ...lines.slice(i + 1)].join('\n'),
      line: i + 1,
    })),
    { what: 'a line appended', text: `${good}service\textra\n`, line: lines.length },
    { what: 'the last newline removed', text: good.slice(0, -1), line: lines.length },
    { what: 'a blank line appended', text: `${good}\n`, line: lines.length + 1 },
  ];

  it('has a manifest of several lines to change', () => {
    expect(lines.length).toBeGreaterThan(8);
    expect(validate(TOPOLOGY, files)).toEqual([]);
  });

  it('homelab validate reports each difference, at its line', () => {
    for (const v of variants) {
      const problems = validate(TOPOLOGY, { ...files, [path]: v.text });
      expect(problems, v.what).toHaveLength(1);
      expect(problems[0], v.what).toMatch(
        new RegExp(
          `^${path}:\\d+:1: out of date with inventory/topology.yaml \\(line ${v.line} differs\\)`,
        ),
      );
    }
  });

  it('homelab manifest --check finds each one stale, and writing makes it current', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'homelab-stale-'));
    try {
      const { inventory } = parseTopology(TOPOLOGY);
      if (!inventory) throw new Error('fixture topology is invalid');
      const file = join(dir, path);
      await syncManifests(dir, inventory, { check: false });
      expect(readFileSync(file, 'utf8')).toBe(good);
      for (const v of variants) {
        writeFileSync(file, v.text);
        const states = await syncManifests(dir, inventory, { check: true });
        expect(states.find((r) => r.path === path)?.state, v.what).toBe('stale');
      }
      const written = await syncManifests(dir, inventory, { check: false });
      expect(written.find((r) => r.path === path)?.state).toBe('updated');
      expect(readFileSync(file, 'utf8')).toBe(good);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
