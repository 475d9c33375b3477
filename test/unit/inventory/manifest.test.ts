// renderManifest: the exact bytes deploy.sh reads (docs/node-manifest.md).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderManifest } from '../../../src/core/inventory/manifest.js';
import { parseTopology } from '../../../src/core/inventory/parse.js';

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
