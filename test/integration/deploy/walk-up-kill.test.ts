// `deploy.sh up --ref SHA` (the fleet walk's one run per node: prepare, deploy, verify) killed with
// SIGKILL at points across its three stages (after its Nth step record), then ONE `deploy.sh
// resume`: it finishes the run, SHA is deployed and verified (known-good), the services serve the
// new page, no temp files, no outage caused by the resume. A run that was not killed is one `run`
// with stage `up` and three stages.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNodeLine } from '../../../src/core/protocol/parse.js';
import { collect } from '../../support/node-fixture.js';
import {
  KILL_ENV,
  killLab,
  resumeOnce,
  resumeProblems,
  type KillLab,
} from '../../support/kill-harness.js';
import { requireLab } from '../../support/lab.js';

const ok = requireLab('docker');

describe.skipIf(!ok)(
  'up killed at points across prepare, deploy and verify, then one resume',
  () => {
    let lab: KillLab;
    let steps: string[] = [];

    /** A new commit changing web's page, not yet on the node's checkout. */
    function nextPage(): { sha: string; page: string } {
      lab.round += 1;
      const page = `web up round ${lab.round}\n`;
      writeFileSync(join(lab.fx.serviceDir('web'), 'www', 'index.html'), page);
      return { sha: lab.fx.commit(`up round ${lab.round}`), page };
    }

    /** Runs `up --ref sha`, SIGKILLs its process group right after its Nth step record. */
    async function killedUp(sha: string, n: number): Promise<{ killed: boolean; at: string }> {
      const child = lab.fx.spawn('up', ['--ref', sha], { env: KILL_ENV });
      let seen = 0;
      let at = '';
      let buf = '';
      child.stdout?.on('data', (d: Buffer) => {
        buf += d.toString('utf8');
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          const l = parseNodeLine(buf.slice(0, i));
          buf = buf.slice(i + 1);
          if (l.kind !== 'event' || l.event.type !== 'step' || at) continue;
          seen += 1;
          if (seen === n && child.pid !== undefined) {
            at = `${l.event.stage}/${l.event.step}${l.event.service ? `/${l.event.service}` : ''}:${l.event.status}`;
            try {
              process.kill(-child.pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }
        }
      });
      const out = await collect(child, 120_000);
      return { killed: at !== '' && out.code !== 0, at };
    }

    beforeAll(async () => {
      lab = await killLab('ku');
      // One clean `up`: its steps are the kill points.
      const { sha } = nextPage();
      const out = await lab.fx.run('up', ['--ref', sha], { env: KILL_ENV });
      expect(out.code, out.stdout + out.stderr).toBe(0);
      const run = out.events.find((e) => e.type === 'run');
      expect(run).toMatchObject({ stage: 'up', commit: sha });
      expect(out.events.flatMap((e) => (e.type === 'stage-start' ? [e.stage] : []))).toEqual([
        'prepare',
        'deploy',
        'verify',
      ]);
      steps = out.events.flatMap((e) =>
        e.type === 'step' ? [`${e.stage}/${e.step}:${e.status}`] : [],
      );
      lab.good = sha;
    }, 180_000);

    afterAll(() => lab?.fx.cleanup());

    it('without --ref it is a usage error and nothing runs', async () => {
      const out = await lab.fx.run('up');
      expect(out.code).toBe(2);
      expect(out.stderr).toContain('up needs --ref SHA');
      expect(out.events).toEqual([]);
    });

    it('SIGKILL after steps in each of its stages, then one resume finishes it', async () => {
      // Points spread over the run: some in prepare, in deploy (around compose up) and in verify.
      const stagesOf = (s: string): string => s.split('/')[0] ?? '';
      const pick = (stage: string, k: number): number[] => {
        const idx = steps.flatMap((s, i) => (stagesOf(s) === stage ? [i + 1] : []));
        const spaced = idx.filter((_, i) => i % Math.max(1, Math.floor(idx.length / k)) === 0);
        return spaced.slice(0, k);
      };
      const points = [...pick('prepare', 2), ...pick('deploy', 3), ...pick('verify', 1)];
      expect(points.length).toBeGreaterThanOrEqual(5);
      const problems: string[] = [];
      const reached: string[] = [];
      for (const n of points) {
        const { sha, page } = nextPage();
        const k = await killedUp(sha, n);
        if (!k.killed) {
          problems.push(`step ${n} (${steps[n - 1] ?? ''}): not killed`);
          continue;
        }
        reached.push(k.at);
        const r = await resumeOnce(lab);
        for (const p of resumeProblems(lab, r, { sha, page })) problems.push(`after ${k.at}: ${p}`);
        lab.good = sha;
      }
      expect(problems).toEqual([]);
      expect(new Set(reached.map((s) => s.split('/')[0]))).toEqual(
        new Set(['prepare', 'deploy', 'verify']),
      );
    }, 900_000);
  },
);
