// A deploy killed (SIGKILL of its process group) as soon as it has printed each of its `step`
// records, then ONE `deploy.sh resume`: exit 0, every container running and healthy, the state
// verify ok at the target, no temp files, no outage caused by the resume. The kill is driven by the
// run's own records (test/support/kill-harness.ts), so it lands just after that step boundary.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireLab } from '../../support/lab.js';
import {
  KILL_ENV,
  killedRun,
  killLab,
  nextCommit,
  resumeOnce,
  resumeProblems,
  type KillLab,
} from '../../support/kill-harness.js';

const ok = requireLab('docker');

describe.skipIf(!ok)('deploy killed at each step boundary, then one resume', () => {
  let lab: KillLab;
  let steps: string[] = [];

  beforeAll(async () => {
    lab = await killLab('ks');
    await nextCommit(lab);
    const d = await lab.fx.run('deploy', [], { env: KILL_ENV });
    expect(d.code).toBe(0);
    steps = d.events.flatMap((e) =>
      e.type === 'step' ? [`${e.step} ${e.status}${e.service ? ` ${e.service}` : ''}`] : [],
    );
    expect((await lab.fx.run('verify', [], { env: KILL_ENV })).code).toBe(0);
  }, 180_000);

  afterAll(() => lab?.fx.cleanup());

  it('SIGKILL after each step record of deploy', async () => {
    expect(steps).toContain('compose-up start web');
    const problems: string[] = [];
    for (let n = 1; n <= steps.length; n++) {
      const want = await nextCommit(lab);
      const k = await killedRun(lab, 'deploy', { kind: 'step', n }, 'SIGKILL');
      const r = await resumeOnce(lab, k);
      for (const p of resumeProblems(lab, r, want))
        problems.push(`after step ${n} (${steps[n - 1] ?? ''}): ${p}`);
    }
    expect(problems).toEqual([]);
  }, 900_000);
});
