// "behind" counts the commits that change what a node runs (hosts/<node>/ and scripts/), in a
// real git repo: a commit that touches only one node's folder puts that node behind, no other.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitsBehind } from '../../../src/shell/git.js';

describe('commitsBehind: per node', () => {
  let repo: string;
  let deployed = '';

  const git = (...args: string[]): string =>
    execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();
  const commit = (path: string, text: string, message: string): string => {
    mkdirSync(dirname(join(repo, path)), { recursive: true });
    writeFileSync(join(repo, path), text);
    git('add', '--', path);
    git('commit', '-q', '-m', message);
    return git('rev-parse', 'HEAD');
  };

  beforeAll(() => {
    repo = mkdtempSync(join(tmpdir(), 'homelab-behind-'));
    git('init', '-q', '-b', 'main');
    git('config', 'user.email', 'test@example.invalid');
    git('config', 'user.name', 'test');
    commit('hosts/alpha/web/docker-compose.yml', 'services: {}\n', 'alpha: web');
    commit('hosts/beta/db/docker-compose.yml', 'services: {}\n', 'beta: db');
    deployed = commit('scripts/deploy/deploy.sh', '#!/usr/bin/env bash\n', 'deploy.sh');
  });

  afterAll(() => {
    rmSync(repo, { recursive: true, force: true });
  });

  it('a commit touching only alpha: alpha is 1 behind, beta is up to date', async () => {
    commit('hosts/alpha/web/docker-compose.yml', 'services: {web: {}}\n', 'alpha: web changed');
    expect(await commitsBehind(repo, 'alpha', deployed)).toBe(1);
    expect(await commitsBehind(repo, 'beta', deployed)).toBe(0);
  });

  it('a node whose name prefixes another (alpha, alpha2) is not put behind by it', async () => {
    commit('hosts/alpha2/x/docker-compose.yml', 'services: {}\n', 'alpha2: x');
    expect(await commitsBehind(repo, 'alpha', deployed)).toBe(1);
    expect(await commitsBehind(repo, 'alpha2', deployed)).toBe(1);
  });

  it('a change to scripts/ (what every node runs) puts every node behind', async () => {
    commit('scripts/deploy/deploy.sh', '#!/usr/bin/env bash\n# v2\n', 'deploy.sh v2');
    expect(await commitsBehind(repo, 'alpha', deployed)).toBe(2);
    expect(await commitsBehind(repo, 'beta', deployed)).toBe(1);
  });

  it('docs and the inventory alone put no node behind', async () => {
    commit('docs/notes.md', 'notes\n', 'docs');
    commit('inventory/topology.yaml', 'homelab: x\n', 'topology: comment');
    expect(await commitsBehind(repo, 'beta', deployed)).toBe(1);
    expect(await commitsBehind(repo, 'beta', git('rev-parse', 'HEAD'))).toBe(0);
  });

  it('a commit SATURN does not know is null', async () => {
    expect(await commitsBehind(repo, 'alpha', 'f'.repeat(40))).toBeNull();
  });
});
