// deploy.sh on a real node: prepare -> deploy -> verify of two services, and what changes (or not)
// on the next deploys. Real git remote, real bash, real Docker engine + Compose v2.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeEvent, StatusEvent } from '../../../src/core/protocol/events.js';
import { requireLab } from '../../support/lab.js';
import { NodeFixture } from '../../support/node-fixture.js';

const ok = requireLab('docker');
const SECRET = 'tok-9f3e1c77b2d4-secret';

function stepsOf(events: NodeEvent[], step: string) {
  return events.flatMap((e) => (e.type === 'step' && e.step === step ? [e] : []));
}

function exec(container: string, script: string): string {
  return execFileSync('docker', ['exec', container, 'sh', '-c', script], {
    encoding: 'utf8',
  }).trim();
}

describe.skipIf(!ok)('deploy.sh pipeline on a real node', () => {
  let fx: NodeFixture;
  let c1 = '';
  let c0 = '';

  beforeAll(async () => {
    fx = NodeFixture.create('dp');
    fx.writeManifest({ services: [] });
    c0 = fx.commit('empty node');
    fx.cloneNode();
    await fx.addService('web', { environment: { TOKEN: '${TOKEN:-}' } });
    await fx.addService('api', { environment: { GREETING: 'from-compose' } });
    fx.writeManifest({
      extra: [
        'secret\tweb\tTOKEN',
        'override\tapi\trequired',
        `check\tweb\thttp\thttp://127.0.0.1:${fx.ports.get('web')}/\t200`,
        `check\tapi\ttcp\t127.0.0.1\t${fx.ports.get('api')}`,
      ],
    });
    c1 = fx.commit('web and api');
  });

  afterAll(() => fx?.cleanup());

  it('--dry-run prepare and deploy print what would run and change nothing', async () => {
    const prep = await fx.run('prepare', ['--ref', c1, '--dry-run']);
    expect(prep.code).toBe(0);
    expect(prep.stdout).toContain(`would run: git -C ${fx.repo} checkout --detach ${c1}`);
    const dep = await fx.run('deploy', ['--dry-run']);
    expect(dep.code).toBe(0);
    expect(
      execFileSync('git', ['-C', fx.repo, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim(),
    ).toBe(c0);
    expect(existsSync(join(fx.root, 'state'))).toBe(false);
    expect(existsSync(join(fx.root, 'logs'))).toBe(false);
    expect(fx.containerIds('web')).toEqual([]);
  });

  it('a missing secret stops prepare, naming the .env path and the key', async () => {
    fx.writeOverride('api', 'services:\n  api:\n    environment:\n      GREETING: from-override\n');
    const r = await fx.run('prepare', ['--ref', c1]);
    expect(r.code).toBe(1);
    const envPath = join(fx.root, 'config', 'web', '.env');
    const fail = stepsOf(r.events, 'secrets').find((s) => s.status === 'fail');
    expect(fail?.detail).toBe(`${envPath}: missing TOKEN`);
    expect(r.stderr).toContain(envPath);
    const end = r.events.find((e) => e.type === 'stage-end');
    expect(end).toMatchObject({ stage: 'prepare', result: 'failed' });
    expect(fx.containerIds('web')).toEqual([]);
    // prepare created the layout
    expect(existsSync(join(fx.root, 'config', 'api'))).toBe(true);
  });

  it('prepare -> deploy -> verify brings up both services, healthy, with the secret and the override', async () => {
    fx.writeEnv('web', `# web secrets\nTOKEN=${SECRET}\n`);
    const prep = await fx.run('prepare', ['--ref', c1]);
    expect(prep.code, prep.stdout + prep.stderr).toBe(0);
    const dep = await fx.run('deploy', ['--ref', c1]);
    expect(dep.code, dep.stdout + dep.stderr).toBe(0);
    expect(
      stepsOf(dep.events, 'compose-up')
        .filter((s) => s.status === 'ok')
        .map((s) => s.service)
        .sort(),
    ).toEqual(['api', 'web']);
    const ver = await fx.run('verify', [], { env: { HOMELAB_VERIFY_TIMEOUT: '40' } });
    expect(ver.code, ver.stdout + ver.stderr).toBe(0);
    const checks = ver.events.flatMap((e) =>
      e.type === 'check' ? [`${e.service}:${e.check}:${e.status}`] : [],
    );
    expect(checks.sort()).toEqual(['api:health:ok', 'api:tcp:ok', 'web:health:ok', 'web:http:ok']);
    expect(await fx.httpGet('web')).toBe('hello from web\n');
    expect(fx.readState('known_good').trim()).toBe(c1);

    // the secret reaches the container, the override is applied
    expect(exec(`${fx.project('web')}-web-1`, 'echo "$TOKEN"')).toBe(SECRET);
    expect(exec(`${fx.project('api')}-api-1`, 'echo "$GREETING"')).toBe('from-override');
    // ...and never the output, the logs or the state
    for (const r of [prep, dep, ver]) {
      expect(r.stdout + r.stderr).not.toContain(SECRET);
    }
    expect(fx.stateAndLogText()).not.toContain(SECRET);
    expect(fx.logFiles().length).toBeGreaterThanOrEqual(4);
  });

  it('a second deploy of the same commit is a no-op: same containers', async () => {
    const before = [...fx.containerIds('web'), ...fx.containerIds('api')];
    const r = await fx.run('deploy');
    expect(r.code).toBe(0);
    expect(
      stepsOf(r.events, 'unchanged')
        .map((s) => s.service)
        .sort(),
    ).toEqual(['api', 'web']);
    expect(stepsOf(r.events, 'compose-up')).toEqual([]);
    expect([...fx.containerIds('web'), ...fx.containerIds('api')]).toEqual(before);
  });

  it('status prints one record: stage, commits, lock, per-service state and health', async () => {
    const r = await fx.run('status');
    expect(r.code).toBe(0);
    expect(r.lines).toHaveLength(1);
    const ev = r.events[0] as StatusEvent;
    expect(ev.type).toBe('status');
    const s = ev.status;
    expect(s).toMatchObject({
      node: fx.node,
      bootstrapped: true,
      repoCommit: c1,
      stage: 'deploy',
      stageStatus: 'ok',
      target: c1,
      deployed: c1,
      knownGood: c1,
      lock: null,
      docker: 'ok',
    });
    expect(s.services).toEqual([
      {
        name: 'web',
        project: fx.project('web'),
        state: 'running',
        health: 'healthy',
        containers: [{ name: `${fx.project('web')}-web-1`, state: 'running', health: 'healthy' }],
        // What verify recorded at known-good: the local busybox has no registry digest.
        images: [
          { service: 'web', image: 'busybox:1.36', digest: '', created: expect.any(String) },
        ],
      },
      {
        name: 'api',
        project: fx.project('api'),
        state: 'running',
        health: 'healthy',
        containers: [{ name: `${fx.project('api')}-api-1`, state: 'running', health: 'healthy' }],
        // What verify recorded at known-good: the local busybox has no registry digest.
        images: [
          { service: 'api', image: 'busybox:1.36', digest: '', created: expect.any(String) },
        ],
      },
    ]);
    expect(r.ms).toBeLessThan(2000);
  });

  it('a change to a bind-mounted file recreates only that service', async () => {
    const web = fx.containerIds('web');
    const api = fx.containerIds('api');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(fx.serviceDir('web'), 'www', 'index.html'), 'web v2\n');
    // the same commit rewrites deploy.sh itself: the running prepare checks it out under its own feet
    const script = join(fx.saturn, 'scripts', 'deploy', 'deploy.sh');
    const { readFileSync } = await import('node:fs');
    const [shebang, ...rest] = readFileSync(script, 'utf8').split('\n');
    writeFileSync(
      script,
      [
        shebang,
        ...Array.from({ length: 200 }, (_, i) => `# padding line ${i} that moves every offset`),
        ...rest,
      ].join('\n'),
    );
    const c2 = fx.commit('web v2 page, deploy.sh rewritten');
    const prep = await fx.run('prepare', ['--ref', c2]);
    expect(prep.code, prep.stdout + prep.stderr).toBe(0);
    expect(prep.events.at(-1)).toMatchObject({ type: 'run-end', result: 'ok', exit: 0 });
    expect(readFileSync(fx.deployScript(), 'utf8')).toContain('# padding line 199');
    const dep = await fx.run('deploy', ['--ref', c2]);
    expect(dep.code).toBe(0);
    expect(
      stepsOf(dep.events, 'compose-up')
        .filter((s) => s.status === 'ok')
        .map((s) => s.service),
    ).toEqual(['web']);
    expect(fx.containerIds('web')).not.toEqual(web);
    expect(fx.containerIds('api')).toEqual(api);
    expect((await fx.run('verify')).code).toBe(0);
    expect(await fx.httpGet('web')).toBe('web v2\n');
  });

  it('a .env change recreates that service', async () => {
    const web = fx.containerIds('web');
    const api = fx.containerIds('api');
    fx.writeEnv('web', `TOKEN=${SECRET}-rotated\n`);
    const dep = await fx.run('deploy');
    expect(dep.code).toBe(0);
    expect(fx.containerIds('web')).not.toEqual(web);
    expect(fx.containerIds('api')).toEqual(api);
    expect(dep.stdout).not.toContain(SECRET);
  });

  it('a node without a manifest is not set up: deploy exits 4, status says not bootstrapped', async () => {
    const other = `${fx.node}x`;
    const otherRoot = ['--root', join(fx.dir, 'other-root')];
    const dep = await fx.run('deploy', [...otherRoot, '--node', other]);
    expect(dep.code).toBe(4);
    expect(dep.stderr).toContain(`hosts/${other}/ does not exist`);
    const st = await fx.run('status', [...otherRoot, '--node', other]);
    expect((st.events[0] as StatusEvent).status).toMatchObject({
      node: other,
      bootstrapped: false,
      repoCommit: '',
      services: [],
    });
    // a root belongs to one node
    const mixed = await fx.run('status', ['--node', other]);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain(`belongs to node '${fx.node}'`);
    const bad = await fx.run('status', [...otherRoot, '--node', 'Not_A_Label']);
    expect(bad.code).toBe(2);
  });

  it('old logs are pruned by count', async () => {
    expect(fx.logFiles().length).toBeGreaterThan(2);
    const r = await fx.run('verify', [], { env: { HOMELAB_LOG_KEEP: '2' } });
    expect(r.code).toBe(0);
    const logs = fx.logFiles();
    expect(logs).toHaveLength(2);
    const run = r.events[0];
    expect(run?.type === 'run' && run.log).toBe(join(fx.root, 'logs', 'deploy', logs[1] ?? ''));
  });

  it('a service removed from the node is taken down', async () => {
    fx.removeServiceDir('api');
    fx.writeManifest({ services: ['web'], extra: ['secret\tweb\tTOKEN'] });
    const c3 = fx.commit('api leaves the node');
    expect((await fx.run('prepare', ['--ref', c3])).code).toBe(0);
    const dep = await fx.run('deploy');
    expect(dep.code, dep.stdout).toBe(0);
    expect(stepsOf(dep.events, 'compose-down').find((s) => s.status === 'ok')?.service).toBe('api');
    expect(fx.containerIds('api')).toEqual([]);
    expect(fx.containerStates('web')).toEqual(['running']);
    const st = (await fx.run('status')).events[0] as StatusEvent;
    expect(st.status.services.map((s) => s.name)).toEqual(['web']);
  });
});
