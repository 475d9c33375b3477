// The TUI's updates column and action: "N updates" per node once U asked the registry, the detail
// pane's per-service lines (old -> new digest), the u/U keys in the one key table (no collision),
// routed to the controller; the whole screen still fits 80x24.
import { render } from 'ink-testing-library';
import { describe, expect, test } from 'vitest';
import type { ImageEvent } from '../../../src/core/protocol/events.js';
import { KEY_TABLE, bindingFor } from '../../../src/tui/keys.js';
import { LogStore } from '../../../src/tui/log-store.js';
import { routeKey, type StageDriver } from '../../../src/tui/router.js';
import {
  initialState,
  reducer,
  type Action,
  type AppState,
  type ImagesView,
} from '../../../src/tui/state/reducer.js';
import { createAppStore } from '../../../src/tui/state/store.js';
import { Screen } from '../../../src/tui/views/screen.js';
import { NODES, REPO, image, mixedProbes } from './fixtures.js';

const ANSI = /\x1b\[[0-9;]*m/g;
function view(images: ImageEvent[], error = ''): ImagesView {
  return { node: '', images, error, loading: false, at: 1 };
}

function loaded(extra: Action[] = []): AppState {
  const actions: Action[] = [
    { type: 'repo', repo: REPO },
    ...mixedProbes().map((probe): Action => ({ type: 'probe', probe })),
    { type: 'loaded' },
    ...extra,
  ];
  return actions.reduce(reducer, initialState({ homelab: 'mesh-lab', nodes: NODES }));
}

function screen(state: AppState): string[] {
  const r = render(
    <Screen
      state={state}
      cols={80}
      rows={24}
      readLog={() => ({ lines: [], total: 0 })}
      transport="ssh ×4"
    />,
  );
  const out = (r.lastFrame() ?? '').replace(ANSI, '');
  r.unmount();
  const lines = out.split('\n');
  expect(lines.length).toBeLessThanOrEqual(24);
  for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80);
  return lines;
}

const asked: Action[] = [
  {
    type: 'images',
    node: 'gateway',
    images: view([image('caddy', 'updatable'), image('adguard', 'current')]),
  },
  { type: 'images', node: 'solaria', images: view([], 'deploy.sh images did not answer in time') },
];

describe('the updates column and the detail pane', () => {
  test('no column before the registry was asked', () => {
    const out = screen(loaded()).join('\n');
    expect(out).not.toMatch(/update|current/);
  });

  test('after U: "1 update" on the node, per service old -> new, at 80x24', () => {
    const lines = screen(loaded(asked));
    const gw = lines.find((l) => l.includes('gateway') && l.includes('wave') === false) ?? '';
    expect(gw).toContain('1 update');
    expect(lines.some((l) => /solaria.*\? images/.test(l))).toBe(true);
    const out = lines.join('\n');
    expect(out).toContain(`caddy: update sha256:aaaaaaaaaaaa -> sha256:bbbbbbbbbbbb`);
    expect(out).toContain('adguard: current');
  });
});

describe('keys', () => {
  test('u and U are in the one table and collide with no other key of the nodes view', () => {
    const normal = KEY_TABLE.filter((b) => b.modes.includes('normal')).flatMap((b) => b.keys);
    expect(normal.filter((k) => k === 'u')).toHaveLength(1);
    expect(normal.filter((k) => k === 'U')).toHaveLength(1);
    expect(bindingFor('normal', 'u')?.command).toBe('update');
    expect(bindingFor('normal', 'U')?.command).toBe('updates-check');
  });

  test('u says why it cannot act: not asked yet, nothing out of date, could not ask', () => {
    const u = bindingFor('normal', 'u');
    const sel = (s: AppState, node: string): AppState => reducer(s, { type: 'select', node });
    expect(u?.disabled?.(sel(loaded(), 'gateway'))).toMatch(/press U first/);
    expect(u?.disabled?.(sel(loaded(asked), 'gateway'))).toBeNull();
    const current: Action = {
      type: 'images',
      node: 'gateway',
      images: view([image('caddy', 'current')]),
    };
    expect(u?.disabled?.(sel(loaded([current]), 'gateway'))).toMatch(/what its tag points to/);
    expect(u?.disabled?.(sel(loaded(asked), 'solaria'))).toMatch(/did not answer/);
  });

  test('the router sends U and u to the controller (u for the selected node, only when it can act)', () => {
    const calls: string[] = [];
    const driver: StageDriver = {
      refresh: async () => undefined,
      requestStage: async () => undefined,
      answer: () => undefined,
      deployAll: async () => undefined,
      copyCheckUrl: () => undefined,
      checkDone: async () => undefined,
      checkUpdates: async () => void calls.push('check'),
      requestUpdate: async (node, scope) =>
        void calls.push(
          `update ${node} ${scope?.kind ?? ''}${scope?.kind === 'service' ? ` ${scope.service}` : ''}`,
        ),
      checkNode: () => Promise.reject(new Error('not in this test')),
      addNode: () => Promise.reject(new Error('not in this test')),
    };
    const store = createAppStore(loaded());
    const ctx = {
      store,
      logs: new LogStore(),
      driver,
      quit: () => undefined,
      logPage: 5,
      helpPage: 10,
    };
    routeKey('u', ctx);
    expect(calls).toEqual([]);
    expect(store.getState().notice?.text).toMatch(/press U first/);
    routeKey('U', ctx);
    for (const a of asked) store.dispatch(a);
    store.dispatch({ type: 'select', node: 'gateway' });
    // u opens the menu: the node (the default), each out-of-date service, the wave
    routeKey('u', ctx);
    expect(store.getState().mode).toEqual({ kind: 'update-menu', index: 0 });
    expect(calls).toEqual(['check']);
    routeKey('enter', ctx);
    expect(store.getState().mode.kind).toBe('normal');
    routeKey('u', ctx);
    routeKey('j', ctx);
    routeKey('enter', ctx);
    routeKey('u', ctx);
    routeKey('k', ctx);
    routeKey('enter', ctx);
    routeKey('u', ctx);
    routeKey('esc', ctx);
    expect(store.getState().mode.kind).toBe('normal');
    expect(calls).toEqual([
      'check',
      'update gateway node',
      'update gateway service caddy',
      'update gateway wave',
    ]);
  });

  test('the update menu at 80x24: node, each out-of-date service with old -> new, the wave', () => {
    const state = reducer(reducer(loaded(asked), { type: 'select', node: 'gateway' }), {
      type: 'mode',
      mode: { kind: 'update-menu', index: 1 },
    });
    const out = screen(state).join('\n');
    expect(out).toContain('Update images: pull, recreate, verify');
    expect(out).toContain('node gateway: its 1 out-of-date service');
    expect(out).toMatch(
      /❯ service caddy: 127\.0\.0\.1:5000\/caddy:latest sha256:aaaaaaaaaaaa -> sha/,
    );
    expect(out).toMatch(/wave \d+: every out-of-date service of its \d+ node/);
    expect(out).not.toContain('service adguard');
  });
});
