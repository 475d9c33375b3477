// loadInventory and findRepoRoot on real folders: the shipped example, and temp repos.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { formatProblem } from '../../../src/core/problem.js';
import { loadInventory } from '../../../src/shell/inventory/load.js';
import { findRepoRoot } from '../../../src/shell/repo-root.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
const FIXTURES = join(REPO, 'test/fixtures/inventories');

const temps: string[] = [];
function tempCopy(fixture: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'homelab-load-'));
  temps.push(dir);
  cpSync(join(FIXTURES, fixture), dir, { recursive: true });
  return dir;
}
afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('loadInventory', () => {
  it('the example homelab shipped in the repo is valid', async () => {
    const { inventory, problems } = await loadInventory(REPO);
    expect(problems.map(formatProblem)).toEqual([]);
    expect(inventory?.homelab).toBe('mesh-lab');
    expect(inventory?.nodes.map((n) => `${n.name}:${n.wave}:${n.transport}`)).toEqual([
      'saturn:0:local',
      'mercury:0:tailscale-ssh',
      'solaria:1:tailscale-ssh',
      'venus:1:tailscale-ssh',
    ]);
    const solaria = inventory?.nodes.find((n) => n.name === 'solaria');
    expect(solaria?.tags).toContain('gpu');
    expect(solaria?.services.find((s) => s.name === 'ollama')?.override).toBe('required');
  });

  it('reads a fixture repo from disk: valid', async () => {
    const { inventory, problems } = await loadInventory(join(FIXTURES, 'valid-small'));
    expect(problems).toEqual([]);
    expect(inventory?.nodes[0]?.services[0]?.checks).toEqual([
      { kind: 'http', url: 'http://127.0.0.1:8080/', status: 200 },
    ]);
  });

  it('finds a committed .env and an empty orphan folder on disk, never reading the secret out', async () => {
    const dir = tempCopy('valid-small');
    writeFileSync(join(dir, 'hosts/alpha/web/.env'), 'WEB_TOKEN=do-not-print-me\n');
    mkdirSync(join(dir, 'hosts/alpha/old-thing'));
    const { inventory, problems } = await loadInventory(dir);
    expect(inventory).toBeUndefined();
    const lines = problems.map(formatProblem);
    expect(lines).toEqual([
      'hosts/alpha/old-thing/: folder is not assigned to node "alpha": add "old-thing" to nodes.alpha.services in inventory/topology.yaml, or delete the folder',
      'hosts/alpha/web/.env: secrets file committed to Git: move it to /opt/homelab/config/web/.env on node "alpha", remove it from the repo (git rm --cached hosts/alpha/web/.env) and change the secrets it held',
    ]);
    expect(lines.join('\n')).not.toContain('do-not-print-me');
  });

  it('checks manifests unless told not to (homelab manifest rewrites them)', async () => {
    const dir = tempCopy('valid-small');
    rmSync(join(dir, 'hosts/alpha/node.manifest'));
    expect((await loadInventory(dir)).problems.map(formatProblem)).toEqual([
      'hosts/alpha/node.manifest: missing: run `homelab manifest` to write it from inventory/topology.yaml, then commit it',
    ]);
    expect((await loadInventory(dir, { manifests: false })).problems).toEqual([]);
  });

  it('reports a missing topology as a problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'homelab-load-'));
    temps.push(dir);
    const { inventory, problems } = await loadInventory(dir);
    expect(inventory).toBeUndefined();
    expect(problems.map(formatProblem)).toEqual([
      `inventory/topology.yaml: not found in ${dir}: create it (inventory/templates/how_to_add_new_node.yaml shows a node entry)`,
    ]);
  });
});

describe('findRepoRoot', () => {
  it('walks up from a folder inside the repo', () => {
    expect(findRepoRoot(join(REPO, 'hosts/solaria/ollama'), {})).toBe(REPO);
  });

  it('prefers --repo over HOMELAB_REPO over the working directory', () => {
    const small = join(FIXTURES, 'valid-small');
    const broken = join(FIXTURES, 'broken');
    expect(findRepoRoot('/', { HOMELAB_REPO: broken }, small)).toBe(small);
    expect(findRepoRoot('/', { HOMELAB_REPO: broken })).toBe(broken);
    expect(findRepoRoot(FIXTURES, {}, 'valid-small')).toBe(small);
  });

  it('says what it looked for when there is no repo', () => {
    const dir = mkdtempSync(join(tmpdir(), 'homelab-root-'));
    temps.push(dir);
    expect(() => findRepoRoot(dir, {})).toThrow(
      `no homelab repo found: looked for inventory/topology.yaml in ${dir} and every folder above it; run inside the repo, pass --repo DIR or set HOMELAB_REPO (no homelab yet? \`homelab demo\` builds one to try)`,
    );
    expect(() => findRepoRoot('/', {}, dir)).toThrow(
      `--repo points at ${dir}, which has no inventory/topology.yaml`,
    );
    expect(() => findRepoRoot('/', { HOMELAB_REPO: dir })).toThrow(`HOMELAB_REPO points at ${dir}`);
  });
});
