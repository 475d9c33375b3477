// Every stage SATURN starts runs the commit the operator confirmed. After a rollback leaves a node
// at an older commit than SATURN's HEAD, deploy, verify and a resume pinned to HEAD are refused
// before anything runs, naming both commits and the fix; the question and the result of a rollback
// name the known-good it goes to, not HEAD. Real sshd, real deploy.sh, real Docker.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openControl } from '../../../src/shell/control/control.js';
import { runCli } from '../../support/cli.js';
import { createLabHomelab, git, type LabHomelab } from '../../support/lab-homelab.js';
import { requireLab } from '../../support/lab.js';

const ok = requireLab('docker', 'sshd');
const NODE = `pn${Math.random().toString(36).slice(2, 7)}`;

describe.skipIf(!ok)('stages pinned to the confirmed commit', () => {
  let hl: LabHomelab;
  let c1 = '';
  let c2 = '';
  const cli = (args: string[], answers?: string[]) =>
    runCli(args, {
      cwd: hl.repoDir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      ...(answers ? { answers } : {}),
    });
  const logs = (): string[] => readdirSync(join(hl.rootOf(NODE), 'logs', 'deploy')).sort();
  const state = (): string =>
    readFileSync(join(hl.rootOf(NODE), 'state', 'deploy', 'current_stage'), 'utf8');
  const served = (): Promise<string> =>
    fetch(`http://127.0.0.1:${hl.ports.get(`${NODE}/web`)}/`).then((r) => r.text());

  beforeAll(async () => {
    hl = await createLabHomelab({ nodes: [{ name: NODE, services: ['web'] }] });
    hl.bootstrap(NODE);
    c1 = git(hl.repoDir, 'rev-parse', 'HEAD');
    for (const stage of ['prepare', 'deploy', 'verify']) {
      const res = await cli(['run', stage, '--node', NODE, '--yes']);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stderr).toContain(`${stage} ok on ${NODE} at ${c1.slice(0, 7)}`);
    }
    // c2 is deployed but never verified: the known-good stays c1.
    writeFileSync(join(hl.repoDir, 'hosts', NODE, 'web', 'www', 'index.html'), 'v2\n');
    c2 = hl.commit('web: v2');
    for (const stage of ['prepare', 'deploy']) {
      const res = await cli(['run', stage, '--node', NODE, '--yes']);
      expect(res.stderr).toContain(`${stage} ok on ${NODE} at ${c2.slice(0, 7)}`);
    }
    expect(await served()).toBe('v2\n');
  }, 120_000);
  afterAll(async () => {
    await hl?.cleanup();
  });

  it('asks about the known-good it goes to, and reports the commit that ran, not HEAD', async () => {
    const asked = await cli(['run', 'rollback', '--node', NODE], ['n']);
    expect(asked.stdout).toContain(
      `Roll back ${NODE} from ${c2.slice(0, 7)} to known-good ${c1.slice(0, 7)} "lab homelab"`,
    );
    expect(asked.stdout).toContain('Nothing was run.');
    const res = await cli(['run', 'rollback', '--node', NODE, '--yes']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain(`rollback ok on ${NODE} at ${c1.slice(0, 7)}`);
    expect(res.stderr).not.toContain(c2.slice(0, 7) + ' ');
    expect(await served()).toBe(`${NODE}/web\n`);
  }, 90_000);

  it.each(['deploy', 'verify'])(
    '%s --yes refuses a node left at the older commit, before anything runs',
    async (stage) => {
      const [logsBefore, stateBefore] = [logs(), state()];
      const res = await cli(['run', stage, '--node', NODE, '--yes']);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(
        `${stage} refused on ${NODE}: the node is at ${c1.slice(0, 7)}, not ${c2.slice(0, 7)}: prepare first (homelab run prepare --node ${NODE})`,
      );
      expect(res.stderr).not.toContain(`${stage} ok`);
      expect(logs()).toEqual(logsBefore);
      expect(state()).toBe(stateBefore);
      expect(await served()).toBe(`${NODE}/web\n`);
    },
  );

  it('refuses a deploy in the question already, and nothing is asked', async () => {
    const res = await cli(['run', 'deploy', '--node', NODE], ['y']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`the node is at ${c1.slice(0, 7)}, not ${c2.slice(0, 7)}`);
    expect(res.stdout).not.toContain('Proceed?');
  });

  it('the TUI path (Control.runStage with the confirmed HEAD) refuses deploy, verify and resume alike', async () => {
    const control = await openControl({ repoDir: hl.repoDir });
    try {
      for (const stage of ['deploy', 'verify', 'resume'] as const) {
        const logsBefore = logs();
        const outcome = await control.runStage({ node: NODE, stage, commit: c2 });
        expect(outcome, stage).toMatchObject({ result: 'refused', commit: c2, exitCode: null });
        expect(outcome.message).toContain(c1.slice(0, 7));
        expect(outcome.message).toContain('prepare first');
        expect(logs()).toEqual(logsBefore);
      }
      // What the node would resume towards is what the plan names.
      const plan = await control.planStage(NODE, 'resume');
      expect(plan).toMatchObject({ commit: c1, refusal: '' });
    } finally {
      await control.close();
    }
  });

  it('after prepare of HEAD, deploy and verify run HEAD and say so', async () => {
    for (const stage of ['prepare', 'deploy', 'verify']) {
      const res = await cli(['run', stage, '--node', NODE, '--yes']);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stderr).toContain(`${stage} ok on ${NODE} at ${c2.slice(0, 7)}`);
    }
    expect(await served()).toBe('v2\n');
    expect(existsSync(join(hl.rootOf(NODE), 'state', 'deploy', 'known_good'))).toBe(true);
    expect(readFileSync(join(hl.rootOf(NODE), 'state', 'deploy', 'known_good'), 'utf8')).toContain(
      c2,
    );
  }, 90_000);
});
