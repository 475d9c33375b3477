// Images on the real registry (Debian's docker-registry from setup-lab.sh) and the real engine,
// through the real deploy.sh: deploy pulls what it (re)creates, verify records the digests, the
// `images` command tells an updatable tag without pulling, `deploy --update` applies it, and a
// rollback starts the known-good digest although the tag moved on. A registry that is down fails
// the stage with the image, the error and the fix, and leaves the running containers alone.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeEvent } from '../../../src/core/protocol/events.js';
import { freePort } from '../../../src/shell/free-port.js';
import { requireLab } from '../../support/lab.js';
import { NodeFixture } from '../../support/node-fixture.js';
import { registryWebCompose, TestRepo } from '../../support/registry.js';

const ok = requireLab('docker', 'registry');

function compose(image: string, port: number): string {
  return registryWebCompose(image, port, 'quick');
}

type Step = Extract<NodeEvent, { type: 'step' }>;
function steps(events: readonly NodeEvent[], step: string): Step[] {
  return events.filter((e): e is Step => e.type === 'step' && e.step === step);
}

function docker(args: readonly string[]): string {
  return execFileSync('docker', args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

function imageRecords(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('@homelab/1 image '))
    .map((l) => JSON.parse(l.slice('@homelab/1 image '.length)) as Record<string, unknown>);
}

describe.skipIf(!ok)('images on a real registry', () => {
  let fx: NodeFixture;
  let repo: TestRepo;
  let port: number;
  const digests: Record<string, string> = {};
  const env = { HOMELAB_VERIFY_TIMEOUT: '40' };

  const running = (): { version: string; image: string } => {
    const id = fx.containerIds('web')[0] ?? '';
    return {
      version: docker(['exec', id, 'cat', '/version']),
      image: docker(['inspect', '--format', '{{.Config.Image}}', id]),
    };
  };

  beforeAll(async () => {
    fx = NodeFixture.create('img');
    repo = new TestRepo('web');
    port = await freePort();
    digests.v1 = repo.push('v1');
    // The node must pull it: nothing of this repository is on the engine.
    repo.removeLocal();
    fx.writeService('web', compose(repo.ref('latest'), port));
    fx.writeManifest();
  });
  afterAll(() => {
    fx?.cleanup();
    repo?.cleanup();
  });

  it('deploy pulls v1, verify records its digest, a second deploy pulls nothing', async () => {
    const sha = fx.commit('web from the registry');
    fx.cloneNode();
    expect((await fx.run('prepare', ['--ref', sha], { env })).code).toBe(0);
    const d = await fx.run('deploy', [], { env });
    expect(d.code, d.stdout + d.stderr).toBe(0);
    const pulls = steps(d.events, 'pull');
    expect(pulls.map((s) => s.status)).toEqual(['start', 'ok']);
    expect(d.stdout).toMatch(new RegExp(`pull ${repo.ref('latest')}: .*Pulling from`));
    const v = await fx.run('verify', [], { env });
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(steps(v.events, 'image')[0]?.detail).toContain(`@${digests.v1}`);
    expect(fx.readState(`images/${sha}.tsv`)).toContain(`${repo.name}@${digests.v1}`);
    expect(running().version).toBe('v1');

    const again = await fx.run('deploy', [], { env });
    expect(again.code).toBe(0);
    expect(steps(again.events, 'pull')).toEqual([]);
    expect(steps(again.events, 'unchanged').map((s) => s.service)).toEqual(['web']);
  });

  it('images: v2 pushed as :latest is updatable, asked of the registry without pulling', async () => {
    digests.v2 = repo.push('v2');
    // The push leaves v2 on the engine: remove the local tag so a pull would show.
    docker(['rmi', repo.ref('latest')]);
    const r = await fx.run('images', [], { env });
    expect(r.code, r.stderr).toBe(0);
    const [rec] = imageRecords(r.stdout);
    expect(rec).toMatchObject({
      service: 'web',
      container_service: 'web',
      ref: repo.ref('latest'),
      digest: `${repo.name}@${digests.v1}`,
      remote_digest: digests.v2,
      status: 'updatable',
    });
    expect(String(rec?.created)).toMatch(/^\d{4}-\d\d-\d\dT/);
    // No pull: the tag is still not on the engine.
    expect(() => docker(['image', 'inspect', repo.ref('latest')])).toThrow();
  });

  it('deploy --update web pulls v2 and recreates; verify records the v2 digest', async () => {
    const before = fx.containerIds('web');
    const d = await fx.run('deploy', ['--update', 'web'], { env });
    expect(d.code, d.stdout + d.stderr).toBe(0);
    expect(steps(d.events, 'compose-up').at(-1)).toMatchObject({
      status: 'ok',
      detail: 'image update',
    });
    expect(fx.containerIds('web')).not.toEqual(before);
    const v = await fx.run('verify', [], { env });
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(steps(v.events, 'image')[0]?.detail).toContain(`@${digests.v2}`);
    expect(running().version).toBe('v2');
    const [rec] = imageRecords((await fx.run('images', [], { env })).stdout);
    expect(rec?.status).toBe('current');
  });

  it('a broken v3 as :latest fails verify; rollback runs the v2 digest though :latest is v3', async () => {
    digests.v3 = repo.push('v3', { broken: true });
    const d = await fx.run('deploy', ['--update', 'web'], { env });
    expect(d.code, d.stdout + d.stderr).toBe(0);
    const v = await fx.run('verify', [], { env: { HOMELAB_VERIFY_TIMEOUT: '15' } });
    expect(v.code).toBe(1);
    const rb = await fx.run('rollback', [], { env });
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    expect(steps(rb.events, 'pin')[0]?.detail).toBe(`web ${repo.name}@${digests.v2}`);
    expect(rb.stdout).toContain(`pinned to the known-good ${repo.name}@${digests.v2}`);
    expect(running()).toEqual({ version: 'v2', image: `${repo.name}@${digests.v2}` });
    expect(repo.remoteDigest('latest')).toBe(digests.v3);
    const [rec] = imageRecords((await fx.run('images', [], { env })).stdout);
    expect(rec?.status).toBe('pinned');
  });

  it('a registry that is down fails deploy naming the image, the error and the fix; web keeps running', async () => {
    const dead = `127.0.0.1:${await freePort()}/h14-down/web:latest`;
    const before = fx.containerIds('web');
    fx.writeService('web', compose(dead, port));
    const sha = fx.commit('image from a registry that is down');
    expect((await fx.run('prepare', ['--ref', sha], { env })).code).toBe(0);
    const d = await fx.run('deploy', [], { env });
    expect(d.code).toBe(1);
    const fail = steps(d.events, 'pull').find((s) => s.status === 'fail');
    expect(fail?.detail).toContain(`docker pull ${dead} failed`);
    expect(fail?.detail).toMatch(/connection refused/);
    expect(fail?.detail).toContain('does not answer: start it');
    expect(steps(d.events, 'compose-up').filter((s) => s.status !== 'fail')).toEqual([]);
    expect(fx.containerIds('web')).toEqual(before);
    expect(fx.containerStates('web')).toEqual(['running']);
  });

  it('diagnose tells an image the registry cannot give from one that is only not on the node', async () => {
    const findings = async (): Promise<Extract<NodeEvent, { type: 'finding' }>[]> =>
      (await fx.run('diagnose', [], { env })).events.filter(
        (e): e is Extract<NodeEvent, { type: 'finding' }> =>
          e.type === 'finding' && e.id.startsWith('service.image'),
      );
    // The compose file names an image of a registry that is down (the previous test).
    const [down] = await findings();
    expect(down).toMatchObject({
      id: 'service.image-unpullable',
      severity: 'fail',
      service: 'web',
    });
    expect(down?.evidence).toMatch(/connection refused/);
    expect(down?.hint).toContain('does not answer: start it');
    // An image the registry has, removed from the engine: only not on the node.
    repo.push('v4', { tag: 'pullable' });
    docker(['rmi', repo.ref('pullable')]);
    fx.writeService('web', compose(repo.ref('pullable'), port));
    const sha = fx.commit('an image the registry has');
    expect((await fx.run('prepare', ['--ref', sha], { env })).code).toBe(0);
    const [missing] = await findings();
    expect(missing).toMatchObject({
      id: 'service.image-missing',
      summary: `Image ${repo.ref('pullable')} is not on the node (the registry has it)`,
    });
  });
});

describe.skipIf(!ok)('an image built or imported on the node', () => {
  let fx: NodeFixture | undefined;
  afterAll(() => fx?.cleanup());

  it('busybox:1.36 (imported, never pulled): not pulled, recorded without a digest, images says local', async () => {
    const made = await NodeFixture.deployedWeb('imgl', {});
    fx = made.fx;
    const [line = ''] = fx.readState(`images/${made.sha}.tsv`).split('\n');
    const [svc, csvc, ref, digest, id] = line.split('\t');
    expect({ svc, csvc, ref, digest }).toEqual({
      svc: 'web',
      csvc: 'web',
      ref: 'busybox:1.36',
      digest: '',
    });
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const r = await fx.run('images');
    expect(imageRecords(r.stdout).map((i) => [i.status, i.digest])).toEqual([['local', '']]);
    // A changed config recreates it: the pull step skips the local image.
    await fx.addService('web', { index: 'changed\n' });
    const sha = fx.commit('changed page');
    expect((await fx.run('prepare', ['--ref', sha])).code).toBe(0);
    const d = await fx.run('deploy');
    expect(d.code, d.stdout + d.stderr).toBe(0);
    expect(steps(d.events, 'pull').map((s) => [s.status, s.detail])).toEqual([
      ['skip', 'busybox:1.36: built or imported on this node (no registry has it)'],
    ]);
  });
});
