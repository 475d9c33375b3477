// The demo homelab as `homelab demo` builds it: a valid inventory, bootstrapped nodes that the
// real deploy.sh recognises, one node shipped without its secret.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildDemo, type Demo } from '../../src/shell/demo/build.js';
import { loadInventory } from '../../src/shell/inventory/load.js';

let demo: Demo;
const dir = mkdtempSync(join(tmpdir(), 'homelab-demo-test-'));

beforeAll(async () => {
  demo = await buildDemo({ dir: join(dir, 'lab') });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('demo homelab', () => {
  test('SATURN repo holds a valid inventory: four local nodes in three waves, manifests in sync', async () => {
    const { inventory, problems } = await loadInventory(demo.repoDir);
    expect(problems).toEqual([]);
    expect(inventory?.nodes.map((n) => [n.transport, n.wave])).toEqual([
      ['local', 0],
      ['local', 1],
      ['local', 1],
      ['local', 2],
    ]);
    // Every node root lives inside the demo folder, and ports are distinct.
    for (const n of demo.nodes) expect(n.root.startsWith(demo.dir)).toBe(true);
    const ports = demo.nodes.flatMap((n) => n.services.map((s) => s.port));
    expect(new Set(ports).size).toBe(ports.length);
  });

  test('each node is bootstrapped: its checkout is at the remote HEAD and holds the real deploy.sh', () => {
    const head = execFileSync('git', ['-C', demo.repoDir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    for (const n of demo.inventory.nodes) {
      expect(execFileSync('git', ['-C', n.repo, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim()).toBe(head);
      expect(readFileSync(join(n.repo, 'scripts/deploy/deploy.sh'), 'utf8')).toBe(readFileSync('scripts/deploy/deploy.sh', 'utf8'));
      const out = execFileSync('bash', [join(n.repo, 'scripts/deploy/deploy.sh'), 'status', '--root', n.root, '--node', n.name], { encoding: 'utf8' });
      const record = out.split('\n').find((l) => l.startsWith('@homelab/1 status '));
      expect(record, out).toBeDefined();
      expect(JSON.parse(record!.slice('@homelab/1 status '.length))).toMatchObject({ node: n.name, bootstrapped: true, stage: '' });
    }
  });

  test('one node ships without its secret, and the fix names the exact file', () => {
    const broken = demo.inventory.nodes.find((n) => n.name === demo.broken.node)!;
    expect(broken.services[0]?.secrets).toEqual(['NOTES_TOKEN']);
    expect(existsSync(demo.broken.envFile)).toBe(false);
    expect(demo.broken.fix).toBe(`echo NOTES_TOKEN=demo-secret >> ${broken.root}/config/notes/.env`);
  });

  test('a second build into the same folder is refused', async () => {
    await expect(buildDemo({ dir: demo.dir })).rejects.toThrow(/not empty/);
  });
});
