// Push first: `homelab run prepare` (and the TUI, through the same planStage) refuses before
// anything runs on the node when SATURN's HEAD is not on git.remote, naming `git push`; after the
// push the same command runs. Real git with a bare remote, real sshd, real deploy.sh, real Docker.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openControl } from '../../../src/shell/control/control.js';
import { runCli } from '../../support/cli.js';
import { createLabHomelab, git, type LabHomelab } from '../../support/lab-homelab.js';
import { requireLab } from '../../support/lab.js';

const ok = requireLab('docker', 'sshd');
const NODE = `pf${Math.random().toString(36).slice(2, 7)}`;

describe.skipIf(!ok)('push first', () => {
  let hl: LabHomelab;
  // SATURN (root) asks a remote owned by the nodes' login user: the lab's git config trusts it
  // (runCli runs in this process, so its git reads this process's environment). Without it
  // `git ls-remote` fails (dubious ownership): the remote cannot be asked.
  const GIT_CONFIG_GLOBAL = join(tmpdir(), 'homelab-lab-gitconfig');
  const cli = async (args: string[], trusted = true, extraEnv: NodeJS.ProcessEnv = {}) => {
    if (trusted) process.env.GIT_CONFIG_GLOBAL = GIT_CONFIG_GLOBAL;
    try {
      return await runCli(args, {
        cwd: hl.repoDir,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...extraEnv },
      });
    } finally {
      delete process.env.GIT_CONFIG_GLOBAL;
    }
  };
  const nodeState = (): string => {
    const root = hl.rootOf(NODE);
    const logs = join(root, 'logs', 'deploy');
    const stage = join(root, 'state', 'deploy', 'current_stage');
    return JSON.stringify([
      existsSync(logs) ? readdirSync(logs).sort() : [],
      existsSync(stage) ? readFileSync(stage, 'utf8') : '',
      git(join(root, 'repo'), 'rev-parse', 'HEAD'),
    ]);
  };

  beforeAll(async () => {
    hl = await createLabHomelab({ nodes: [{ name: NODE, services: ['web'] }] });
    hl.bootstrap(NODE);
  }, 120_000);
  afterAll(async () => {
    await hl?.cleanup();
  });

  it('refuses prepare of a commit not on the remote, nothing runs; after git push it runs', async () => {
    writeFileSync(join(hl.repoDir, 'hosts', NODE, 'web', 'www', 'index.html'), 'unpushed\n');
    git(hl.repoDir, 'add', '-A');
    git(hl.repoDir, 'commit', '-q', '-m', 'web: not pushed yet');
    const head = git(hl.repoDir, 'rev-parse', 'HEAD');
    const before = nodeState();

    const res = await cli(['run', 'prepare', '--node', NODE, '--yes']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`prepare refused on ${NODE}: push first: `);
    expect(res.stderr).toContain('git push');
    expect(res.stderr).toContain('Nothing was run.');
    expect(nodeState()).toBe(before);
    // In colour (FORCE_COLOR=1): "refused" red, the text otherwise the same.
    const coloured = await cli(['run', 'prepare', '--node', NODE, '--yes'], true, {
      FORCE_COLOR: '1',
    });
    expect(coloured.stderr).toContain('\x1b[31mrefused\x1b[39m');
    expect(coloured.stderr.replace(/\x1b\[[0-9;]*m/g, '')).toBe(res.stderr);
    expect(res.stderr).not.toContain('\x1b[');
    expect(nodeState()).toBe(before);

    // The plan the TUI asks from is the same one: refused, with the same words.
    process.env.GIT_CONFIG_GLOBAL = GIT_CONFIG_GLOBAL;
    const control = await openControl({ repoDir: hl.repoDir });
    try {
      const plan = await control.planStage(NODE, 'prepare');
      expect(plan.refusal).toMatch(/^push first: .*git push/);
      expect(plan.commit).toBe(head);
    } finally {
      await control.close();
      delete process.env.GIT_CONFIG_GLOBAL;
    }
    expect(nodeState()).toBe(before);

    git(hl.repoDir, 'push', '-q', 'origin', 'HEAD:main');
    const ran = await cli(['run', 'prepare', '--node', NODE, '--yes']);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stderr).toContain(`prepare ok on ${NODE} at ${head.slice(0, 7)}`);
    expect(ran.stderr).not.toContain('push first');
    expect(ran.stderr).not.toContain('warning:');
  }, 120_000);

  it('a remote SATURN cannot ask is a warning line, not a refusal', async () => {
    const head = git(hl.repoDir, 'rev-parse', 'HEAD');
    const res = await cli(['run', 'prepare', '--node', NODE, '--yes'], false);
    expect(res.stderr).toContain(`warning: cannot ask ${hl.remote} from SATURN`);
    expect(res.stderr).not.toContain('refused');
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain(`prepare ok on ${NODE} at ${head.slice(0, 7)}`);
  }, 120_000);
});
