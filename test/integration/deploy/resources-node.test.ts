// `deploy.sh resources`, real bash, real Docker with Compose v2: one `resources` record with the
// CPU and memory of the node's running containers (docker stats --no-stream) and the disk usage of
// docker's data root and the node's root; read-only (the state folder is left as it was); with the
// engine unreachable the record still comes, with the root's disk and the error.
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireLab } from '../../support/lab.js';
import { NodeFixture } from '../../support/node-fixture.js';
import { parseNodeLine } from '../../../src/core/protocol/parse.js';
import type { ResourcesEvent } from '../../../src/core/protocol/events.js';

const ok = requireLab('docker');

function records(stdout: string): ResourcesEvent[] {
  return stdout.split('\n').flatMap((l) => {
    const line = parseNodeLine(l);
    return line.kind === 'event' && line.event.type === 'resources' ? [line.event] : [];
  });
}

describe.skipIf(!ok)('deploy.sh resources', () => {
  let fx: NodeFixture;

  beforeAll(async () => {
    fx = NodeFixture.create('rs');
    await fx.addService('web');
    fx.writeManifest();
    const sha = fx.commit('one service');
    fx.cloneNode();
    for (const [stage, args] of [
      ['prepare', ['--ref', sha]],
      ['deploy', []],
    ] as const) {
      const r = await fx.run(stage, args);
      if (r.code !== 0) throw new Error(`${stage} exited ${r.code}:\n${r.stdout}${r.stderr}`);
    }
  }, 120_000);

  afterAll(() => fx?.cleanup());

  it("gives the container's memory and both disks", async () => {
    const state = readdirSync(fx.stateFile('')).sort();
    const r = await fx.run('resources');
    expect(r.code, r.stderr).toBe(0);
    const recs = records(r.stdout);
    expect(recs).toHaveLength(1);
    const rec = recs[0];
    expect(rec?.node).toBe(fx.node);
    expect(rec?.error).toBe('');
    const web = rec?.containers.filter((c) => c.service === 'web') ?? [];
    expect(web.length).toBeGreaterThan(0);
    for (const c of web) {
      expect(c.container).toContain(fx.project('web'));
      expect(c.memBytes).toBeGreaterThan(0);
      expect(c.memLimitBytes).toBeGreaterThanOrEqual(c.memBytes ?? Infinity);
      expect(c.cpuPercent).toBeGreaterThanOrEqual(0);
    }
    // Only this node's projects: no container of another test's node.
    expect(rec?.containers.every((c) => c.container.startsWith(`${fx.node}_`))).toBe(true);
    expect(rec?.disks.map((d) => d.what)).toEqual(['docker', 'root']);
    for (const d of rec?.disks ?? []) {
      expect(d.sizeKb).toBeGreaterThan(0);
      expect(d.usedKb + d.availKb).toBeLessThanOrEqual(d.sizeKb * 1.1);
    }
    expect(rec?.disks[1]?.path).toBe(fx.root);
    // Read-only: nothing written to the state folder.
    expect(readdirSync(fx.stateFile('')).sort()).toEqual(state);
  }, 60_000);

  it('says what it could not read when the engine does not answer, and still gives the root', async () => {
    const r = await fx.run('resources', [], {
      env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
    });
    expect(r.code, r.stderr).toBe(0);
    const rec = records(r.stdout)[0];
    expect(rec?.error).toMatch(/docker/);
    expect(rec?.containers).toEqual([]);
    expect(rec?.disks.map((d) => d.what)).toEqual(['root']);
  }, 60_000);
});
