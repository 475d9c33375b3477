// The "Done when", through the homelab CLI on a real registry (Debian's docker-registry
// from setup-lab.sh), the real engine and the real deploy.sh (a `local` node): deploy v1 under
// :latest; push v2 as :latest; `homelab updates` reports the service updatable without pulling;
// `updates --apply` -> v2 runs and verifies; push a broken v3 as :latest, apply -> verify fails ->
// rollback -> the v2 digest runs again though :latest is v3; a registry that is down fails deploy
// with a clear message and leaves the running containers alone.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeImages } from '../../../src/core/images/updates.js';
import { freePort } from '../../../src/shell/free-port.js';
import { runCli } from '../../support/cli.js';
import { createLabHomelab, type LabHomelab } from '../../support/lab-homelab.js';
import { requireLab } from '../../support/lab.js';
import { registryWebCompose, TestRepo } from '../../support/registry.js';

const ok = requireLab('docker', 'registry');

function compose(image: string, port: number): string {
  return registryWebCompose(image, port, 'quick');
}

const docker = (args: readonly string[]): string =>
  execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

describe.skipIf(!ok)('homelab updates on a real registry', () => {
  let hl: LabHomelab;
  let repo: TestRepo;
  let node: string;
  let port: number;
  const digests: Record<string, string> = {};
  const env = { PATH: process.env.PATH, HOMELAB_VERIFY_TIMEOUT: '20' };
  const cli = (args: readonly string[]) => runCli(args, { cwd: hl.repoDir, env });
  const project = (): string => `${node}_web`;
  const container = (): string =>
    docker(['ps', '-q', '--filter', `label=com.docker.compose.project=${project()}`]);
  const running = (): { version: string; image: string } => ({
    version: docker(['exec', container(), 'cat', '/version']),
    image: docker(['inspect', '--format', '{{.Config.Image}}', container()]),
  });
  const updates = async (): Promise<NodeImages> => {
    const r = await cli(['updates', '--json', '--node', node]);
    const parsed = JSON.parse(r.stdout) as { nodes: NodeImages[] };
    return parsed.nodes[0] ?? { node, images: [], error: 'no answer' };
  };
  const setImage = (image: string): string => {
    writeFileSync(
      join(hl.repoDir, 'hosts', node, 'web', 'docker-compose.yml'),
      compose(image, port),
    );
    return hl.commit(`web runs ${image}`);
  };

  beforeAll(async () => {
    node = `up${Math.random().toString(36).slice(2, 7)}`;
    hl = await createLabHomelab({ transport: 'local', nodes: [{ name: node, services: ['web'] }] });
    repo = new TestRepo('upd');
    port = await freePort();
    digests.v1 = repo.push('v1');
    repo.removeLocal();
    setImage(repo.ref('latest'));
    hl.bootstrap(node);
    for (const stage of ['prepare', 'deploy', 'verify']) {
      const r = await cli(['run', stage, '--node', node, '--yes']);
      if (r.code !== 0) throw new Error(`${stage}: ${r.stdout}${r.stderr}`);
    }
  }, 120_000);
  afterAll(async () => {
    await hl?.cleanup();
    repo?.cleanup();
  });

  it('v1 runs from the registry; after v2 is pushed as :latest, updates says so without pulling', async () => {
    expect(running()).toEqual({ version: 'v1', image: repo.ref('latest') });
    const before = await updates();
    expect(before.images.map((i) => i.status)).toEqual(['current']);
    digests.v2 = repo.push('v2');
    docker(['rmi', repo.ref('latest')]);
    const r = await cli(['updates', '--node', node]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain('update available');
    expect(r.stdout).toContain(digests.v2.slice(0, 19));
    expect(r.stdout).toContain('1 image out of date');
    const after = await updates();
    expect(after.images[0]).toMatchObject({
      service: 'web',
      status: 'updatable',
      digest: `${repo.name}@${digests.v1}`,
      remoteDigest: digests.v2,
    });
    // Nothing was pulled: the tag is still not on the engine, v1 still runs.
    expect(() => docker(['image', 'inspect', repo.ref('latest')])).toThrow();
    expect(running().version).toBe('v1');
  });

  it('updates --apply shows what changes, pulls, recreates and verifies v2', async () => {
    const declined = await runCli(['updates', '--apply', '--node', node], {
      cwd: hl.repoDir,
      env,
      answers: ['n'],
    });
    expect(declined.code).toBe(1);
    expect(declined.stdout).toContain(
      `${(digests.v1 ?? '').slice(0, 19)} -> ${(digests.v2 ?? '').slice(0, 19)}`,
    );
    expect(declined.stdout).toContain('Nothing was run.');
    expect(running().version).toBe('v1');

    const r = await cli(['updates', '--apply', '--node', node, '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/pull .*:latest: .*Pulling from/);
    expect(running()).toEqual({ version: 'v2', image: repo.ref('latest') });
    expect((await updates()).images[0]?.status).toBe('current');
  });

  it('a broken v3 as :latest fails verify; rollback runs the v2 digest though :latest is v3', async () => {
    digests.v3 = repo.push('v3', { broken: true });
    const r = await cli(['updates', '--apply', '--node', node, '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`update failed on ${node} (verify)`);
    expect(r.stderr).toContain(`homelab run rollback --node ${node}`);
    const rb = await cli(['run', 'rollback', '--node', node, '--yes']);
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    expect(rb.stdout).toContain(`pinned to the known-good ${repo.name}@${digests.v2}`);
    expect(running()).toEqual({ version: 'v2', image: `${repo.name}@${digests.v2}` });
    expect(repo.remoteDigest('latest')).toBe(digests.v3);
    expect((await updates()).images[0]?.status).toBe('pinned');
    // The status record and `homelab status` show the known-good digests.
    const st = await cli(['status', '--json', '--node', node]);
    const report = JSON.parse(st.stdout) as {
      nodes: { services: { images?: { digest: string }[] }[] }[];
    };
    expect(report.nodes[0]?.services[0]?.images?.[0]?.digest).toBe(`${repo.name}@${digests.v2}`);
    const text = await cli(['status', '--node', node]);
    expect(text.stdout).toContain('known-good images (a rollback starts exactly these):');
    expect(text.stdout).toContain(
      `${node} web  ${repo.name}@${digests.v2}  ${(digests.v2 ?? '').slice(0, 19)}`,
    );
  });

  it('a registry that is down fails deploy with the image, the error and the fix; web keeps running', async () => {
    const before = container();
    const dead = `127.0.0.1:${await freePort()}/h14-down/web:latest`;
    setImage(dead);
    expect((await cli(['run', 'prepare', '--node', node, '--yes'])).code).toBe(0);
    const r = await cli(['run', 'deploy', '--node', node, '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`docker pull ${dead} failed`);
    expect(r.stderr).toMatch(/connection refused/);
    expect(r.stderr).toContain('does not answer: start it');
    expect(container()).toBe(before);
    expect(running().version).toBe('v2');
  });
});
