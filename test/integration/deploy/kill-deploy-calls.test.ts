// A kill before each docker call of `deploy` (every compose call among them), SIGKILL and
// SIGTERM, then ONE `deploy.sh resume`: exit 0, every container running and healthy, the state
// honest (verify ok, known_good = the target), no temp files, and no outage caused by the resume.
// The kill comes from the docker shim itself on the Nth call (test/support/kill-harness.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireLab } from '../../support/lab.js';
import {
  dockerCalls,
  killedRun,
  killLab,
  nextCommit,
  resumeOnce,
  resumeProblems,
  type KillLab,
} from '../../support/kill-harness.js';

const ok = requireLab('docker');

describe.skipIf(!ok)('deploy killed before each of its docker calls, then one resume', () => {
  let lab: KillLab;
  let calls: string[] = [];

  beforeAll(async () => {
    lab = await killLab('kc');
    await nextCommit(lab);
    calls = await dockerCalls(lab, 'deploy');
    const v = await lab.fx.run('verify', [], { env: { HOMELAB_VERIFY_TIMEOUT: '40' } });
    expect(v.code, v.stdout + v.stderr).toBe(0);
  }, 120_000);

  afterAll(() => lab?.fx.cleanup());

  it('the deploy of a changed service makes its compose calls through the shim', () => {
    expect(calls.some((c) => /^compose .* up -d/.test(c))).toBe(true);
    expect(calls.filter((c) => /^compose .* config$/.test(c))).toHaveLength(2);
  });

  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`${signal} before each docker call of deploy`, async () => {
      const problems: string[] = [];
      const points = calls.flatMap((c, i) =>
        signal === 'SIGKILL' || c.startsWith('compose') ? [i + 1] : [],
      );
      for (const n of points) {
        const want = await nextCommit(lab);
        const k = await killedRun(lab, 'deploy', { kind: 'call', n }, signal);
        if (!k.killed) {
          problems.push(`call ${n}: not reached (${calls[n - 1] ?? ''})`);
          continue;
        }
        expect(k.out.code === null || k.out.code !== 0).toBe(true);
        const r = await resumeOnce(lab, k);
        for (const p of resumeProblems(lab, r, want))
          problems.push(`${signal} before "${k.at}": ${p}`);
      }
      expect(problems).toEqual([]);
    }, 600_000);
  }
});
