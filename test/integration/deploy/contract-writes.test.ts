// The deploy contract when writes fail (issue 9): a state write that fails fails the stage (exit
// 1, a `write` record naming the path and the cause), whatever write it is, with errexit holding
// in the stage body; the state and logs folders on a full tmpfs or a read-only mount give exit 1
// naming the folder, never ok and never "locked"; --detach with a full logs disk is an error
// record, not silence. Real bash, real deploy.sh, real Docker.
import { existsSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireLab } from '../../support/lab.js';
import { NodeFixture } from '../../support/node-fixture.js';
import {
  failedSteps,
  fullTmpfs,
  isRoot,
  RAW_BASH,
  readOnly,
  records,
  syncShim,
} from '../../support/contract.js';

const ok = requireLab('docker');
const ENV = { HOMELAB_VERIFY_TIMEOUT: '40' };
const SHA_ONLY = '^[0-9a-f]{40}$';

describe.skipIf(!ok)('deploy contract: failed writes fail the stage', () => {
  let fx: NodeFixture;
  let shim: ReturnType<typeof syncShim>;
  let good = '';

  beforeAll(async () => {
    shim = syncShim();
    ({ fx, sha: good } = await NodeFixture.deployedWeb('cw', ENV));
  }, 120_000);

  afterAll(() => {
    fx?.cleanup();
    shim?.cleanup();
  });

  /** The run failed honestly: exit 1, a write record naming FILE and the cause, no ok. */
  function expectWriteFailure(
    r: { code: number | null; stdout: string; stderr: string },
    file: string,
    cause: RegExp,
  ): void {
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(1);
    const steps = failedSteps(r.stdout);
    expect(steps.some((s) => s.step === 'write' && String(s.detail).includes(file))).toBe(true);
    expect(steps.map((s) => String(s.detail)).join('\n')).toMatch(cause);
    const recs = records(r.stdout);
    expect(recs.filter((e) => e.event === 'stage-end' && e.result === 'ok')).toEqual([]);
    expect(recs.at(-1)).toMatchObject({ event: 'run-end', result: 'failed', exit: 1 });
    expect(out).not.toMatch(/another run holds|locked by/);
    expect(out).not.toMatch(RAW_BASH);
  }

  // If errexit were off in the stage body (`with_stage ... || rc=$?`), verify would go on past the
  // failed known_good write, print `known-good ok` and exit 0: this test fails then.
  it('verify: the known_good write fails -> exit 1, known_good unchanged, no known-good ok', async () => {
    const before = fx.readState('known_good');
    const r = await fx.run('verify', [], {
      env: { ...ENV, PATH: shim.path, HOMELAB_TEST_SYNC_FAIL: SHA_ONLY },
    });
    expectWriteFailure(r, fx.stateFile('known_good'), /Input\/output error/);
    expect(records(r.stdout).some((e) => e.step === 'known-good' && e.status === 'ok')).toBe(false);
    expect(fx.readState('known_good')).toBe(before);
    expect(fx.readState('current_stage')).toMatch(/^status=failed$/m);
  });

  it('deploy: the deployed write fails -> exit 1, deployed unchanged', async () => {
    const before = fx.readState('deployed');
    const r = await fx.run('deploy', [], {
      env: { PATH: shim.path, HOMELAB_TEST_SYNC_FAIL: SHA_ONLY },
    });
    expectWriteFailure(r, fx.stateFile('deployed'), /Input\/output error/);
    expect(fx.readState('deployed')).toBe(before);
  });

  it('every stage: current_stage `ok` cannot be written -> exit 1, never ok', async () => {
    for (const [stage, args] of [
      ['prepare', ['--ref', good]],
      ['deploy', []],
      ['verify', []],
    ] as const) {
      const r = await fx.run(stage, args, {
        env: { ...ENV, PATH: shim.path, HOMELAB_TEST_SYNC_FAIL: '^status=ok$' },
      });
      expectWriteFailure(r, fx.stateFile('current_stage'), /Input\/output error/);
      expect(fx.readState('current_stage')).not.toMatch(/^status=ok$/m);
    }
  });

  it('the history cannot be written -> exit 1', async () => {
    const r = await fx.run('verify', [], {
      env: { ...ENV, PATH: shim.path, HOMELAB_TEST_SYNC_FAIL: `\tverify\tok\t` },
    });
    expectWriteFailure(r, fx.stateFile('history'), /Input\/output error/);
  });

  it('a failed write leaves no temp file, and a killed run`s temp files go at the next run', async () => {
    const dir = join(fx.root, 'state', 'deploy');
    const temps = () => readdirSync(dir).filter((f) => /^\.(tmp|compose-err|git-out)\./.test(f));
    expect(temps()).toEqual([]);
    // What a run killed mid-write leaves: temp files whose pid is gone.
    for (const name of ['.tmp.999999.AbCdEf', '.compose-err.XyZ123', '.git-out.Q1w2E3']) {
      writeFileSync(join(dir, name), 'partial');
    }
    const r = await fx.run('verify', [], { env: ENV });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(temps()).toEqual([]);
  });

  // Real full and read-only disks: root only (mount).
  describe.skipIf(!isRoot)('state and logs on a full or read-only disk', () => {
    const cases = [
      ['state', 'full'],
      ['state', 'read-only'],
      ['logs', 'full'],
      ['logs', 'read-only'],
    ] as const;
    it.each(cases)('%s folder %s: prepare, deploy, verify exit 1 naming it', async (which, how) => {
      const dir = join(fx.root, which, 'deploy');
      const knownGood = fx.readState('known_good');
      const undo = how === 'full' ? fullTmpfs(dir) : readOnly(dir);
      try {
        for (const [stage, args] of [
          ['prepare', ['--ref', good]],
          ['deploy', []],
          ['verify', []],
        ] as const) {
          const r = await fx.run(stage, args, { env: ENV });
          const out = r.stdout + r.stderr;
          expect(r.code, out).toBe(1);
          const why = how === 'full' ? /No space left on device/ : /Read-only file system/;
          const steps = failedSteps(r.stdout);
          expect(steps.map((s) => String(s.detail)).join('\n')).toMatch(why);
          expect(steps.some((s) => String(s.detail).includes(dir))).toBe(true);
          expect(records(r.stdout).filter((e) => e.result === 'ok')).toEqual([]);
          expect(out).not.toMatch(/another run holds|locked by/);
          expect(out).not.toMatch(RAW_BASH);
          expect(fx.readState('known_good')).toBe(knownGood);
        }
        // --detach: the caller gets the error as records and a non-zero exit, not silence.
        const d = await fx.run('verify', ['--detach'], { env: ENV });
        expect(d.code, d.stdout + d.stderr).toBe(1);
        expect(records(d.stdout).at(-1)).toMatchObject({ event: 'run-end', result: 'failed' });
        expect(failedSteps(d.stdout).some((s) => String(s.detail).includes(dir))).toBe(true);
      } finally {
        undo();
      }
      expect(fx.readState('known_good')).toBe(knownGood);
      const r = await fx.run('verify', [], { env: ENV });
      expect(r.code, r.stdout + r.stderr).toBe(0);
    });
  });

  it('logs/deploy is a file: a layout record, no raw mkdir error', async () => {
    const logs = join(fx.root, 'logs', 'deploy');
    renameSync(logs, `${logs}.moved`);
    writeFileSync(logs, 'not a folder');
    try {
      for (const args of [[], ['--detach']]) {
        const r = await fx.run('verify', args, { env: ENV });
        expect(r.code, r.stdout + r.stderr).toBe(1);
        const steps = failedSteps(r.stdout);
        expect(steps).toMatchObject([{ step: 'layout' }]);
        expect(String(steps[0]?.detail)).toContain(`${logs} is not a folder`);
        expect(r.stdout + r.stderr).not.toMatch(RAW_BASH);
      }
    } finally {
      rmSync(logs);
      renameSync(`${logs}.moved`, logs);
    }
    expect(existsSync(join(logs))).toBe(true);
  });
});
