// Status probes never make a stage refuse: while two SATURN processes' probes (`deploy.sh status`,
// the TUI's background refresh and a `homelab status`) loop against the node as fast as they
// answer, every deploy and verify started meanwhile takes the node's lock and ends ok: never exit 3,
// never "another run holds the deploy lock". Real sshd, deploy.sh and Docker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openControl } from '../../../src/shell/control/control.js';
import type { Control } from '../../../src/shell/control/types.js';
import { runCli } from '../../support/cli.js';
import { createLabHomelab, type LabHomelab } from '../../support/lab-homelab.js';
import { requireLab } from '../../support/lab.js';

const ok = requireLab('docker', 'sshd');
const NODE = `pp${Math.random().toString(36).slice(2, 7)}`;
const ROUNDS = 3;

describe.skipIf(!ok)('stages started while probes loop', () => {
  let hl: LabHomelab;
  let tui: Control;
  let other: Control;
  const cli = (args: string[]) =>
    runCli(args, { cwd: hl.repoDir, env: { PATH: process.env.PATH, HOME: process.env.HOME } });

  beforeAll(async () => {
    hl = await createLabHomelab({ nodes: [{ name: NODE, services: ['web'] }] });
    hl.bootstrap(NODE);
    for (const stage of ['prepare', 'deploy', 'verify']) {
      const res = await cli(['run', stage, '--node', NODE, '--yes']);
      expect(res.code, res.stderr).toBe(0);
    }
    tui = await openControl({ repoDir: hl.repoDir });
    other = await openControl({ repoDir: hl.repoDir });
  }, 120_000);
  afterAll(async () => {
    await tui?.close();
    await other?.close();
    await hl?.cleanup();
  });

  it(`${ROUNDS} rounds of deploy and verify under looping probes: never refused`, async () => {
    let stop = false;
    let probes = 0;
    let unanswered = 0;
    const loop = async (control: Control): Promise<void> => {
      while (!stop) {
        const p = await control.probe(NODE);
        probes += 1;
        if (!p.reachable) unanswered += 1;
      }
    };
    const loops = [loop(tui), loop(other)];
    try {
      for (let round = 0; round < ROUNDS; round += 1) {
        for (const stage of ['deploy', 'verify'] as const) {
          if (round % 2 === 0) {
            // Through the CLI: a third SATURN process, and its exit code.
            const res = await cli(['run', stage, '--node', NODE, '--yes']);
            expect(res.code, `${stage} round ${round}: ${res.stderr}`).toBe(0);
            expect(res.stderr).not.toMatch(/holds the (deploy )?lock|locked/i);
          } else {
            const outcome = await tui.runStage({ node: NODE, stage });
            expect(outcome, `${stage} round ${round}`).toMatchObject({ result: 'ok', exitCode: 0 });
          }
        }
      }
    } finally {
      stop = true;
      await Promise.all(loops);
    }
    expect(unanswered).toBe(0);
    // The probes really ran throughout (several per stage).
    expect(probes).toBeGreaterThan(ROUNDS * 2 * 2);
  }, 180_000);
});
