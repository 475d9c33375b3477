// `homelab init`: what a new homelab repo holds, the refusals, --force and --example.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';

let dir: string;
const env = {
  ...process.env,
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@h',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@h',
};
const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', args, { cwd, env, encoding: 'utf8' }).trim();

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'homelab-init-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('homelab init', () => {
  it('writes the homelab and commits it; the name comes from the folder', async () => {
    const r = await runCli(['init', 'My Lab'], { cwd: dir, env });
    expect(r.code).toBe(0);
    const repo = join(dir, 'My Lab');
    for (const f of [
      'inventory/topology.yaml',
      'inventory/templates/how_to_add_new_node.yaml',
      'hosts/README.md',
      'scripts/deploy/deploy.sh',
      'scripts/deploy/lib/protocol.sh',
      'scripts/bootstrap/bootstrap-node.sh',
      'scripts/VERSION',
      'prompts/recover-node.md',
      '.gitignore',
      'README.md',
    ])
      expect(existsSync(join(repo, f)), f).toBe(true);
    expect(git(repo, 'status', '--porcelain')).toBe('');
    expect(git(repo, 'ls-files')).toContain('scripts/deploy/deploy.sh');
    const topo = readFileSync(join(repo, 'inventory/topology.yaml'), 'utf8');
    expect(topo).toContain('homelab: my-lab');
    expect(r.stdout).toContain('a placeholder: set git.remote');
    // No node yet: validate says what is missing.
    const v = await runCli(['validate'], { cwd: repo, env });
    expect(v.stdout).toMatch(/inventory\/topology.yaml:\d+:\d+: nodes: /);
    // .gitignore keeps secrets out.
    writeFileSync(join(repo, 'hosts', 'x.env'), 'A=1\n');
    writeFileSync(join(repo, '.env'), 'A=1\n');
    expect(git(repo, 'status', '--porcelain')).toBe('');
  });

  it('refuses a folder that is not empty, unless --force', async () => {
    const d = join(dir, 'busy');
    mkdirSync(d);
    writeFileSync(join(d, 'notes.txt'), 'mine\n');
    const r = await runCli(['init', d], { cwd: dir, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is not empty');
    expect(existsSync(join(d, 'inventory'))).toBe(false);
    const f = await runCli(['init', d, '--force', '--remote', '/srv/git/busy.git'], {
      cwd: dir,
      env,
    });
    expect(f.code).toBe(0);
    expect(readFileSync(join(d, 'notes.txt'), 'utf8')).toBe('mine\n');
    expect(git(d, 'remote', 'get-url', 'origin')).toBe('/srv/git/busy.git');
  });

  it('--example gives the realistic example homelab, valid', async () => {
    const d = join(dir, 'example');
    expect((await runCli(['init', d, '--example'], { cwd: dir, env })).code).toBe(0);
    const v = await runCli(['validate'], { cwd: d, env });
    expect(v.stdout).toContain('valid: mesh-lab (4 nodes, 8 services)');
  });

  it('with --node writes the first node; refuses bad flags before writing anything', async () => {
    const d = join(dir, 'first');
    const bad = await runCli(['init', d, '--node', 'Bad Name', '--address', 'x'], {
      cwd: dir,
      env,
    });
    expect(bad.code).toBe(1);
    expect(existsSync(d)).toBe(false);
    const noAddr = await runCli(['init', d, '--node', 'vega'], { cwd: dir, env });
    expect(noAddr.code).toBe(2);
    const r = await runCli(
      [
        'init',
        d,
        '--remote',
        'ssh://git@saturn/lab.git',
        '--node',
        'vega',
        '--address',
        'vega',
        '--ssh-port',
        '2222',
        '--service',
        'web',
      ],
      { cwd: dir, env },
    );
    expect(r.code).toBe(0);
    expect((await runCli(['validate'], { cwd: d, env })).stdout).toContain(
      'valid: first (1 node, 1 service)',
    );
    expect(git(d, 'log', '--format=%s')).toBe('New homelab first with node vega');
    expect(existsSync(join(d, 'hosts/vega/web/docker-compose.yml'))).toBe(true);
    // The last node can go too (a node that is gone for good: --keep-services skips its deploy).
    const gone = await runCli(['node', 'remove', 'vega', '--keep-services', '--yes'], {
      cwd: d,
      env,
    });
    expect(gone.stderr).toBe('');
    expect(gone.code).toBe(0);
    expect(existsSync(join(d, 'hosts/vega'))).toBe(false);
    expect(readFileSync(join(d, 'inventory/topology.yaml'), 'utf8')).not.toContain('vega:');
  });
});
