// A rollback killed at each of its docker calls, then ONE `deploy.sh resume`: the known-good digest
// runs again although its tag now points elsewhere. The real registry (Debian's docker-registry)
// and engine: v1 pushed as :latest, deployed and verified (known-good); v2 pushed as :latest and
// deployed (`deploy --update`); then for every N (counted from an unkilled rollback) the rollback is
// killed before its Nth docker call (the shim of test/support/kill-harness.ts) and resumed. The
// resume must start the v1 digest (current_stage's kind=rollback: it writes the pins again), never
// the v2 that :latest names.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../src/shell/free-port.js';
import { requireLab } from '../../support/lab.js';
import { NodeFixture } from '../../support/node-fixture.js';
import { registryWebCompose, TestRepo } from '../../support/registry.js';
import {
  dockerCalls,
  KILL_ENV,
  killedRun,
  nodeStatus,
  writeDockerShim,
  type KillLab,
} from '../../support/kill-harness.js';

const ok = requireLab('docker', 'registry');

const docker = (args: readonly string[]): string =>
  execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

describe.skipIf(!ok)('an interrupted rollback resumes pinned to the known-good digests', () => {
  let lab: KillLab;
  let repo: TestRepo;
  const digests: Record<string, string> = {};
  let calls: string[] = [];

  /** What web's container runs: the image as configured and the file the version wrote. */
  const running = (): { image: string; version: string } => {
    const ids = lab.fx.containerIds('web');
    if (ids.length !== 1) return { image: `${ids.length} containers`, version: '' };
    const id = ids[0] ?? '';
    return {
      image: docker(['inspect', '--format', '{{.Config.Image}}', id]),
      version: docker(['exec', id, 'cat', '/version']),
    };
  };

  /** v2 (what :latest points to now) deployed over the known-good v1. */
  async function deployV2(): Promise<void> {
    const d = await lab.fx.run('deploy', ['--update', 'web'], { env: KILL_ENV });
    expect(d.code, d.stdout + d.stderr).toBe(0);
    expect(running().version).toBe('v2');
  }

  beforeAll(async () => {
    const fx = NodeFixture.create('irr');
    repo = new TestRepo('rbr');
    const port = await freePort();
    digests.v1 = repo.push('v1');
    fx.writeService('web', registryWebCompose(repo.ref('latest'), port));
    fx.writeManifest();
    const good = fx.commit('web from the registry');
    fx.cloneNode();
    for (const [stage, args] of [
      ['prepare', ['--ref', good]],
      ['deploy', []],
      ['verify', []],
    ] as const) {
      const out = await fx.run(stage, args, { env: KILL_ENV });
      expect(out.code, `${stage}:\n${out.stdout}${out.stderr}`).toBe(0);
    }
    lab = { fx, shimDir: writeDockerShim(join(fx.dir, 'shim')), good, round: 0 };
    digests.v2 = repo.push('v2');
    await deployV2();
    // N: the docker calls of an unkilled rollback (it starts the v1 digest, verify included),
    // counted on the second one: the first fills the node's caches (docker and compose versions).
    await dockerCalls(lab, 'rollback');
    await deployV2();
    calls = await dockerCalls(lab, 'rollback');
    expect(running()).toEqual({ image: `${repo.name}@${digests.v1}`, version: 'v1' });
  }, 180_000);

  afterAll(() => {
    lab?.fx.cleanup();
    repo?.cleanup();
  });

  it('the rollback pulls nothing new and makes compose calls in deploy and verify', () => {
    expect(calls.some((c) => /^compose .* up -d/.test(c))).toBe(true);
    expect(calls.length).toBeGreaterThan(4);
  });

  it('SIGKILL before each docker call of the rollback, then resume: the v1 digest runs, verified', async () => {
    const problems: string[] = [];
    const times: number[] = [];
    const phases: string[] = [];
    // ONLY_KILL=3,7 runs only those kill points (to look at one by hand).
    const only = (process.env.ONLY_KILL ?? '').split(',').filter(Boolean).map(Number);
    for (let n = 1; n <= calls.length; n++) {
      if (only.length > 0 && !only.includes(n)) continue;
      const t0 = Date.now();
      await deployV2();
      const t1 = Date.now();
      const k = await killedRun(lab, 'rollback', { kind: 'call', n }, 'SIGKILL');
      const t2 = Date.now();
      if (!k.killed) {
        problems.push(`call ${n}: not reached (${calls[n - 1] ?? ''})`);
        continue;
      }
      const r = await lab.fx.run('resume', [], { env: KILL_ENV });
      const t3 = Date.now();
      const what = `killed before "${k.at}"`;
      if (r.code !== 0) problems.push(`${what}: resume exit ${r.code}: ${r.stderr.slice(-300)}`);
      const now = running();
      if (now.image !== `${repo.name}@${digests.v1}` || now.version !== 'v1')
        problems.push(`${what}: runs ${now.image} (${now.version}), not the known-good v1 digest`);
      const st = await nodeStatus(lab.fx);
      if (st.stage !== 'verify' || st.stageStatus !== 'ok' || st.knownGood !== lab.good)
        problems.push(`${what}: state ${st.stage} ${st.stageStatus} known-good ${st.knownGood}`);
      times.push(Date.now() - t0);
      phases.push(
        `${n}: deploy ${t1 - t0} ms, killed rollback ${t2 - t1} ms, resume ${t3 - t2} ms`,
      );
    }
    const total = times.reduce((a, b) => a + b, 0);
    console.log(
      `images-rollback-resume: ${calls.length} kill points, ${(total / 1000).toFixed(1)} s ` +
        `(${(total / Math.max(1, times.length) / 1000).toFixed(1)} s each: deploy v2, killed rollback, resume)`,
    );
    console.log(phases.join('\n'));
    expect(problems).toEqual([]);
  }, 900_000);
});
