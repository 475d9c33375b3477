// The checkout a node deploys is a commit as committed: prepare, deploy and verify refuse a
// tracked file changed or an untracked file under hosts/<node>/ or scripts/, listing them with the
// fix, so known-good always means a commit. deploy and verify with --ref refuse another HEAD. A
// stale .git/index.lock is named as such, with the fix.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeEvent } from '../../../src/core/protocol/events.js';
import { requireLab } from '../../support/lab.js';
import { KILL_ENV, killLab, nodeStatus, type KillLab } from '../../support/kill-harness.js';

const ok = requireLab('docker');

function failedSteps(events: readonly NodeEvent[]): string[] {
  return events.flatMap((e) =>
    e.type === 'step' && e.status === 'fail' ? [`${e.step}: ${e.detail ?? ''}`] : [],
  );
}

describe.skipIf(!ok)('deploy.sh runs only the checkout as committed', () => {
  let lab: KillLab;
  let web = '';

  beforeAll(async () => {
    lab = await killLab('co');
    web = join(lab.fx.repo, 'hosts', lab.fx.node, 'web');
  }, 120_000);

  afterAll(() => lab?.fx.cleanup());

  const restore = (): void => {
    execFileSync('git', ['-C', lab.fx.repo, 'checkout', '--', '.']);
    execFileSync('git', ['-C', lab.fx.repo, 'clean', '-fdq', 'hosts', 'scripts']);
  };

  const cases: readonly (readonly [string, () => string])[] = [
    [
      'a tracked file changed',
      () => {
        writeFileSync(join(web, 'www', 'index.html'), 'edited on the node\n');
        return ` M hosts/${lab.fx.node}/web/www/index.html`;
      },
    ],
    [
      'an untracked file under hosts/<node>/',
      () => {
        writeFileSync(join(web, 'www', 'extra.html'), 'x\n');
        return `?? hosts/${lab.fx.node}/web/www/extra.html`;
      },
    ],
    [
      'an untracked file under scripts/',
      () => {
        writeFileSync(join(lab.fx.repo, 'scripts', 'deploy', 'lib', 'extra.sh'), 'x\n');
        return '?? scripts/deploy/lib/extra.sh';
      },
    ],
  ];

  it.each(cases)(
    '%s: prepare, deploy and verify refuse it, listing it with the fix',
    async (_name, change) => {
      const before = await nodeStatus(lab.fx);
      const listing = change();
      try {
        for (const [stage, args] of [
          ['prepare', ['--ref', lab.good]],
          ['deploy', []],
          ['verify', []],
        ] as const) {
          const r = await lab.fx.run(stage, args, { env: KILL_ENV });
          expect(r.code, `${stage}: ${r.stdout}`).toBe(1);
          const fail = failedSteps(r.events);
          expect(fail).toHaveLength(1);
          expect(fail[0]).toContain(
            `checkout: the checkout ${lab.fx.repo} has local changes (${listing}): `,
          );
          expect(fail[0]).toContain(`git -C ${lab.fx.repo} status`);
          expect(fail[0]).toContain(`git -C ${lab.fx.repo} checkout -- <file>`);
          expect(fail[0]).toContain(
            `git -C ${lab.fx.repo} clean -fd hosts/${lab.fx.node}/ scripts/`,
          );
        }
        const after = await nodeStatus(lab.fx);
        expect(after.knownGood).toBe(before.knownGood);
        expect(after.deployed).toBe(before.deployed);
      } finally {
        restore();
      }
    },
  );

  it('an untracked file elsewhere in the checkout is not refused', async () => {
    writeFileSync(join(lab.fx.repo, 'NOTES.txt'), 'the operator keeps notes here\n');
    try {
      const r = await lab.fx.run('verify', [], { env: KILL_ENV });
      expect(r.code, r.stdout + r.stderr).toBe(0);
    } finally {
      rmSync(join(lab.fx.repo, 'NOTES.txt'));
    }
  });

  it('deploy and verify with --ref refuse a checkout at another commit', async () => {
    const other = lab.fx.commit('not prepared');
    const d = await lab.fx.run('deploy', ['--ref', other]);
    expect(d.code).toBe(1);
    expect(failedSteps(d.events)[0]).toContain(`run \`deploy.sh prepare --ref ${other}\` first`);
    const v = await lab.fx.run('verify', ['--ref', other]);
    expect(v.code).toBe(1);
    expect(failedSteps(v.events)[0]).toContain(
      `not ${other}: run prepare and deploy of ${other} first`,
    );
    expect((await nodeStatus(lab.fx)).knownGood).toBe(lab.good);
  });

  it('a stale .git/index.lock is named as such, with the fix', async () => {
    const sha = lab.fx.commit('index.lock in the way');
    const lock = join(lab.fx.repo, '.git', 'index.lock');
    mkdirSync(join(lab.fx.repo, '.git'), { recursive: true });
    writeFileSync(lock, '');
    try {
      const r = await lab.fx.run('prepare', ['--ref', sha]);
      expect(r.code).toBe(1);
      const fail = failedSteps(r.events).join('\n');
      expect(fail).toContain(`a stale git lock file ${lock} is in the way`);
      expect(fail).toContain(`rm ${lock}`);
      expect(fail).not.toContain('local changes');
    } finally {
      rmSync(lock, { force: true });
    }
    expect((await lab.fx.run('prepare', ['--ref', sha])).code).toBe(0);
  });

  // deploy and verify of an `up` trust prepare's checkout without a second `git status`, unless
  // the commit changed a .gitignore: a file on the node that was ignored is untracked after it.
  it('a file a new commit stops ignoring: up refuses it at deploy, before compose runs', async () => {
    const ignore = join(lab.fx.serviceDir('web'), '.gitignore');
    writeFileSync(ignore, 'local.yml\n');
    const ignored = lab.fx.commit('web: local.yml is ignored');
    expect((await lab.fx.run('up', ['--ref', ignored], { env: KILL_ENV })).code).toBe(0);
    const before = await nodeStatus(lab.fx);
    writeFileSync(join(web, 'local.yml'), 'made on the node\n');
    rmSync(ignore);
    const tracked = lab.fx.commit('web: nothing ignored');
    try {
      const r = await lab.fx.run('up', ['--ref', tracked], { env: KILL_ENV });
      expect(r.code, r.stdout).toBe(1);
      const fail = failedSteps(r.events);
      expect(fail).toHaveLength(1);
      expect(fail[0]).toContain(`(?? hosts/${lab.fx.node}/web/local.yml): `);
      const stages = r.events.flatMap((e) => (e.type === 'stage-start' ? [e.stage] : []));
      expect(stages).toContain('deploy');
      const after = await nodeStatus(lab.fx);
      expect(after.deployed).toBe(before.deployed);
    } finally {
      restore();
    }
  });
});
