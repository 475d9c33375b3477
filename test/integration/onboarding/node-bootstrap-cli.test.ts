// `homelab node bootstrap` through the local transport (real bash, git and Docker on this machine):
// the confirmation before installing, and the refusals a user meets before anything runs.
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireLab } from '../../support/lab.js';
import { runCli } from '../../support/cli.js';

const ok = requireLab('docker');
const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');
const NAME = 'lyra';

let dir: string;
let saturn: string;
let remote: string;
let root: string;
let noGitPath: string;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.email=t@homelab', '-c', 'user.name=t', ...args], {
    cwd,
    encoding: 'utf8',
  }).trim();
}

beforeAll(async () => {
  if (!ok) return;
  dir = mkdtempSync(join(tmpdir(), 'homelab-bootstrap-cli-'));
  saturn = join(dir, 'saturn');
  remote = join(dir, 'remote.git');
  root = join(dir, 'node', 'homelab');
  mkdirSync(saturn);
  for (const d of ['inventory', 'hosts', 'scripts'])
    cpSync(join(REPO_ROOT, d), join(saturn, d), { recursive: true });
  const topo = join(saturn, 'inventory/topology.yaml');
  const doc = parseDocument(readFileSync(topo, 'utf8'));
  doc.setIn(['git', 'remote'], remote);
  doc.setIn(['defaults', 'root'], root);
  writeFileSync(topo, doc.toString());
  git(dir, 'init', '-q', '--bare', '-b', 'main', remote);
  git(saturn, 'init', '-q', '-b', 'main');
  git(saturn, 'remote', 'add', 'origin', remote);
  const added = await runCli(
    [
      'node',
      'add',
      NAME,
      '--address',
      'localhost',
      '--role',
      'worker',
      '--transport',
      'local',
      '--service',
      'web',
    ],
    { cwd: saturn },
  );
  expect(added.code).toBe(0);
  git(saturn, 'add', '-A');
  git(saturn, 'commit', '-qm', `homelab with ${NAME}`);
  git(saturn, 'push', '-q', 'origin', 'main');

  // This machine's commands, except git: a node without Git.
  noGitPath = join(dir, 'bin');
  mkdirSync(noGitPath);
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    if (!existsSync(d)) continue;
    for (const name of readdirSync(d)) {
      if (name !== 'git' && !existsSync(join(noGitPath, name)))
        symlinkSync(join(d, name), join(noGitPath, name));
    }
  }
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!ok)('homelab node bootstrap (local transport)', () => {
  it('without a terminal, names the missing package and the flag that installs it; nothing is changed', async () => {
    const r = await runCli(['node', 'bootstrap', NAME], {
      cwd: saturn,
      env: { ...process.env, PATH: noGitPath },
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ git +git is not installed/);
    expect(r.stdout).toMatch(/✗ packages +missing: git; rerun with --yes to install them/);
    expect(r.stderr).toContain(
      `homelab node bootstrap: ${NAME} lacks git: rerun with --yes to install them (apt-get, as root or with sudo).`,
    );
    expect(existsSync(root)).toBe(false);
  });

  it('on a terminal, asks before installing; "no" installs nothing', async () => {
    const r = await runCli(['node', 'bootstrap', NAME], {
      cwd: saturn,
      env: { ...process.env, PATH: noGitPath },
      answers: ['n'],
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`Install git on ${NAME} (apt-get, as root or with sudo)? [y/N]`);
    expect(r.stderr).toContain('Nothing was installed; the node is not bootstrapped.');
    expect(existsSync(root)).toBe(false);
  });

  it('bootstraps a local node and prints the next steps, starting with the secrets and prepare', async () => {
    const r = await runCli(['node', 'bootstrap', NAME], { cwd: saturn, env: process.env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `Bootstrapping ${NAME} (local homelab@localhost, root ${root}) from ${remote}`,
    );
    expect(r.stdout).toMatch(
      /✓ summary +bootstrapped lyra: 3 change\(s\); ready for the prepare stage/,
    );
    expect(r.stdout).toContain('1. Secrets: nothing missing on the node.');
    expect(r.stdout).toContain(`homelab run prepare --node ${NAME}`);
    expect(existsSync(join(root, 'repo/hosts', NAME, 'node.manifest'))).toBe(true);
    expect(existsSync(join(root, 'config/web/README'))).toBe(true);
  });

  it('refuses a node that is not in the inventory, naming the ones that are', async () => {
    const r = await runCli(['node', 'bootstrap', 'orion'], { cwd: saturn, env: process.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `no node "orion" in inventory/topology.yaml (nodes: saturn, mercury, solaria, venus, ${NAME}); add it first with \`homelab node add orion\``,
    );
  });

  it("warns when SATURN's HEAD is not pushed to the remote the node clones from", async () => {
    git(saturn, 'commit', '-q', '--allow-empty', '-m', 'not pushed yet');
    const head = git(saturn, 'rev-parse', '--short=7', 'HEAD');
    const r = await runCli(['node', 'bootstrap', NAME], { cwd: saturn, env: process.env });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`warning: ${remote} (main at `);
    expect(r.stderr).toContain(
      `lacks SATURN's HEAD ${head}: push first (git push), the node fetches from there`,
    );
    git(saturn, 'push', '-q', 'origin', 'main');
    const pushed = await runCli(['node', 'bootstrap', NAME], { cwd: saturn, env: process.env });
    expect(pushed.stderr).toBe('');
  });

  it('warns about uncommitted changes (the node clones from the remote) and refuses an invalid inventory', async () => {
    const topo = join(saturn, 'inventory/topology.yaml');
    const text = readFileSync(topo, 'utf8');
    try {
      writeFileSync(topo, text.replace('role: worker', 'role: Worker'));
      const r = await runCli(['node', 'bootstrap', NAME], { cwd: saturn, env: process.env });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        'warning: uncommitted changes (inventory/topology.yaml): the node clones from the remote, so commit and push them first.',
      );
      expect(r.stderr).toMatch(
        /inventory\/topology\.yaml:\d+:\d+: nodes\.lyra\.role: "Worker" is not a valid role name/,
      );
      expect(r.stderr).toContain('the inventory is invalid: fix it first (`homelab validate`)');
    } finally {
      writeFileSync(topo, text);
    }
  });
});
