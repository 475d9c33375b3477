// Node-side hygiene and honest state (issues 9 and 10), real bash running the real deploy.sh:
// a corpus of corrupted state files each gives a clear `state` record (deploy) and a status that
// says so (state_error), never a bash warning; numbers from the environment are checked before any
// arithmetic (a canary proves `a[$(cmd)]` never runs); state and logs are private however they
// were created; a node root someone else could have planted is refused.
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireLab } from '../../support/lab.js';
import { NodeFixture } from '../../support/node-fixture.js';
import { failedSteps, isRoot, RAW_BASH, records } from '../../support/contract.js';

const ok = requireLab('docker');
const ENV = { HOMELAB_VERIFY_TIMEOUT: '40' };

describe.skipIf(!ok)('deploy contract: hygiene and honest state', () => {
  let fx: NodeFixture;
  let sha = '';
  const saved = new Map<string, Buffer | null>();

  beforeAll(async () => {
    ({ fx, sha: sha } = await NodeFixture.deployedWeb('hy', ENV));
  }, 120_000);

  afterAll(() => fx?.cleanup());

  type Corrupt = (file: string) => void;
  const text =
    (t: string | Buffer): Corrupt =>
    (f) =>
      writeFileSync(f, t);
  const corpus: [string, string, Corrupt, RegExp][] = [
    ['current_stage', 'truncated', text('stage=depl'), /names no stage/],
    ['current_stage', 'binary', text(Buffer.from([0x73, 0x74, 0, 0xff, 0x01, 0x0a])), /NUL/],
    ['current_stage', 'empty', text(''), /names no stage/],
    [
      'current_stage',
      'huge',
      text(`stage=deploy\n${'x=1\n'.repeat(300_000)}`),
      /larger than 1 MiB/,
    ],
    ['current_stage', 'wrong keys', text('foo=bar\nbaz=1\n'), /names no stage/],
    [
      'current_stage',
      'not key=value',
      text('stage=deploy\nstatus=ok\n<<garbage>>\n'),
      /not key=value/,
    ],
    ['current_stage', 'control bytes', text('stage=deploy\nstatus=ok\x1b[2J\n'), /control bytes/],
    ['current_stage', 'a folder', (f) => mkdirSync(f), /is a folder/],
    ['current_stage', 'a symlink', (f) => symlinkSync('/etc/hostname', f), /symbolic link/],
    ['known_good', 'garbage', text('not a sha\n'), /commit sha/],
    ['known_good', 'NUL', text(`${'a'.repeat(40)}\0\n`), /NUL/],
    ['deployed', 'a folder', (f) => mkdirSync(f), /is a folder/],
    ['services.tsv', 'garbage', text('hello world\n'), /service<TAB>hash<TAB>commit/],
    ['last_run', 'binary', text(Buffer.from([0, 1, 2, 3])), /NUL/],
    ['node', 'wrong', text('Not A Label!\n'), /node name/],
  ];

  function save(name: string): void {
    const f = fx.stateFile(name);
    saved.set(name, existsSync(f) ? readFileSync(f) : null);
    rmSync(f, { recursive: true, force: true });
  }
  function restore(name: string): void {
    const f = fx.stateFile(name);
    rmSync(f, { recursive: true, force: true });
    const b = saved.get(name);
    if (b) writeFileSync(f, b, { mode: 0o600 });
  }

  it.each(corpus)(
    '%s %s: deploy refuses naming it; status says so',
    async (name, _how, make, why) => {
      save(name);
      make(fx.stateFile(name));
      try {
        const r = await fx.run('deploy');
        const out = r.stdout + r.stderr;
        expect(r.code, out).toBe(1);
        const steps = failedSteps(r.stdout);
        expect(steps).toHaveLength(1);
        expect(steps[0]).toMatchObject({ step: 'state' });
        expect(String(steps[0]?.detail)).toContain(fx.stateFile(name));
        expect(String(steps[0]?.detail)).toMatch(why);
        expect(out).not.toMatch(RAW_BASH);
        const st = await fx.run('status');
        expect(st.code, st.stdout + st.stderr).toBe(0);
        expect(st.stdout + st.stderr).not.toMatch(RAW_BASH);
        const rec = records(st.stdout).find((e) => e.event === 'status');
        expect(String(rec?.state_error)).toContain(fx.stateFile(name));
      } finally {
        restore(name);
      }
    },
  );

  it('after the corpus the node is sound again: deploy is a no-op, status has no state_error', async () => {
    const r = await fx.run('deploy');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const rec = records((await fx.run('status')).stdout).find((e) => e.event === 'status');
    expect(rec?.state_error).toBe('');
  });

  it('a number from the environment never runs a command (canary)', async () => {
    const canary = join(fx.dir, 'canary');
    const evil = `a[$(touch ${canary})]`;
    const env = {
      ...ENV,
      HOMELAB_LOG_KEEP: evil,
      HOMELAB_VERIFY_TIMEOUT: evil,
      HOMELAB_LOCK_WAIT: evil,
      HOMELAB_DOCKER_TIMEOUT: evil,
      HOMELAB_COMPOSE_UP_TIMEOUT: evil,
      HOMELAB_GIT_TIMEOUT: evil,
      DIAGNOSE_BUDGET: evil,
      DIAGNOSE_DOCKER_TIMEOUT: evil,
      DIAGNOSE_LOG_LINES: evil,
    };
    // Every arithmetic use: prune_logs (LOG_KEEP), verify's deadline, the lock wait, the bounds.
    for (const stage of ['deploy', 'verify', 'status', 'diagnose']) {
      const r = await fx.run(stage, [], { env, timeoutMs: 120_000 });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      // (status reads only the libraries it uses: it keeps no logs, so LOG_KEEP is not its number)
      if (stage !== 'status') expect(r.stderr).toContain('HOMELAB_LOG_KEEP=');
      expect(r.stderr).toContain('is not a whole number');
    }
    expect(existsSync(canary)).toBe(false);
  }, 180_000);

  it('state and logs are private however they were created', async () => {
    const dirs = ['state', 'state/deploy', 'logs', 'logs/deploy'].map((d) => join(fx.root, d));
    for (const d of dirs) chmodSync(d, 0o755);
    const stateFiles = readdirSync(join(fx.root, 'state', 'deploy')).map((f) =>
      join(fx.root, 'state', 'deploy', f),
    );
    for (const f of stateFiles) chmodSync(f, 0o644);
    for (const f of fx.logFiles()) chmodSync(join(fx.root, 'logs', 'deploy', f), 0o644);
    const r = await fx.run('deploy', [], { env: { HOMELAB_LOG_KEEP: '500' } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
    for (const d of dirs) expect([d, mode(d)]).toEqual([d, '700']);
    for (const sub of ['state/deploy', 'logs/deploy']) {
      for (const f of readdirSync(join(fx.root, sub))) {
        const p = join(fx.root, sub, f);
        if (statSync(p).isFile()) expect([p, mode(p)]).toEqual([p, '600']);
      }
    }
  });

  describe.skipIf(!isRoot)('a root someone else could have planted is refused', () => {
    const cases: [string, () => () => void, RegExp][] = [
      [
        'owned by another user',
        () => {
          chownSync(fx.root, 4242, 4242);
          return () => chownSync(fx.root, 0, 0);
        },
        /owned by uid 4242/,
      ],
      [
        'state folder owned by another user',
        () => {
          chownSync(join(fx.root, 'state', 'deploy'), 4242, 4242);
          return () => chownSync(join(fx.root, 'state', 'deploy'), 0, 0);
        },
        /state\/deploy is owned by uid 4242/,
      ],
      [
        'group-writable',
        () => {
          chmodSync(fx.root, 0o775);
          return () => chmodSync(fx.root, 0o755);
        },
        /writable by group or others/,
      ],
      [
        'inside a world-writable folder without the sticky bit',
        () => {
          chmodSync(fx.dir, 0o777);
          return () => chmodSync(fx.dir, 0o700);
        },
        /anyone can write to/,
      ],
    ];
    it.each(cases)('%s', async (_name, plant, why) => {
      const before = fx.readState('current_stage');
      const logs = fx.logFiles();
      const undo = plant();
      try {
        for (const stage of ['deploy', 'prepare', 'verify', 'diagnose']) {
          const r = await fx.run(stage, stage === 'prepare' ? ['--ref', sha] : []);
          expect(r.code, r.stdout + r.stderr).toBe(1);
          const steps = failedSteps(r.stdout);
          expect(steps).toMatchObject([{ step: 'layout' }]);
          expect(String(steps[0]?.detail)).toMatch(why);
        }
        for (const stage of ['unlock', 'attach']) {
          const r = await fx.run(stage);
          expect(r.code).toBe(1);
          expect(r.stderr).toMatch(why);
        }
      } finally {
        undo();
      }
      // Nothing ran: no state written, no log made.
      expect(fx.readState('current_stage')).toBe(before);
      expect(fx.logFiles()).toEqual(logs);
    });

    it('a root in a world-writable folder WITH the sticky bit (like /tmp) is fine', async () => {
      chmodSync(fx.dir, 0o1777);
      try {
        const r = await fx.run('deploy');
        expect(r.code, r.stdout + r.stderr).toBe(0);
      } finally {
        chmodSync(fx.dir, 0o700);
      }
    });
  });
});
