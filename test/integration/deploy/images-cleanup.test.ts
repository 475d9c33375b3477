// The tool's own image cleanup on the real registry and engine (real deploy.sh): after verify
// records v1, v2, v3 (each pushed as :latest), the v1 and v2 known-good digests are still on the
// engine (the newest IMAGES_KEEP images/<commit>.tsv protect them), while an image of the same
// repository that no kept record names (v0) is gone; another repository's image is not touched.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../src/shell/free-port.js';
import { requireLab } from '../../support/lab.js';
import { NodeFixture } from '../../support/node-fixture.js';
import { registryWebCompose, TestRepo } from '../../support/registry.js';

const ok = requireLab('docker', 'registry');

function compose(image: string, port: number): string {
  return registryWebCompose(image, port, 'none');
}

function onEngine(ref: string): boolean {
  try {
    execFileSync('docker', ['image', 'inspect', ref], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!ok)('image cleanup keeps the known-good digests', () => {
  let fx: NodeFixture;
  let repo: TestRepo;
  let other: TestRepo;
  let port: number;
  const env = { HOMELAB_VERIFY_TIMEOUT: '40' };

  beforeAll(async () => {
    fx = NodeFixture.create('imgc');
    repo = new TestRepo('clean');
    other = new TestRepo('other');
    port = await freePort();
    fx.writeService('web', compose(repo.ref('latest'), port));
    fx.writeManifest();
  });
  afterAll(() => {
    fx?.cleanup();
    repo?.cleanup();
    other?.cleanup();
  });

  it('after v1, v2, v3: v1 and v2 stay, the unreferenced v0 is gone', async () => {
    const d: Record<string, string> = {};
    d.v0 = repo.push('v0', { tag: 'v0' });
    const o = other.push('o1');
    let first = true;
    for (const v of ['v1', 'v2', 'v3']) {
      d[v] = repo.push(v);
      fx.writeService('web', `# ${v}\n${compose(repo.ref('latest'), port)}`);
      const sha = fx.commit(`web ${v}`);
      if (first) fx.cloneNode();
      first = false;
      expect((await fx.run('prepare', ['--ref', sha], { env })).code).toBe(0);
      const dep = await fx.run('deploy', ['--update', 'all'], { env });
      expect(dep.code, dep.stdout + dep.stderr).toBe(0);
      const ver = await fx.run('verify', [], { env });
      expect(ver.code, ver.stdout + ver.stderr).toBe(0);
      if (v === 'v1') expect(ver.stdout).toMatch(/cleanup: removed .*:v0/);
    }
    expect(onEngine(`${repo.name}@${d.v1}`)).toBe(true);
    expect(onEngine(`${repo.name}@${d.v2}`)).toBe(true);
    expect(onEngine(`${repo.name}@${d.v3}`)).toBe(true);
    expect(onEngine(`${repo.name}@${d.v0}`)).toBe(false);
    expect(onEngine(`${other.name}@${o}`)).toBe(true);
  }, 240_000);
});
