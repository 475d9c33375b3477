// What one `deploy.sh status` of an unchanged node costs in programs, counted by shims first on
// PATH (docker: test/support/kill-harness.ts; git, stat, timeout, dirname: a logging shim here)
// on real bash, the real engine and a real checkout: ONE `docker ps` (no compose), one bounded
// `git status` for the checkout's drift, one `stat` (the state files' sizes; the lock's inode
// comes from /proc/self/fdinfo, its device is asked only when /proc/locks lists that inode), and
// nothing else. SATURN asks every node for it, often: a regression that adds a call fails here.
// Drift is still found with the same single docker call, and a held lock is still seen.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireLab } from '../../support/lab.js';
import { writeDockerShim } from '../../support/kill-harness.js';
import { NodeFixture, eventsOf } from '../../support/node-fixture.js';
import type { NodeStatusRecord } from '../../../src/core/protocol/events.js';

const ok = requireLab('docker');
const ENV = { HOMELAB_VERIFY_TIMEOUT: '40' };
/** The programs status may run besides docker, each logged by a shim into the same log. */
// (not cat or flock: the docker shim runs those itself)
const COUNTED = ['git', 'stat', 'timeout', 'dirname', 'mktemp', 'sync', 'sha256sum', 'date'];

/** DIR/NAME for each counted program: logs `NAME args` to $SHIM_LOG, then runs the real one. */
function writeProgramShims(dir: string): void {
  for (const name of COUNTED) {
    const real = execFileSync('bash', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    const shim = join(dir, name);
    writeFileSync(
      shim,
      `#!/usr/bin/env bash\n[[ -z "\${SHIM_LOG:-}" ]] || printf '0\\t%s %s\\n' ${name} "$*" >>"\${SHIM_LOG}"\nexec ${real} "$@"\n`,
    );
    chmodSync(shim, 0o755);
  }
}

describe.skipIf(!ok)("an unchanged node's status: the programs it runs", () => {
  let fx: NodeFixture;
  let shim = '';
  let n = 0;

  /** Runs status through the shims: the record and every program it ran, in order. */
  async function status(): Promise<{ record: NodeStatusRecord; calls: string[] }> {
    n += 1;
    const log = join(fx.dir, `status-calls-${n}.log`);
    const r = await fx.run('status', [], {
      env: { PATH: `${shim}:${process.env.PATH ?? ''}`, SHIM_LOG: log },
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const ev = eventsOf(r.stdout).find((e) => e.type === 'status');
    if (ev?.type !== 'status') throw new Error(`no status record:\n${r.stdout}${r.stderr}`);
    const calls = existsSync(log)
      ? readFileSync(log, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => l.split('\t')[1] ?? '')
          // the docker shim logs without the program's name
          .map((c) => (COUNTED.includes(c.split(' ')[0]!) ? c : `docker ${c}`))
      : [];
    return { record: ev.status, calls };
  }

  const kinds = (calls: readonly string[]): string[] =>
    calls.map((c) => {
      const [prog, sub] = c.split(' ');
      if (prog === 'docker') return sub === 'compose' ? 'docker compose' : `docker ${sub}`;
      if (prog === 'git') return / status( |$)/.test(c) ? 'git status' : c;
      return prog!;
    });

  beforeAll(async () => {
    ({ fx } = await NodeFixture.deployedWeb('stc', ENV));
    shim = writeDockerShim(join(fx.dir, 'shim'));
    writeProgramShims(shim);
  }, 120_000);

  afterAll(() => fx?.cleanup());

  it('one docker ps, one git status, one stat, two timeouts: nothing else', async () => {
    const { record, calls } = await status();
    expect(record.docker).toBe('ok');
    expect(record.services.map((s) => `${s.name} ${s.state} ${s.health}`)).toEqual([
      'web running healthy',
    ]);
    expect(record.drift).toEqual([]);
    expect(kinds(calls).sort(), calls.join('\n')).toEqual(
      ['docker ps', 'git status', 'stat', 'timeout', 'timeout'].sort(),
    );
    expect(calls.find((c) => c.startsWith('docker ps'))).toContain(
      '--filter label=com.docker.compose.project',
    );
  }, 60_000);

  it('a held lock is still seen (its inode is listed, then its device asked)', async () => {
    const holder = spawn('flock', ['-x', fx.stateFile('lock'), 'sleep', '60'], {
      stdio: 'ignore',
      detached: true,
    });
    try {
      const deadline = Date.now() + 20_000;
      let record = (await status()).record;
      while (record.lock === null && Date.now() < deadline) record = (await status()).record;
      expect(record.lock).not.toBeNull();
    } finally {
      // the group: sleep holds flock's descriptor too
      process.kill(-holder.pid!, 'SIGKILL');
    }
    const deadline = Date.now() + 20_000;
    let after = (await status()).record;
    while (after.lock !== null && Date.now() < deadline) after = (await status()).record;
    expect(after.lock).toBeNull();
  }, 60_000);

  it('drift is still found, with the same single docker call', async () => {
    execFileSync('docker', ['rm', '-f', ...fx.containerIds('web')], { stdio: 'ignore' });
    const { record, calls } = await status();
    expect(record.drift?.map((d) => `${d.service} ${d.kind}`)).toEqual(['web missing']);
    expect(kinds(calls).filter((k) => k.startsWith('docker'))).toEqual(['docker ps']);
  }, 60_000);
});
