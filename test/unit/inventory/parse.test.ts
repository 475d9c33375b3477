// Defaults and the resolved Inventory: what a valid topology turns into.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Inventory } from '../../../src/core/inventory/model.js';
import { parseTopology } from '../../../src/core/inventory/parse.js';
import { formatProblem } from '../../../src/core/problem.js';
import { BASE } from './helpers.js';

describe('parseTopology: defaults resolve', () => {
  it('fills every default for a minimal node', () => {
    const { inventory, problems } = parseTopology(
      'homelab: lab\ngit: { remote: "ssh://git@saturn/srv/git/homelab.git" }\nnodes:\n  pluto:\n    address: pluto\n',
    );
    expect(problems).toEqual([]);
    const expected: Inventory = {
      homelab: 'lab',
      git: { remote: 'ssh://git@saturn/srv/git/homelab.git', branch: 'main' },
      nodes: [
        {
          name: 'pluto',
          address: 'pluto',
          role: 'worker',
          tags: [],
          transport: 'tailscale-ssh',
          user: 'homelab',
          root: '/opt/homelab',
          repo: '/opt/homelab/repo',
          wave: 0,
          ssh: { connectTimeout: 5 },
          services: [],
        },
      ],
    };
    expect(inventory).toEqual(expected);
  });

  it('applies defaults: then per-node overrides, field by field for ssh', () => {
    const text = `homelab: lab
git: { remote: "ssh://git@saturn/srv/git/homelab.git", branch: prod }
defaults:
  transport: ssh
  user: deploy
  root: /srv/homelab
  ssh: { connectTimeout: 9, port: 2222, knownHostsFile: ~/.ssh/known_homelab }
nodes:
  a:
    address: 100.64.0.1
  b:
    address: b
    transport: tailscale-ssh
    user: ops
    root: /data/hl
    wave: 1
    ssh: { port: 22 }
  c:
    address: c
    repo: /home/ops/homelab
    wave: 1
ai:
  command: [ollama, run, llama3.1]
`;
    const { inventory, problems } = parseTopology(text);
    expect(problems.map(formatProblem)).toEqual([]);
    const [a, b, c] = inventory?.nodes ?? [];
    expect(inventory?.git).toEqual({
      remote: 'ssh://git@saturn/srv/git/homelab.git',
      branch: 'prod',
    });
    expect(a).toMatchObject({
      transport: 'ssh',
      user: 'deploy',
      root: '/srv/homelab',
      repo: '/srv/homelab/repo',
      wave: 0,
    });
    expect(a?.ssh).toEqual({
      connectTimeout: 9,
      port: 2222,
      knownHostsFile: '~/.ssh/known_homelab',
    });
    expect(b).toMatchObject({
      transport: 'tailscale-ssh',
      user: 'ops',
      root: '/data/hl',
      repo: '/data/hl/repo',
      wave: 1,
    });
    expect(b?.ssh).toEqual({ connectTimeout: 9, port: 22, knownHostsFile: '~/.ssh/known_homelab' });
    expect(c).toMatchObject({ root: '/srv/homelab', repo: '/home/ops/homelab' });
    expect(inventory?.ai).toEqual({ command: ['ollama', 'run', 'llama3.1'] });
  });

  it('expands plain-string services and check defaults, keeping file order', () => {
    const { inventory } = parseTopology(
      `${BASE}        checks:\n          - http: https://127.0.0.1:8443/health\n          - tcp: "[::1]:443"\n          - http: http://127.0.0.1/\n            status: 204\n        override: required\n`,
    );
    expect(inventory?.nodes.map((n) => n.name)).toEqual(['saturn', 'mercury']);
    expect(inventory?.nodes[0]?.services).toEqual([
      { name: 'gitea', secrets: [], checks: [], override: 'optional' },
    ]);
    expect(inventory?.nodes[1]?.services).toEqual([
      {
        name: 'caddy',
        secrets: ['CADDY_TOKEN'],
        checks: [
          { kind: 'http', url: 'https://127.0.0.1:8443/health', status: 200 },
          { kind: 'tcp', host: '::1', port: 443 },
          { kind: 'http', url: 'http://127.0.0.1/', status: 204 },
        ],
        override: 'required',
      },
    ]);
  });

  it('gives no inventory when anything is wrong', () => {
    const r = parseTopology(BASE.replace('wave: 1', 'wave: 3'));
    expect(r.inventory).toBeUndefined();
    expect(r.problems).toHaveLength(2); // waves 1 and 2 are both missing
  });

  it('locate() points at a field for checks made after parsing', () => {
    const r = parseTopology(BASE);
    expect(r.locate('nodes.mercury.services[0]')).toEqual({ line: 12, col: 9 });
    expect(r.locate('nodes.saturn.services[0]')).toEqual({ line: 7, col: 16 });
  });
});

describe('the shipped guide', () => {
  it("how_to_add_new_node.yaml's ready-to-copy entry passes the schema when added to a topology", () => {
    const template = readFileSync(
      new URL('../../../inventory/templates/how_to_add_new_node.yaml', import.meta.url),
      'utf8',
    );
    const nodes = (parse(template) as { nodes: Record<string, unknown> }).nodes;
    const entry = JSON.stringify(nodes.pluto);
    const { inventory, problems } = parseTopology(`${BASE}  pluto: ${entry}\n`);
    expect(problems.map(formatProblem)).toEqual([]);
    const pluto = inventory?.nodes.find((n) => n.name === 'pluto');
    expect(pluto?.services.map((s) => s.name)).toEqual(['syncthing', 'nextcloud']);
  });
});
