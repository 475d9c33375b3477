// `homelab node add` on a copy of the example homelab: what the user sees and what lands on disk.
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatProblem } from '../../../src/core/problem.js';
import { loadInventory } from '../../../src/shell/inventory/load.js';
import { planAddNode } from '../../../src/shell/onboarding/add-node.js';
import { runCli } from '../../support/cli.js';

const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');
let repo: string;

beforeEach(() => {
  repo = mkdtempSync(join(tmpdir(), 'homelab-node-add-'));
  cpSync(join(REPO_ROOT, 'inventory'), join(repo, 'inventory'), { recursive: true });
  cpSync(join(REPO_ROOT, 'hosts'), join(repo, 'hosts'), { recursive: true });
});

afterEach(() => rmSync(repo, { recursive: true, force: true }));

/** Every file under the repo with its content: to prove a refusal wrote nothing. */
function tree(dir: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, tree(dir, p));
    else out[p] = readFileSync(join(dir, p), 'utf8');
  }
  return out;
}

const topology = (): string => readFileSync(join(repo, 'inventory/topology.yaml'), 'utf8');

describe('homelab node add', () => {
  it('adds the node with flags: topology entry, starter compose files, manifest, a valid inventory and the next steps', async () => {
    const before = topology();
    const r = await runCli(
      [
        'node',
        'add',
        'vega',
        '--address',
        'vega',
        '--role',
        'storage',
        '--tags',
        'nas,backup',
        '--wave',
        '2',
        '--service',
        'samba',
        '--service',
        'web',
        '--port',
        '18080',
      ],
      { cwd: repo },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);

    const after = topology();
    const entry =
      '\n  vega:\n    address: vega\n    role: storage\n    tags: [nas, backup]\n    wave: 2\n    services:\n      - samba\n      - web\n';
    const at = after.indexOf(entry);
    expect(at).toBeGreaterThan(0);
    expect(after.slice(0, at) + after.slice(at + entry.length)).toBe(before);

    expect(readFileSync(join(repo, 'hosts/vega/samba/docker-compose.yml'), 'utf8')).toContain(
      '127.0.0.1:18080',
    );
    expect(readFileSync(join(repo, 'hosts/vega/web/docker-compose.yml'), 'utf8')).toContain(
      '127.0.0.1:18081',
    );
    expect(readFileSync(join(repo, 'hosts/vega/node.manifest'), 'utf8')).toContain(
      'node\tvega\nrole\tstorage\ntags\tnas,backup\nwave\t2\nservice\tsamba\nservice\tweb\n',
    );
    const loaded = await loadInventory(repo);
    expect(loaded.problems).toEqual([]);
    expect(loaded.inventory?.nodes.map((n) => n.name)).toEqual([
      'saturn',
      'mercury',
      'solaria',
      'venus',
      'vega',
    ]);

    expect(r.stdout).toContain('Added node vega (storage, wave 2, tailscale-ssh to homelab@vega).');
    expect(r.stdout).toContain(
      'git add inventory/topology.yaml hosts/vega && git commit -m "Add node vega" && git push',
    );
    expect(r.stdout).toContain('homelab node bootstrap vega');
    expect(r.stdout).toContain('homelab run prepare --node vega');
    expect(r.stdout.indexOf('bootstrap vega')).toBeLessThan(r.stdout.indexOf('run prepare'));
  });

  it.each([
    ['Bad', 'uppercase letters'],
    ['a;b', '";"'],
    ['$(x)', '"$"'],
  ])('refuses the name %j with the reason and writes nothing', async (name, why) => {
    const before = tree(repo);
    const r = await runCli(['node', 'add', name, '--address', 'vega', '--role', 'storage'], {
      cwd: repo,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `refused: ${JSON.stringify(name)} is not a valid node name: it contains`,
    );
    expect(r.stderr).toContain(why);
    expect(tree(repo)).toEqual(before);
  });

  it('refuses a node that exists and writes nothing', async () => {
    const before = tree(repo);
    const r = await runCli(['node', 'add', 'solaria', '--address', 'solaria2', '--role', 'gpu'], {
      cwd: repo,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('refused: node "solaria" already exists in inventory/topology.yaml');
    expect(tree(repo)).toEqual(before);
  });

  it('refuses bad field values with the reason', async () => {
    const r = await runCli(
      [
        'node',
        'add',
        'vega',
        '--address=-oProxyCommand=x',
        '--role',
        'Storage',
        '--transport',
        'telnet',
        '--service',
        'Web',
      ],
      { cwd: repo },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('"-oProxyCommand=x" is not a usable address');
    expect(r.stderr).toContain('"Storage" is not a valid role name');
    expect(r.stderr).toContain('transport "telnet" is not one of tailscale-ssh, ssh, local');
    expect(r.stderr).toContain('"Web" is not a valid service name');
    expect(existsSync(join(repo, 'hosts/vega'))).toBe(false);
  });

  it('requires the flags when stdin is not a terminal', async () => {
    const r = await runCli(['node', 'add', 'vega'], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'missing --address (stdin is not a terminal, so nothing can be asked)',
    );
  });

  it('refuses, writing nothing, when the result would be invalid (a leftover folder under hosts/vega)', async () => {
    cpSync(join(repo, 'hosts/venus/grafana'), join(repo, 'hosts/vega/grafana'), {
      recursive: true,
    });
    const before = tree(repo);
    const r = await runCli(
      ['node', 'add', 'vega', '--address', 'vega', '--role', 'storage', '--service', 'web'],
      { cwd: repo },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'refused: the inventory already has 1 problem(s) (`homelab validate`); the result would still be invalid',
    );
    expect(r.stderr).toContain('hosts/vega/grafana/: folder is not assigned to node "vega"');
    expect(r.stderr).toContain('Nothing was written.');
    expect(tree(repo)).toEqual(before);
  });

  it('checks the result with the inventory rules, with file:line:col, before writing anything', async () => {
    const before = tree(repo);
    const plan = await planAddNode(repo, {
      name: 'vega',
      address: 'vega; rm -rf /',
      role: 'storage',
      tags: [],
      services: [],
    });
    expect(plan.ok).toBe(false);
    if (plan.ok) return;
    expect(plan.reason).toBe('adding "vega" would leave the inventory invalid');
    expect(plan.problems.map(formatProblem)).toEqual([
      expect.stringMatching(
        /^inventory\/topology\.yaml:\d+:14: nodes\.vega\.address: "vega; rm -rf \/" is not a usable address/,
      ),
    ]);
    expect(tree(repo)).toEqual(before);
  });

  it('keeps a compose file that already exists for a new service', async () => {
    cpSync(join(repo, 'hosts/venus/grafana'), join(repo, 'hosts/vega/grafana'), {
      recursive: true,
    });
    const compose = readFileSync(join(repo, 'hosts/vega/grafana/docker-compose.yml'), 'utf8');
    const r = await runCli(
      ['node', 'add', 'vega', '--address', 'vega', '--role', 'monitoring', '--service', 'grafana'],
      { cwd: repo },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('kept  hosts/vega/grafana/docker-compose.yml (it already existed)');
    expect(readFileSync(join(repo, 'hosts/vega/grafana/docker-compose.yml'), 'utf8')).toBe(compose);
  });

  it('asks for what the flags leave out on a terminal, re-asking after an invalid answer', async () => {
    const before = topology();
    const r = await runCli(['node', 'add'], {
      cwd: repo,
      // name (first invalid), address (default = name), role, tags, wave, transport, user, ssh port,
      // identity file, known_hosts, root, services, confirm
      answers: ['Vega', 'vega', '', 'storage', 'nas', '', 'ssh', '', '', '', '', '', 'web', 'y'],
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Node name (a DNS label, e.g. vega): ');
    expect(r.stdout).toContain('"Vega" is not a valid node name: it contains uppercase letters');
    expect(r.stdout).toContain('Tailscale name or address [vega]: ');
    expect(r.stdout).toContain('Write these files? [y/N]');
    const after = topology();
    const entry =
      '\n  vega:\n    address: vega\n    role: storage\n    tags: [nas]\n    transport: ssh\n    wave: 0\n    services:\n      - web\n';
    expect(after.replace(entry, '')).toBe(before);
    expect(statSync(join(repo, 'hosts/vega/web/docker-compose.yml')).isFile()).toBe(true);
  });

  it('on a terminal, after a refusal by the inventory rules, asks again with the earlier answers as defaults', async () => {
    const r = await runCli(['node', 'add', 'vega', '--address', 'vega', '--role', 'storage'], {
      cwd: repo,
      // tags, wave 3 (a gap: the example uses 0 and 1), transport, the five ssh/root fields,
      // services; then change: keep all but the wave
      answers: [
        ...['', '3', '', '', '', '', '', '', 'web', 'y'],
        ...['', '', '', '', '2', '', '', '', '', '', '', '', 'y'],
      ],
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /refused: adding "vega" would leave the inventory invalid\n {2}inventory\/topology\.yaml:\d+:\d+: nodes\.vega\.wave: no node is in wave 2/,
    );
    expect(r.stdout).toContain('Change the answers? [Y/n]: ');
    expect(r.stdout).toContain('Wave (deploy order, lower first) [3]: ');
    expect(r.stdout).toContain('Services, comma-separated [web]: ');
    expect(topology()).toContain(
      '\n  vega:\n    address: vega\n    role: storage\n    wave: 2\n    services:\n      - web\n',
    );
  });

  it('writes nothing when the user declines on a terminal or the input ends', async () => {
    const before = tree(repo);
    const no = await runCli(
      [
        'node',
        'add',
        'vega',
        '--address',
        'vega',
        '--role',
        'storage',
        '--tags',
        '',
        '--wave',
        '1',
        '--transport',
        'ssh',
        '--service',
        'web',
      ],
      // user, ssh port, identity file, known_hosts, root: defaults; then decline
      { cwd: repo, answers: ['', '', '', '', '', 'n'] },
    );
    expect(no.code).toBe(1);
    expect(no.stdout).toContain('Nothing was written.');
    // An empty answer to "Write these files? [y/N]" is the default: no.
    const enter = await runCli(
      [
        'node',
        'add',
        'vega',
        '--address',
        'vega',
        '--role',
        'storage',
        '--tags',
        '',
        '--wave',
        '1',
      ],
      { cwd: repo, answers: ['', '', '', '', '', '', 'web', ''] },
    );
    expect(enter.stdout).toContain('Write these files? [y/N]');
    expect(enter.code).toBe(1);
    expect(enter.stdout).toContain('Nothing was written.');
    const ended = await runCli(['node', 'add', 'vega'], { cwd: repo, answers: ['vega'] });
    expect(ended.code).toBe(1);
    expect(ended.stderr).toContain('input ended before every value was given; nothing was written');
    expect(tree(repo)).toEqual(before);
  });
});
