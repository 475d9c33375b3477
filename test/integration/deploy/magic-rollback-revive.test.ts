// Magic rollback when the watchdog is gone (lib/watchdog.sh watchdog_revive), with real bash, git
// and Docker: the watchdog SIGKILLed with its process group, or a node that rebooted (another
// boot id than the one recorded at arming). The next deploy.sh invocation that sees the waiting
// confirmation, SATURN's status probe included, starts the watchdog again with the time that is
// left; past the deadline it rolls back at once, in its own run with its own log. Several
// invocations at once start one watchdog and one rollback, never two (the confirm lock).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confirmText } from '../../../src/core/status/summary.js';
import { NodeFixture } from '../../support/node-fixture.js';
import { requireLab } from '../../support/lab.js';
import { kv, until } from '../../support/magic-rollback-wait.js';

const ok = requireLab('docker');

/** Pids of the live (not stopped) `deploy.sh watchdog --run RUN` processes of this root. */
function watchdogs(root: string, run: string, skip: readonly number[] = []): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || skip.includes(Number(name))) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state === 'Z') continue;
      const at = argv.indexOf('watchdog');
      if (at > 0 && argv[at - 1]?.endsWith('deploy.sh') && argv.includes(root))
        if (argv[argv.indexOf('--run') + 1] === run) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const kill = (pid: number, signal: NodeJS.Signals): void => {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
};

