// The add-node form's intents, at the controller over a real Control on a copy of the example
// homelab: the check writes nothing; the write re-checks, writes what `homelab node add` writes,
// reads the inventory again and puts the node in the app's list at once (what other nodes showed
// is kept); a refusal writes nothing and leaves the list as it was.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FieldValues } from '../../src/core/onboarding/fields.js';
import { openControl } from '../../src/shell/control/control.js';
import type { Control } from '../../src/shell/control/types.js';
import { TuiController } from '../../src/tui/controller.js';
import { LogStore } from '../../src/tui/log-store.js';
import { initialState } from '../../src/tui/state/reducer.js';
import { createAppStore, type AppStore } from '../../src/tui/state/store.js';

const REPO_ROOT = join(import.meta.dirname, '..', '..');

const VEGA: FieldValues = {
  name: 'vega',
  address: 'vega',
  role: 'storage',
  tags: 'nas',
  wave: '1',
  transport: 'ssh',
  services: 'web',
};

describe('TuiController add-node intents', () => {
  let repo: string;
  let control: Control;
  let store: AppStore;
  let controller: TuiController;

  beforeEach(async () => {
    repo = mkdtempSync(join(tmpdir(), 'homelab-intent-'));
    for (const d of ['inventory', 'hosts'])
      cpSync(join(REPO_ROOT, d), join(repo, d), { recursive: true });
    control = await openControl({ repoDir: repo });
    store = createAppStore(
      initialState({ homelab: control.inventory.homelab, nodes: control.inventory.nodes }),
    );
    controller = new TuiController(control, store, new LogStore(), { refreshMs: 0 });
  });
  afterEach(async () => {
    await controller.stop();
    await control.close();
    rmSync(repo, { recursive: true, force: true });
  });

  const names = (): string[] => store.getState().nodes.map((n) => n.spec.name);

  it('checks without writing, then writes and lists the node at once, keeping what others showed', async () => {
    const topology = readFileSync(join(repo, 'inventory/topology.yaml'), 'utf8');
    const check = await controller.checkNode(VEGA, 18190);
    expect(check.ok).toBe(true);
    expect(check.lines[0]).toContain('vega: address vega, role storage');
    expect(check.lines).toContain('  write hosts/vega/web/docker-compose.yml');
    expect(readFileSync(join(repo, 'inventory/topology.yaml'), 'utf8')).toBe(topology);
    expect(existsSync(join(repo, 'hosts/vega'))).toBe(false);
    expect(names()).not.toContain('vega');

    // What the list knew of another node before the write stays.
    store.dispatch({ type: 'select', node: 'venus' });
    store.dispatch({ type: 'position', node: 'venus', behind: 3, changes: ['grafana'] });

    const written = await controller.addNode(VEGA, 18190);
    expect(written.added).toBe('vega');
    expect(written.lines.join('\n')).toContain('homelab node bootstrap vega');
    expect(readFileSync(join(repo, 'hosts/vega/web/docker-compose.yml'), 'utf8')).toContain(
      '127.0.0.1:18190',
    );
    expect(names()).toContain('vega');
    expect(control.inventory.nodes.map((n) => n.name)).toContain('vega');
    const vega = store.getState().nodes.find((n) => n.spec.name === 'vega');
    expect(vega?.spec).toMatchObject({ wave: 1, role: 'storage', transport: 'ssh' });
    // Sorted by wave: vega sits with the wave-1 nodes, before any wave-2 node.
    const waves = store.getState().nodes.map((n) => n.spec.wave);
    expect([...waves].sort((a, b) => a - b)).toEqual(waves);
    const venus = store.getState().nodes.find((n) => n.spec.name === 'venus');
    expect(venus).toMatchObject({ behind: 3, changes: ['grafana'] });
    expect(store.getState().selected).toBe('venus');
  });

  it('a refused node writes nothing and leaves the list as it was', async () => {
    const before = names();
    const gap = { ...VEGA, wave: '3' }; // the example has waves 0 and 1: wave 3 leaves a gap
    const check = await controller.checkNode(gap);
    expect(check.ok).toBe(false);
    expect(check.lines[0]).toBe('Refused: adding "vega" would leave the inventory invalid');
    expect(check.lines.at(-1)).toBe('Nothing was written.');
    const written = await controller.addNode(gap);
    expect(written.added).toBeUndefined();
    expect(existsSync(join(repo, 'hosts/vega'))).toBe(false);
    expect(names()).toEqual(before);
    expect(control.inventory.nodes).toHaveLength(before.length);
  });

  it('a name taken since the check is refused at the write (the write checks again)', async () => {
    expect((await controller.checkNode(VEGA)).ok).toBe(true);
    expect((await controller.addNode(VEGA)).added).toBe('vega');
    const again = await controller.addNode(VEGA);
    expect(again.added).toBeUndefined();
    expect(again.lines[0]).toMatch(/^Refused: .*vega/);
    expect(names().filter((n) => n === 'vega')).toHaveLength(1);
  });
});
