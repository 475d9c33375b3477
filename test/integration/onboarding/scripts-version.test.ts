// The node scripts as a versioned part of a homelab repo: `homelab validate` warns when the repo's
// scripts are older than the tool's, `homelab scripts update` refreshes them as an uncommitted,
// reviewable change, and a node running older or newer scripts (for a node whose status record does
// not say: scripts/VERSION at its checked-out commit) is named by nodeScriptsNotes, which
// `homelab status` prints.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';
import type { NodeSummary } from '../../../src/core/status/summary.js';
import { nodeScriptsNotes } from '../../../src/shell/onboarding/node-scripts.js';
import { shippedScriptsVersion } from '../../../src/shell/onboarding/versions.js';

let dir: string;
let repo: string;
const env = {
  ...process.env,
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@h',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@h',
};
const git = (...args: string[]): string =>
  execFileSync('git', args, { cwd: repo, env, encoding: 'utf8' }).trim();
const shipped = shippedScriptsVersion();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'homelab-scripts-'));
  repo = join(dir, 'lab');
  const r = await runCli(
    [
      'init',
      repo,
      '--remote',
      '/srv/git/lab.git',
      '--node',
      'vega',
      '--address',
      'vega',
      '--transport',
      'local',
      '--service',
      'web',
    ],
    { cwd: dir, env },
  );
  expect(r.code).toBe(0);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('versioned node scripts', () => {
  it('init stamps the shipped version; validate is quiet while they match', async () => {
    expect(readFileSync(join(repo, 'scripts/VERSION'), 'utf8').trim()).toBe(String(shipped));
    const v = await runCli(['validate'], { cwd: repo, env });
    expect(v.code).toBe(0);
    expect(v.stderr).toBe('');
    const s = await runCli(['scripts', 'status'], { cwd: repo, env });
    expect(s.stdout).toContain(`up to date (v${shipped})`);
  });

  it('validate warns about older scripts; scripts update refreshes them without committing', async () => {
    // A homelab made by an older tool: older stamp, a different deploy.sh.
    writeFileSync(join(repo, 'scripts/VERSION'), `${shipped - 1}\n`);
    appendFileSync(join(repo, 'scripts/deploy/deploy.sh'), '# an older line\n');
    git('commit', '-q', '-am', 'older scripts');
    const head = git('rev-parse', 'HEAD');
    const v = await runCli(['validate'], { cwd: repo, env });
    expect(v.code).toBe(0);
    expect(v.stderr).toContain(
      `scripts/VERSION: the repo carries node scripts v${shipped - 1}; this homelab ships v${shipped}: run \`homelab scripts update\``,
    );
    const u = await runCli(['scripts', 'update'], { cwd: repo, env });
    expect(u.code).toBe(0);
    expect(u.stdout).toContain(`node scripts: v${shipped - 1} -> v${shipped}`);
    expect(u.stdout).toContain('M scripts/VERSION');
    expect(u.stdout).toContain('M scripts/deploy/deploy.sh');
    expect(u.stdout).toContain('Nothing is committed.');
    expect(git('rev-parse', 'HEAD')).toBe(head);
    expect(readFileSync(join(repo, 'scripts/deploy/deploy.sh'), 'utf8')).not.toContain(
      '# an older line',
    );
    expect((await runCli(['validate'], { cwd: repo, env })).stderr).toBe('');
    const again = await runCli(['scripts', 'update'], { cwd: repo, env });
    expect(again.stdout).toContain('M scripts/VERSION'); // still uncommitted, the user's to review
    git('commit', '-q', '-am', 'Node scripts');
    expect((await runCli(['scripts', 'update'], { cwd: repo, env })).stdout).toContain(
      'nothing changed',
    );
  });

  it('names nodes whose checked-out commit carries older, newer or unversioned scripts', async () => {
    const at = (version: string | undefined): string => {
      if (version === undefined) git('rm', '-q', 'scripts/VERSION');
      else writeFileSync(join(repo, 'scripts/VERSION'), `${version}\n`);
      git('add', '-A');
      git('commit', '-q', '--allow-empty', '-m', `scripts ${version ?? 'none'}`);
      return git('rev-parse', 'HEAD');
    };
    const older = at(String(shipped - 1));
    const newer = at(String(shipped + 1));
    const none = at(undefined);
    const same = at(String(shipped));
    const node = (name: string, target: string): NodeSummary =>
      ({ node: name, target, deployed: '', reachable: true }) as unknown as NodeSummary;
    const notes = await nodeScriptsNotes(repo, [
      node('a', older),
      node('b', newer),
      node('c', none),
      node('d', same),
      node('e', ''),
    ]);
    expect(notes).toEqual([
      // The repo carries the tool's scripts again (HEAD): deploying the node is the fix.
      `a runs node scripts v${shipped - 1} (SATURN has v${shipped}): deploy it (homelab run prepare --node a)`,
      `b runs node scripts v${shipped + 1} (SATURN has v${shipped}), newer than this tool understands: upgrade homelab on SATURN`,
      `c runs node scripts from before scripts/VERSION (SATURN has v${shipped}): deploy it (homelab run prepare --node c)`,
    ]);
  });
});