describe.skipIf(!ok)('magic rollback: a watchdog that is gone is started again', () => {
  let fx: NodeFixture;
  let c1 = '';
  let c2 = '';
  let bootFile = '';
  const confirmState = (): Record<string, string> => kv(fx.readState('confirm'));
  const env = (): Record<string, string> => ({ HOMELAB_BOOT_ID_FILE: bootFile });

  beforeAll(async () => {
    // A tolerant healthcheck: slow answers of a loaded machine must not read unhealthy here.
    fx = NodeFixture.create('mrv');
    await fx.addService('web', { healthRetries: 15 });
    fx.writeManifest();
    c1 = fx.commit('one service');
    fx.cloneNode();
    for (const [stage, args] of [
      ['prepare', ['--ref', c1]],
      ['deploy', []],
      ['verify', []],
    ] as const) {
      const r = await fx.run(stage, args);
      expect(r.code, `${stage}: ${r.stdout}${r.stderr}`).toBe(0);
    }
    bootFile = join(fx.root, 'boot_id');
    writeFileSync(bootFile, 'boot-a\n');
    writeFileSync(join(fx.serviceDir('web'), 'www', 'index.html'), 'v2\n');
    c2 = fx.commit('web: v2');
  }, 120_000);
  afterAll(() => fx?.cleanup());

  async function armC2(timeout: number): Promise<string> {
    for (const [stage, args] of [
      ['prepare', ['--ref', c2]],
      ['deploy', []],
      ['verify', ['--confirm', '--confirm-timeout', String(timeout)]],
    ] as const) {
      const r = await fx.run(stage, args, { env: env() });
      expect(r.code, `${stage}: ${r.stdout}${r.stderr}`).toBe(0);
    }
    const c = confirmState();
    expect(c).toMatchObject({ state: 'waiting', commit: c2, previous: c1, boot: 'boot-a' });
    return c.run ?? '';
  }

  it('SIGKILLed, past its deadline: status probes (two at once) start one rollback; status says rolled back by itself', async () => {
    const run = await armC2(2);
    const pid = Number(confirmState().watchdog_pid);
    expect(watchdogs(fx.root, run)).toEqual([pid]);
    // The watchdog runs in its own session: kill its whole process group.
    kill(-pid, 'SIGKILL');
    await until('the watchdog to be gone', 10_000, () =>
      watchdogs(fx.root, run).length === 0 ? true : undefined,
    );
    // Past the deadline, with nobody to roll back: still waiting, the old commit running.
    const deadline = Number(confirmState().deadline);
    await until('the deadline to pass', 15_000, () =>
      Date.now() / 1000 > deadline + 1 ? true : undefined,
    );
    expect(confirmState().state).toBe('waiting');
    expect(await fx.httpGet('web')).toBe('v2\n');

    // SATURN looks (the TUI's refresh and a `homelab status` at once).
    const [s1, s2] = await Promise.all([
      fx.run('status', [], { env: env() }),
      fx.run('status', [], { env: env() }),
    ]);
    expect(s1.code, s1.stderr).toBe(0);
    expect(s2.code, s2.stderr).toBe(0);
    const done = await until('the rollback by itself', 90_000, () =>
      confirmState().state === 'rolled-back' ? confirmState() : undefined,
    );
    const log = done.rollback_log ? readFileSync(done.rollback_log, 'utf8') : 'no log';
    expect(done.rollback_result, log).toBe('ok');
    expect(done.rollback_run).toBe(`wd-${run}`);
    expect(done.revived).toMatch(/^\d+$/);
    expect(log.split('\n')[0]).toContain(`"run":"wd-${run}"`);
    expect(fx.readState('known_good').trim()).toBe(c1);
    expect(await fx.httpGet('web')).toBe('hello from web\n');
    // One rollback, not two: the node's history has one rollback run wd-<run> (its rollback,
    // deploy and verify records once each), one log of it.
    const h = await fx.run('history', [], { env: env() });
    const stages = h.events.flatMap((e) =>
      e.type === 'history' && e.run === `wd-${run}` ? [e.stage] : [],
    );
    expect(stages, h.stdout).toEqual(['rollback', 'deploy', 'verify']);
    const logs = readdirSync(join(fx.root, 'logs', 'deploy')).filter((f) =>
      readFileSync(join(fx.root, 'logs', 'deploy', f), 'utf8').includes(`"run":"wd-${run}"`),
    );
    expect(logs).toHaveLength(1);

    // What SATURN shows.
    const st = await fx.run('status', [], { env: env() });
    const rec = st.events.find((e) => e.type === 'status');
    expect(rec?.type).toBe('status');
    if (rec?.type !== 'status') return;
    expect(confirmText({ confirm: rec.status.confirm ?? null, run: rec.status.run })).toContain(
      'rolled back by itself: SATURN could not confirm within 2 s',
    );
    // A confirmation now is refused.
    const late = await fx.run('confirm', ['--run', run], { env: env() });
    expect(late.code).toBe(1);
    expect(late.events.find((e) => e.type === 'confirm')).toMatchObject({ result: 'refused' });
    expect(fx.readState('known_good').trim()).toBe(c1);
  }, 240_000);

  it('another boot id than at arming (a reboot): three probes at once start one new watchdog; a confirm in time still wins', async () => {
    const run = await armC2(60);
    const old = Number(confirmState().watchdog_pid);
    // A process that happens to have the old pid and start time after a reboot: the old watchdog,
    // stopped, stands for it (alive by pid and start, but of another boot).
    kill(old, 'SIGSTOP');
    try {
      writeFileSync(bootFile, 'boot-b\n');
      const probes = await Promise.all([0, 1, 2].map(() => fx.run('status', [], { env: env() })));
      for (const p of probes) expect(p.code, p.stderr).toBe(0);
      const now = confirmState();
      expect(now).toMatchObject({ state: 'waiting', run, boot: 'boot-b' });
      expect(Number(now.watchdog_pid)).not.toBe(old);
      expect(watchdogs(fx.root, run, [old])).toEqual([Number(now.watchdog_pid)]);
      const rec = probes[2]?.events.find((e) => e.type === 'status');
      expect(rec?.type === 'status' && rec.status.confirm?.watchdogAlive).toBe(true);

      // The same deadline, not a new one: confirmed in time.
      const c = await fx.run('confirm', ['--run', run], { env: env() });
      expect(c.code, c.stdout + c.stderr).toBe(0);
      expect(fx.readState('known_good').trim()).toBe(c2);
      await until('the new watchdog to exit', 10_000, () =>
        watchdogs(fx.root, run, [old]).length === 0 ? true : undefined,
      );
    } finally {
      kill(old, 'SIGKILL');
    }
    expect(confirmState().state).toBe('confirmed');
    expect(await fx.httpGet('web')).toBe('v2\n');
  }, 240_000);
});
