// The node never follows a symlink it did not write: a planted newer `deploy_*.log` symlink is not
// what the full-log view or `deploy.sh attach` read; a compose file or host-local override that is a
// symlink leaving its folder is refused by prepare and by diagnose, and its target is never quoted.
// Real bash, git, Docker with Compose v2; the local transport.
import { symlinkSync, utimesSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeSpec } from '../../src/core/inventory/model.js';
import { fetchFullLog } from '../../src/shell/recover/full-log.js';
import { createRunner } from '../../src/shell/transport/runner.js';
import { NodeFixture } from '../support/node-fixture.js';
import { requireLab } from '../support/lab.js';

const ok = requireLab('docker');
const CANARY = `canary-${Math.random().toString(36).slice(2, 8)}-outside`;

describe.skipIf(!ok)('symlinks the node did not write', () => {
  let fx: NodeFixture;
  let outside: string;
  let node: NodeSpec;

  beforeAll(async () => {
    fx = NodeFixture.create('sl');
    await fx.addService('web');
    fx.writeManifest();
    fx.commit('web');
    fx.cloneNode();
    outside = join(fx.dir, 'outside');
    mkdirSync(outside, { recursive: true });
    // What an attacker wants read: it looks like YAML and like a log, and holds the canary.
    writeFileSync(join(outside, 'secret.yml'), `services:\n  web:\n    image: ${CANARY}\n`);
    node = {
      name: fx.node,
      address: '127.0.0.1',
      role: 'worker',
      tags: [],
      transport: 'local',
      user: '',
      root: fx.root,
      repo: fx.repo,
      wave: 0,
      ssh: { connectTimeout: 3 },
      services: [],
    };
  }, 120_000);

  afterAll(() => {
    fx?.cleanup();
  });

  it('the full-log view and attach skip a planted newer deploy_*.log symlink', async () => {
    const first = await fx.run('verify');
    expect(first.code).not.toBeNull();
    const logs = join(fx.root, 'logs', 'deploy');
    const planted = join(logs, 'deploy_99991231T235959000Z.log');
    symlinkSync(join(outside, 'secret.yml'), planted);
    const later = new Date(Date.now() + 3_600_000);
    utimesSync(join(outside, 'secret.yml'), later, later);
    const runner = createRunner(node);
    const newest = await fetchFullLog(runner, node);
    expect(newest.lines.join('\n')).not.toContain(CANARY);
    expect(newest.lines[0]).toMatch(/^== .*deploy_.*\.log$/);
    expect(newest.lines[0]).not.toContain('99991231');
    const named = await fetchFullLog(runner, node, planted);
    expect(named.lines.join('\n')).not.toContain(CANARY);
    expect(named.lines.join('\n')).toContain('refused');
    const elsewhere = await fetchFullLog(runner, node, join(outside, 'secret.yml'));
    expect(elsewhere.lines.join('\n')).not.toContain(CANARY);
    expect(elsewhere.lines.join('\n')).toContain('refused');
    await runner.close();
    // attach --run of a run whose log is the planted link: no such run.
    writeFileSync(
      join(outside, 'secret.yml'),
      `@homelab/1 run {"run":"evil","pid":1}\n${CANARY}\n`,
    );
    const attach = await fx.run('attach', ['--run', 'evil']);
    expect(attach.stdout + attach.stderr).not.toContain(CANARY);
    expect(attach.code).not.toBe(0);
    rmSync(planted);
  }, 120_000);

  it('prepare and diagnose refuse a compose file or override that links outside its folder', async () => {
    writeFileSync(join(outside, 'secret.yml'), `services:\n  web:\n    image: ${CANARY}\n`);
    mkdirSync(fx.configDir('web'), { recursive: true });
    const override = join(fx.configDir('web'), 'docker-compose.override.yml');
    symlinkSync(join(outside, 'secret.yml'), override);
    const prep = await fx.run('prepare');
    expect(prep.code).toBe(1);
    expect(prep.stdout + prep.stderr).toContain('outside');
    expect(prep.stdout + prep.stderr).not.toContain(CANARY);
    const diag = await fx.run('diagnose');
    expect(diag.stdout).toContain('override.symlink');
    expect(diag.stdout + diag.stderr).not.toContain(CANARY);
    rmSync(override);

    // A symlinked compose file committed in Git (validate refuses it on SATURN; the node must too).
    const compose = join(fx.saturn, 'hosts', fx.node, 'web', 'docker-compose.yml');
    rmSync(compose);
    symlinkSync(join(outside, 'secret.yml'), compose);
    const sha = fx.commit('web: a symlink');
    const prep2 = await fx.run('prepare', ['--ref', sha]);
    expect(prep2.code).toBe(1);
    expect(prep2.stdout + prep2.stderr).toContain('outside');
    expect(prep2.stdout + prep2.stderr).not.toContain(CANARY);
    const diag2 = await fx.run('diagnose');
    expect(diag2.stdout).toContain('compose.symlink');
    expect(diag2.stdout + diag2.stderr).not.toContain(CANARY);
  }, 180_000);
});
