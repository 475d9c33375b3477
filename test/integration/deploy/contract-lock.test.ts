// The deploy lock and the run a follower follows (issue 9), on the real stack: status probes never
// take the lock (no deploy refused while only probes run), five deploys started together with
// probes looping: exactly one runs and every refused one names that live run (never the previous,
// finished one); a lock held by a process that is not deploy.sh is named as such; attach never
// follows a dead run whose pid now belongs to another process.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireLab } from '../../support/lab.js';
import { collect, NodeFixture, type RunOutput } from '../../support/node-fixture.js';
import { failedSteps, records } from '../../support/contract.js';

const ok = requireLab('docker');
const ENV = { HOMELAB_VERIFY_TIMEOUT: '40' };

/** Runs `deploy.sh status` in a loop until stopped; counts the probes. */
function prober(fx: NodeFixture): { stop: () => Promise<number> } {
  let running = true;
  let n = 0;
  const loop = (async () => {
    while (running) {
      const r = await fx.run('status');
      expect(r.code, r.stderr).toBe(0);
      n += 1;
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return n;
    },
  };
}

function lockDetail(r: RunOutput): string {
  const step = failedSteps(r.stdout).find((s) => s.step === 'lock');
  return typeof step?.detail === 'string' ? step.detail : '';
}

describe.skipIf(!ok)('deploy contract: the lock', () => {
  let fx: NodeFixture;

  beforeAll(async () => {
    ({ fx } = await NodeFixture.deployedWeb('lk', ENV));
  }, 120_000);

  afterAll(() => fx?.cleanup());

  // With a shared-flock probe, a third of these were refused (issue 9: 35 of 111).
  it('no run is refused while only status probes run', async () => {
    const probes = [prober(fx), prober(fx)];
    const codes: number[] = [];
    // resume after verify ok takes the lock and ends at once: 12 lock acquisitions.
    for (let i = 0; i < 12; i += 1) {
      const r = await fx.run('resume', [], { env: { HOMELAB_LOCK_WAIT: '0' } });
      codes.push(r.code ?? -1);
      if (r.code !== 0) expect.fail(`run ${i} refused: ${r.stdout}${r.stderr}`);
    }
    const counts = await Promise.all(probes.map((p) => p.stop()));
    expect(codes.every((c) => c === 0)).toBe(true);
    expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
  }, 120_000);

  // A reader holding a shared lock (what every status probe did before) is waited for, briefly.
  it('a run waits for a reader instead of failing at once', async () => {
    const lock = join(fx.root, 'state', 'deploy', 'lock');
    const reader = spawn('flock', ['-s', lock, 'sleep', '1.5'], { stdio: 'ignore' });
    try {
      const deadline = Date.now() + 10_000;
      while (
        !records((await fx.run('status')).stdout).some((e) => e.event === 'status' && e.lock)
      ) {
        if (Date.now() > deadline) expect.fail('the reader never held the lock');
      }
      const r = await fx.run('resume', [], { env: { HOMELAB_LOCK_WAIT: '5' } });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(records(r.stdout).find((e) => e.step === 'lock')).toMatchObject({ status: 'ok' });
    } finally {
      reader.kill('SIGKILL');
    }
  });

  it('five deploys at once with probes looping: one runs, four name it', async () => {
    // A slow first deploy of a new service holds the lock while the others try (gate: 5 s).
    await fx.addService('slow', { gateSeconds: 5 });
    fx.writeManifest();
    const next = fx.commit('a slow service');
    expect((await fx.run('prepare', ['--ref', next])).code).toBe(0);
    const probes = [prober(fx), prober(fx)];
    const runs = await Promise.all(
      Array.from({ length: 5 }, () =>
        fx.run('deploy', [], { env: { HOMELAB_LOCK_WAIT: '1' }, timeoutMs: 90_000 }),
      ),
    );
    await Promise.all(probes.map((p) => p.stop()));
    const winners = runs.filter((r) => r.code === 0);
    const losers = runs.filter((r) => r.code === 3);
    expect(winners, runs.map((r) => r.stdout).join('\n---\n')).toHaveLength(1);
    expect(losers).toHaveLength(4);
    const winnerRun = records(winners[0]?.stdout ?? '').find((e) => e.event === 'run');
    for (const l of losers) {
      // The live holder, by pid and stage; never the prepare that finished before.
      expect(lockDetail(l)).toContain(`pid ${String(winnerRun?.pid)} `);
      expect(lockDetail(l)).toContain('running deploy');
    }
    expect(fx.containerStates('slow')).toEqual(['running', 'running']);
  }, 120_000);

  it('a lock held by another program is named as such, with its pid and command', async () => {
    const lock = join(fx.root, 'state', 'deploy', 'lock');
    const holder: ChildProcess = spawn('flock', [lock, 'sleep', '60'], { stdio: 'ignore' });
    try {
      // Wait until the probe sees it held (never sleep to synchronise).
      const deadline = Date.now() + 10_000;
      for (;;) {
        const st = await fx.run('status');
        const rec = records(st.stdout).find((e) => e.event === 'status');
        const l = rec?.lock as Record<string, unknown> | null | undefined;
        if (l) {
          expect(l).toMatchObject({ holder: 'other', pid: holder.pid });
          expect(String(l.command)).toContain('sleep 60');
          break;
        }
        if (Date.now() > deadline) expect.fail('the flock holder never showed in status');
      }
      const r = await fx.run('deploy', [], { env: { HOMELAB_LOCK_WAIT: '0' } });
      expect(r.code, r.stdout + r.stderr).toBe(3);
      expect(lockDetail(r)).toBe(
        `locked by pid ${String(holder.pid)} (flock ${lock} sleep 60), which is not a deploy.sh run`,
      );
      const u = await fx.run('unlock', ['--force']);
      expect(u.code).toBe(1);
      expect(u.stderr).toContain('not a deploy.sh run');
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('attach does not follow a dead run whose pid another process now has', async () => {
    // A run killed before its run-end; its pid is now an unrelated live process.
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    const log = join(fx.root, 'logs', 'deploy', 'deploy_20000101T000000000Z.log');
    try {
      for (const start of ['1', '']) {
        writeFileSync(
          log,
          `@homelab/1 run {"ts":1,"run":"dead-run","stage":"deploy","node":"${fx.node}","commit":"","log":"${log}","pid":${String(other.pid)}${start ? `,"pid_start":${start}` : ''}}\n`,
        );
        writeFileSync(
          fx.stateFile('last_run'),
          `run=dead-run\nlog=${log}\npid=${String(other.pid)}\npid_start=${start}\nstage=deploy\n`,
        );
        for (const args of [[], ['--run', 'dead-run']]) {
          const r = await collect(fx.spawn('attach', args), 10_000);
          expect(r.code, r.stdout + r.stderr).toBe(1);
          expect(r.stderr).toContain('ended without a run-end record');
        }
      }
    } finally {
      other.kill('SIGKILL');
    }
  });
});
