// The Tailscale SSH check keys of the one key table: c copies the held node's check URL with
// OSC 52, C says the check is done and the controller retries the node through the Control; both
// say why they cannot act on any other node.
import { describe, expect, test } from 'vitest';
import type { NodeProbe } from '../../../src/core/node/types.js';
import { TuiController } from '../../../src/tui/controller.js';
import { activeBindings, bindingFor } from '../../../src/tui/keys.js';
import { LogStore } from '../../../src/tui/log-store.js';
import { routeKey } from '../../../src/tui/router.js';
import { initialState, reducer } from '../../../src/tui/state/reducer.js';
import { createAppStore } from '../../../src/tui/state/store.js';
import { FakeControl } from './fake-control.js';
import { NODES, REPO, mixedProbes, status, up } from './fixtures.js';

const URL = 'https://login.tailscale.com/a/0123456789abcdef';

const held: NodeProbe = {
  node: 'solaria',
  reachable: false,
  reason: 'needs-check',
  message: `Tailscale SSH on solaria requires a check: open ${URL} in a browser and log in, then retry solaria`,
  checkUrl: URL,
  probedAt: 1,
  latencyMs: 300,
};
const waiting: NodeProbe = {
  node: 'vega',
  reachable: false,
  reason: 'needs-check',
  message: 'waiting for the Tailscale SSH check of solaria (one check at a time)',
  probedAt: 1,
  latencyMs: 1,
};

function setup() {
  const probes = mixedProbes().map((p) =>
    p.node === 'solaria' ? held : p.node === 'vega' ? waiting : p,
  );
  const control = new FakeControl(
    { homelab: 'mesh-lab', git: { remote: 'x', branch: 'main' }, nodes: NODES },
    probes,
    REPO,
  );
  const store = createAppStore(initialState({ homelab: 'mesh-lab', nodes: NODES }));
  store.dispatch({ type: 'repo', repo: REPO });
  for (const p of probes) store.dispatch({ type: 'probe', probe: p });
  const written: string[] = [];
  const logs = new LogStore(100, 10);
  const controller = new TuiController(control, store, logs, {
    refreshMs: 0,
    writeTerminal: (d) => written.push(d),
  });
  const ctx = {
    store,
    logs,
    driver: controller,
    quit: () => undefined,
    logPage: 5,
    helpPage: 5,
  };
  return { control, store, written, ctx };
}

describe('the Tailscale SSH check keys', () => {
  test('c and C are in the one table, in normal mode only, and collide with no other key there', () => {
    expect(bindingFor('normal', 'c')?.command).toBe('check-copy');
    expect(bindingFor('normal', 'C')?.command).toBe('check-done');
    expect(bindingFor('recover', 'c')?.command).toBe('rec-copy');
  });

  test('on the node that holds the check: the footer offers both; c writes OSC 52 with the URL', () => {
    const { store, written, ctx } = setup();
    store.dispatch({ type: 'select', node: 'solaria' });
    const offered = activeBindings(store.getState()).map((b) => b.command);
    expect(offered).toContain('check-copy');
    expect(offered).toContain('check-done');
    routeKey('c', ctx);
    expect(written).toEqual([`\x1b]52;c;${Buffer.from(URL).toString('base64')}\x07`]);
    expect(store.getState().notice?.text).toContain("copied solaria's check URL (OSC 52)");
  });

  test('C retries the node through Control.checkDone and shows the new probe', async () => {
    const { control, store, ctx } = setup();
    store.dispatch({ type: 'select', node: 'solaria' });
    control.probes.set('solaria', up('solaria', status('solaria')));
    routeKey('C', ctx);
    await expect
      .poll(() => store.getState().nodes.find((n) => n.spec.name === 'solaria')?.probe?.reachable)
      .toBe(true);
    expect(control.checkDoneCalls).toEqual(['solaria']);
    await expect.poll(() => store.getState().notice?.text).toContain('check passed, reachable');
  });

  test.each([
    ['vega', "vega waits for another node's check: select that one"],
    ['gateway', 'no Tailscale SSH check is waiting on gateway'],
  ])('on %s neither key acts, and says why', (node, why) => {
    const { control, store, written, ctx } = setup();
    store.dispatch({ type: 'select', node });
    const offered = activeBindings(store.getState()).map((b) => b.command);
    expect(offered).not.toContain('check-copy');
    expect(offered).not.toContain('check-done');
    for (const key of ['c', 'C']) {
      routeKey(key, ctx);
      expect(store.getState().notice?.text).toBe(`${key}: ${why}`);
    }
    expect(written).toEqual([]);
    expect(control.checkDoneCalls).toEqual([]);
  });

  test('the reducer keeps the URL of a needs-check probe', () => {
    let s = initialState({ homelab: 'mesh-lab', nodes: NODES });
    s = reducer(s, { type: 'probe', probe: held });
    const p = s.nodes.find((n) => n.spec.name === 'solaria')?.probe;
    expect(p?.reachable === false && p.checkUrl).toBe(URL);
  });
});
