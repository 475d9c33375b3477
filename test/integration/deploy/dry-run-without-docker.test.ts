// With no Docker engine (the demo on a machine without one), dry runs still plan: prepare and deploy
// say what a real run would stop on and what it would run, and change nothing. A real run refuses.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeFixture } from '../../support/node-fixture.js';
import { requireLab } from '../../support/lab.js';

const ok = requireLab('docker');
// The real docker CLI, talking to an engine that is not there.
const NO_ENGINE = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };

describe.skipIf(!ok)('dry runs without a Docker engine', () => {
  let fx: NodeFixture;
  let sha: string;

  beforeAll(async () => {
    fx = NodeFixture.create('nd');
    await fx.addService('web');
    fx.writeManifest();
    sha = fx.commit('one service');
    fx.cloneNode();
  });
  afterAll(() => fx?.cleanup());

  it('prepare --dry-run warns that a real run stops at docker, and succeeds as a plan', async () => {
    const out = await fx.run('prepare', ['--ref', sha, '--dry-run'], { env: NO_ENGINE });
    expect(out.code, out.stdout + out.stderr).toBe(0);
    expect(out.stdout + out.stderr).toMatch(
      /dry-run: docker does not answer.*a real run stops here/,
    );
    expect(out.events).toContainEqual(
      expect.objectContaining({ type: 'step', step: 'docker', status: 'skip' }),
    );
    expect(existsSync(fx.stateFile('current_stage'))).toBe(false);
  });

  it('deploy --dry-run lists the compose command it would run for each service', async () => {
    const out = await fx.run('deploy', ['--dry-run'], { env: NO_ENGINE });
    expect(out.code, out.stdout + out.stderr).toBe(0);
    expect(out.stdout).toContain(`docker compose -p ${fx.project('web')}`);
    expect(out.events).toContainEqual(
      expect.objectContaining({ type: 'step', step: 'compose-up', service: 'web', status: 'skip' }),
    );
    expect(fx.containerIds('web')).toEqual([]);
  });

  it('a real prepare refuses, naming docker', async () => {
    const out = await fx.run('prepare', ['--ref', sha], { env: NO_ENGINE });
    expect(out.code).toBe(1);
    expect(out.events).toContainEqual(
      expect.objectContaining({ type: 'step', step: 'docker', status: 'fail' }),
    );
  });
});
