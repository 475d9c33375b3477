// Magic rollback on the node (lib/watchdog.sh), with real bash, git and Docker: a verify that must
// be confirmed does not record known-good; without `deploy.sh confirm` in time the node's watchdog
// rolls back by itself in a run of its own; a confirmation after that is refused; a confirmation in
// time records known-good and the watchdog goes away. Every wait polls the node's state.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeFixture } from '../../support/node-fixture.js';
import { requireLab } from '../../support/lab.js';
import { kv, until } from '../../support/magic-rollback-wait.js';

const ok = requireLab('docker');

const alive = (pid: string): boolean => /^\d+$/.test(pid) && existsSync(`/proc/${pid}`);

describe.skipIf(!ok)('magic rollback on the node', () => {
  let fx: NodeFixture;
  let c1 = '';
  let c2 = '';
  const confirmState = (): Record<string, string> => kv(fx.readState('confirm'));
  const runIdOf = (stdout: string): string => /"run":"([^"]+)"/.exec(stdout)?.[1] ?? '';

  beforeAll(async () => {
    ({ fx, sha: c1 } = await NodeFixture.deployedWeb('mr', {}));
    writeFileSync(join(fx.serviceDir('web'), 'www', 'index.html'), 'v2\n');
    c2 = fx.commit('web: v2');
  }, 120_000);
  afterAll(() => fx?.cleanup());

  async function deployC2(): Promise<void> {
    for (const [stage, args] of [
      ['prepare', ['--ref', c2]],
      ['deploy', []],
    ] as const) {
      const r = await fx.run(stage, args);
      expect(r.code, `${stage}: ${r.stdout}${r.stderr}`).toBe(0);
    }
    expect(await fx.httpGet('web')).toBe('v2\n');
  }

  it('no confirmation: the node rolls back by itself within the timeout; a late confirm is refused', async () => {
    await deployC2();
    const t0 = Date.now();
    const v = await fx.run('verify', ['--confirm', '--confirm-timeout', '3']);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    const run = runIdOf(v.stdout);
    const armed = v.events.find((e) => e.type === 'step' && e.step === 'confirm');
    expect(armed).toMatchObject({ status: 'start' });
    // Verified, but not known-good: that waits for SATURN.
    expect(fx.readState('known_good').trim()).toBe(c1);
    expect(confirmState()).toMatchObject({ state: 'waiting', run, commit: c2, previous: c1 });
    expect(alive(confirmState().watchdog_pid ?? '')).toBe(true);

    // While it waits, nothing else changes the node.
    const d = await fx.run('deploy', []);
    expect(d.code).toBe(1);
    expect(d.stderr).toContain(`waits for SATURN to confirm ${c2}`);

    const done = await until('the watchdog to roll back', 90_000, () =>
      confirmState().state === 'rolled-back' ? confirmState() : undefined,
    );
    // Not before the deadline.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);
    const rollbackLog = (): string =>
      done.rollback_log ? readFileSync(done.rollback_log, 'utf8') : 'no log';
    expect(done.rollback_result, rollbackLog()).toBe('ok');
    expect(done.rollback_run).toBe(`wd-${run}`);
    expect(fx.readState('known_good').trim()).toBe(c1);
    expect(kv(fx.readState('current_stage'))).toMatchObject({
      stage: 'verify',
      status: 'ok',
      run: `wd-${run}`,
      run_stage: 'rollback',
      target: c1,
    });
    expect(await fx.httpGet('web')).toBe('hello from web\n');
    // Its own run, its own log; the rollback's verify of the known-good waits for nothing.
    const log = readFileSync(done.rollback_log ?? '', 'utf8');
    expect(log.split('\n')[0]).toContain(`"run":"wd-${run}"`);
    expect(log).not.toContain('"step":"confirm"');

    // The status record says so.
    const st = await fx.run('status', []);
    const status = st.events.find((e) => e.type === 'status');
    expect(status?.type === 'status' && status.status.confirm).toMatchObject({
      state: 'rolled-back',
      commit: c2,
      previous: c1,
      timeout: 3,
      rollbackResult: 'ok',
      rollbackLog: done.rollback_log,
    });

    // Too late: refused, and nothing changes.
    const late = await fx.run('confirm', ['--run', run]);
    expect(late.code).toBe(1);
    const rec = late.events.find((e) => e.type === 'confirm');
    expect(rec).toMatchObject({ result: 'refused', commit: c2 });
    expect(rec?.type === 'confirm' && rec.detail).toContain('rolling back by itself');
    expect(fx.readState('known_good').trim()).toBe(c1);
    expect(confirmState().state).toBe('rolled-back');
  }, 180_000);

  it('confirmed in time (the manifest asks for it): known-good recorded, the watchdog gone', async () => {
    // The topology's `confirm: required` reaches the node as the manifest's confirm record.
    const manifest = join(fx.saturn, 'hosts', fx.node, 'node.manifest');
    writeFileSync(manifest, `${readFileSync(manifest, 'utf8')}confirm\trequired\t30\n`);
    c2 = fx.commit('web: v2, confirm required');
    await deployC2();
    const v = await fx.run('verify', []);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    const run = runIdOf(v.stdout);
    expect(confirmState()).toMatchObject({ state: 'waiting', run, commit: c2, timeout: '30' });
    const pid = confirmState().watchdog_pid ?? '';
    expect(alive(pid)).toBe(true);
    expect(fx.readState('known_good').trim()).toBe(c1);

    // Another run's id is not this confirmation.
    const wrong = await fx.run('confirm', ['--run', `${run}x`]);
    expect(wrong.code).toBe(1);
    expect(fx.readState('known_good').trim()).toBe(c1);

    const c = await fx.run('confirm', ['--run', run]);
    expect(c.code, c.stdout + c.stderr).toBe(0);
    expect(c.events.find((e) => e.type === 'confirm')).toMatchObject({
      result: 'confirmed',
      commit: c2,
    });
    expect(fx.readState('known_good').trim()).toBe(c2);
    expect(confirmState().state).toBe('confirmed');
    await until('the watchdog to exit', 10_000, () => (alive(pid) ? undefined : true));
    // A second confirmation of the same run is fine; the node stays at c2.
    const again = await fx.run('confirm', ['--run', run]);
    expect(again.code).toBe(0);
    expect(await fx.httpGet('web')).toBe('v2\n');
    expect(fx.readState('known_good').trim()).toBe(c2);
  }, 180_000);
});
