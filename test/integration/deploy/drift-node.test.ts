// Drift and history on the node, real bash running the real deploy.sh against the real Docker
// engine: `deploy.sh status` names a container recreated by hand with another image, one started by
// hand in the project, a missing service, an extra project and an edited tracked file, each with its
// fix; a redeploy (after the checkout edit is undone) clears them. `deploy.sh history` prints one
// record per stage with who started it.
import { execFileSync } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireLab } from '../../support/lab.js';
import { NodeFixture, eventsOf } from '../../support/node-fixture.js';
import type { NodeStatusRecord } from '../../../src/core/protocol/events.js';

const ok = requireLab('docker');
const ENV = { HOMELAB_VERIFY_TIMEOUT: '40' };

function sh(cmd: string, args: readonly string[], cwd?: string): string {
  return execFileSync(cmd, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd,
  }).trim();
}

describe.skipIf(!ok)('drift and history on the node', () => {
  let fx: NodeFixture;
  let sha = '';
  const tag = `homelab-drift-${Math.random().toString(36).slice(2, 8)}:other`;

  async function status(): Promise<NodeStatusRecord> {
    const r = await fx.run('status');
    const ev = eventsOf(r.stdout).find((e) => e.type === 'status');
    if (ev?.type !== 'status') throw new Error(`no status record:\n${r.stdout}${r.stderr}`);
    return ev.status;
  }

  beforeAll(async () => {
    ({ fx, sha } = await NodeFixture.deployedWeb('dr', ENV));
    sh('docker', ['tag', 'busybox:1.36', tag]);
  }, 120_000);

  afterAll(() => {
    try {
      sh('docker', ['rm', '-f', `${fx.node}_stray`]);
    } catch {
      // not started
    }
    try {
      sh('docker', ['rmi', tag]);
    } catch {
      // not tagged
    }
    fx?.cleanup();
  });

  it('no drift right after deploy; containers.tsv records the containers', async () => {
    expect((await status()).drift).toEqual([]);
    const rec = fx.readState('containers.tsv').trim().split('\t');
    expect(rec[0]).toBe('web');
    expect(fx.containerIds('web')[0]?.startsWith(rec[1] ?? 'none')).toBe(true);
  });

  it('a container recreated by hand with another image is config drift, and deploy recreates it', async () => {
    const compose = join(fx.repo, 'hosts', fx.node, 'web', 'docker-compose.yml');
    const other = join(fx.dir, 'by-hand.yml');
    writeFileSync(
      other,
      execFileSync('cat', [compose], { encoding: 'utf8' }).replace('busybox:1.36', tag),
    );
    sh('docker', ['compose', '-p', fx.project('web'), '-f', other, 'up', '-d', '--force-recreate']);
    const drift = (await status()).drift ?? [];
    expect(drift).toHaveLength(1);
    expect(drift[0]).toMatchObject({ service: 'web', kind: 'config' });
    expect(drift[0]?.detail).toMatch(/changed by hand/);
    expect(drift[0]?.fix).toMatch(/homelab run deploy --node/);
    const r = await fx.run('deploy', [], { env: ENV });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/drift: compose config changed by hand|drift: container/);
    expect((await status()).drift).toEqual([]);
  }, 90_000);

  it('an edited tracked file is checkout drift with the fix; undone, it is gone', async () => {
    const file = join(fx.repo, 'hosts', fx.node, 'web', 'www', 'index.html');
    appendFileSync(file, 'edited on the node\n');
    const drift = (await status()).drift ?? [];
    expect(drift).toEqual([
      expect.objectContaining({
        kind: 'checkout',
        detail: expect.stringContaining(`hosts/${fx.node}/web/www/index.html`),
        fix: expect.stringContaining('checkout --'),
      }),
    ]);
    sh('git', ['-C', fx.repo, 'checkout', '--', `hosts/${fx.node}/web/www/index.html`]);
    expect((await status()).drift).toEqual([]);
  });

  it('a container started by hand in a project is drift; an extra project and a missing service too', async () => {
    sh('docker', ['compose', '-p', fx.project('web'), 'stop']);
    sh('docker', ['compose', '-p', fx.project('web'), 'rm', '-f']);
    sh('docker', [
      'run',
      '-d',
      '--name',
      `${fx.node}_stray`,
      '--network',
      'none',
      '--label',
      `com.docker.compose.project=${fx.node}_stray`,
      'busybox:1.36',
      'sleep',
      '300',
    ]);
    const drift = (await status()).drift ?? [];
    expect(drift.map((d) => `${d.service}:${d.kind}`).sort()).toEqual([
      'stray:extra',
      'web:missing',
    ]);
    sh('docker', ['rm', '-f', `${fx.node}_stray`]);
    const r = await fx.run('deploy', [], { env: ENV });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect((await status()).drift).toEqual([]);
  }, 90_000);

  it('history: one record per stage, with who started it (--by), newest last', async () => {
    const r = await fx.run('verify', ['--by', 'alice'], { env: ENV });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const bad = await fx.run('verify', ['--by', 'eve;rm -rf /']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--by must be/);
    const h = await fx.run('history');
    expect(h.code, h.stderr).toBe(0);
    const recs = eventsOf(h.stdout).filter((e) => e.type === 'history');
    expect(recs.map((e) => (e.type === 'history' ? `${e.stage}:${e.result}` : ''))).toEqual([
      'prepare:ok',
      'deploy:ok',
      'verify:ok',
      'deploy:ok',
      'deploy:ok',
      'verify:ok',
    ]);
    const last = recs.at(-1);
    expect(last).toMatchObject({ type: 'history', by: 'alice', node: fx.node, commit: sha });
    if (last?.type === 'history') {
      expect(last.durationMs).toBeGreaterThanOrEqual(0);
      expect(last.when).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(last.run).toMatch(/\S/);
    }
  }, 90_000);
});
