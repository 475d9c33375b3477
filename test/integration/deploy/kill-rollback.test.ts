// A rollback killed before each of its docker calls (every compose call among them), then ONE
// `deploy.sh resume`: it finishes the rollback, the known-good commit runs healthy, the state says
// verify ok at known-good, no temp files, no outage caused by the resume. Kills come from the docker
// shim on the Nth call (test/support/kill-harness.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireLab } from '../../support/lab.js';
import {
  dockerCalls,
  KILL_ENV,
  killedRun,
  killLab,
  nextCommit,
  resumeOnce,
  resumeProblems,
  type KillLab,
} from '../../support/kill-harness.js';

const ok = requireLab('docker');

describe.skipIf(!ok)('rollback killed before each of its docker calls, then one resume', () => {
  let lab: KillLab;
  let calls: string[] = [];
  const page = 'hello from web\n';

  async function deployedAhead(): Promise<void> {
    await nextCommit(lab);
    const d = await lab.fx.run('deploy', [], { env: KILL_ENV });
    expect(d.code, d.stdout + d.stderr).toBe(0);
  }

  beforeAll(async () => {
    lab = await killLab('kb');
    await deployedAhead();
    calls = await dockerCalls(lab, 'rollback');
  }, 180_000);

  afterAll(() => lab?.fx.cleanup());

  it('the rollback makes compose calls: config of each service and up of the changed one', () => {
    expect(calls.filter((c) => /^compose .* config$/.test(c))).toHaveLength(2);
    expect(calls.some((c) => /^compose .*_web .* up -d/.test(c))).toBe(true);
  });

  it('SIGKILL before each docker call of rollback', async () => {
    const problems: string[] = [];
    // the deploy part's calls and the first of verify's
    const last = calls.findIndex((c) => /^compose .* up -d/.test(c)) + 2;
    for (let n = 1; n <= Math.min(last, calls.length); n++) {
      await deployedAhead();
      const k = await killedRun(lab, 'rollback', { kind: 'call', n }, 'SIGKILL');
      if (!k.killed) {
        problems.push(`call ${n}: not reached (${calls[n - 1] ?? ''})`);
        continue;
      }
      const r = await resumeOnce(lab, k);
      for (const p of resumeProblems(lab, r, { sha: lab.good, page }))
        problems.push(`before "${k.at}": ${p}`);
    }
    expect(problems).toEqual([]);
  }, 900_000);
});
