// Frames of the main states, drawn by the pure Screen at a given terminal size.
import { render } from 'ink-testing-library';
import { describe, expect, test } from 'vitest';
import {
  initialState,
  reducer,
  type Action,
  type AppState,
} from '../../../src/tui/state/reducer.js';
import type { LogView } from '../../../src/tui/views/detail-pane.js';
import { Screen } from '../../../src/tui/views/screen.js';
import { bindingFor } from '../../../src/tui/keys.js';
import { HEAD, NODES, OLD, REPO, mixedProbes } from './fixtures.js';

const ANSI = /\x1b\[[0-9;]*m/g;

function frame(state: AppState, cols = 80, rows = 24, log: string[] = []): string {
  const readLog = (_node: string, n: number): LogView => ({
    lines: log.slice(-n),
    total: log.length,
  });
  const r = render(
    <Screen
      state={state}
      cols={cols}
      rows={rows}
      readLog={readLog}
      transport="tailscale-ssh ×3 · local ×1"
    />,
  );
  const out = r.lastFrame() ?? '';
  r.unmount();
  return out;
}

function loaded(...more: Action[]): AppState {
  const actions: Action[] = [
    { type: 'repo', repo: REPO },
    ...mixedProbes().map((probe): Action => ({ type: 'probe', probe })),
    { type: 'loaded' },
    { type: 'position', node: 'saturn', behind: 3, changes: ['gitea'] },
    { type: 'position', node: 'solaria', behind: 2, changes: ['jellyfin', 'ollama'] },
    { type: 'position', node: 'gateway', behind: 0, changes: [] },
    ...more,
  ];
  return actions.reduce(reducer, initialState({ homelab: 'mesh-lab', nodes: NODES }));
}

function expectFits(out: string, cols: number, rows: number): void {
  const lines = out.split('\n');
  expect(lines.length).toBeLessThanOrEqual(rows - 1);
  for (const l of lines) expect(l.replace(ANSI, '').length, l).toBeLessThanOrEqual(cols);
}

describe('screen', () => {
  test('loading: every node is listed by wave and shows it is being probed', () => {
    const out = frame(initialState({ homelab: 'mesh-lab', nodes: NODES }));
    expect(out).toContain('mesh-lab');
    expect(out).toMatch(
      /wave 0[\s\S]*gateway[\s\S]*wave 1[\s\S]*saturn[\s\S]*solaria[\s\S]*wave 2[\s\S]*vega/,
    );
    for (const n of ['gateway', 'saturn', 'solaria', 'vega'])
      expect(out).toMatch(new RegExp(`${n}\\s+\\S.*probing…`));
  });

  test('mixed health: header, badges, health and position per node, fits 80x24', () => {
    const out = frame(loaded());
    expect(out).toContain('main @ c0ffee1');
    expect(out).toMatch(/gateway\s+edge \[dns\]\s+verify ok\s+healthy\s+up to date/);
    expect(out).toMatch(/saturn\s+control\s+verify ok\s+unhealthy\s+3 behind/);
    expect(out).toMatch(/solaria\s+gpu \[gpu,media\]\s+prepare failed\s+degraded\s+2 behind/);
    expect(out).toMatch(/vega\s+monitor\s+-\s+unreachable/);
    expectFits(out, 80, 24);
  });

  test('the detail pane of a healthy node: pipeline, services with containers, nothing to do', () => {
    const out = frame(loaded());
    expect(out).toContain('prepare ✓ → deploy ✓ → verify ✓');
    expect(out).toContain('next: nothing (up to date)');
    expect(out).toContain('caddy  running/healthy');
    expect(out).toContain('next stage will change: no service');
  });

  test('a dirty SATURN tree is shown in the header', () => {
    const out = frame(
      loaded({ type: 'repo', repo: { ...REPO, dirty: ['hosts/vega/grafana/docker-compose.yml'] } }),
    );
    expect(out).toContain('c0ffee1 dirty (1)');
  });

  test('a running stage: spinner on its row, pipeline with durations, the live log (colours kept)', () => {
    const state = loaded(
      { type: 'select', node: 'saturn' },
      { type: 'stage-start', node: 'saturn', stage: 'resume', commit: HEAD, at: 0 },
      {
        type: 'node-event',
        node: 'saturn',
        event: { type: 'stage-start', ts: 1, stage: 'prepare' },
      },
      {
        type: 'node-event',
        node: 'saturn',
        event: { type: 'stage-end', ts: 2, stage: 'prepare', result: 'ok', durationMs: 2300 },
      },
      {
        type: 'node-event',
        node: 'saturn',
        event: { type: 'stage-start', ts: 3, stage: 'deploy' },
      },
    );
    const log = Array.from({ length: 50 }, (_, i) => `deploy: line ${i}`);
    log.push('\x1b[32mcompose up saturn_gitea\x1b[0m');
    const out = frame(state, 80, 24, log);
    expect(out).toMatch(/▸ [⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] saturn\s+control\s+resume: deploy/);
    expect(out).toContain('prepare ✓ 2.3s → deploy ● → verify ·');
    expect(out).toContain('log: resume (live) · 51 lines');
    expect(out).toContain('\x1b[32mcompose up saturn_gitea');
    // Only the newest lines that fit are drawn.
    expect(out).not.toContain('deploy: line 0\n');
    expectFits(out, 80, 24);
  });

  test('a failed stage: the failure, the failing step and the way out', () => {
    const state = loaded(
      { type: 'select', node: 'solaria' },
      { type: 'stage-start', node: 'solaria', stage: 'prepare', commit: HEAD, at: 0 },
      {
        type: 'node-event',
        node: 'solaria',
        event: { type: 'stage-start', ts: 1, stage: 'prepare' },
      },
      {
        type: 'node-event',
        node: 'solaria',
        event: {
          type: 'step',
          ts: 2,
          stage: 'prepare',
          step: 'secrets',
          status: 'fail',
          service: 'jellyfin',
          detail: 'JELLYFIN_API_KEY missing in /opt/homelab/config/jellyfin/.env',
        },
      },
      {
        type: 'node-event',
        node: 'solaria',
        event: {
          type: 'stage-end',
          ts: 3,
          stage: 'prepare',
          result: 'failed',
          durationMs: 800,
          error: 'secrets missing',
        },
      },
      {
        type: 'stage-end',
        node: 'solaria',
        outcome: {
          node: 'solaria',
          stage: 'prepare',
          commit: HEAD,
          result: 'failed',
          exitCode: 1,
          message: 'stage failed',
          durationMs: 900,
        },
      },
    );
    const out = frame(state, 80, 24, [
      'prepare: checking secrets',
      'prepare: JELLYFIN_API_KEY is not set',
    ]);
    expect(out).toContain('prepare ✗ 800ms → deploy · → verify ·');
    expect(out).toContain('✗ prepare failed: secrets missing');
    // The failing step's detail wraps instead of being cut: the path is there in full.
    expect(out.replace(/\n/g, '')).toContain(
      'secrets jellyfin: JELLYFIN_API_KEY missing in /opt/homelab/config/jellyfin/.env',
    );
    expect(out).toContain('r resume');
    expect(out).toContain('prepare: JELLYFIN_API_KEY is not set');
    expectFits(out, 80, 24);
  });

  test('the confirm dialog names node, stage, commit and services, and says No is the default', () => {
    const state = loaded(
      { type: 'select', node: 'saturn' },
      {
        type: 'mode',
        mode: {
          kind: 'confirm',
          request: {
            title: 'Run deploy on saturn?',
            stage: 'deploy',
            nodes: ['saturn'],
            commit: HEAD,
            subject: 'add grafana',
            services: { saturn: ['gitea'] },
            warnings: [],
          },
        },
      },
    );
    const out = frame(state);
    expect(out).toContain('Run deploy on saturn?');
    expect(out).toContain('stage    deploy (changes the node)');
    expect(out).toContain('commit   c0ffee1 add grafana');
    expect(out).toContain('saturn: gitea');
    expect(out).toContain('n/Enter/Esc no (default)');
    expectFits(out, 80, 24);
  });

  test('the help screen is generated from the key table and scrolls on a short terminal', () => {
    const state = loaded({ type: 'mode', mode: { kind: 'help', scroll: 0 } });
    const out = frame(state, 80, 24);
    expect(out).toContain('Advance the selected node to its next stage');
    expect(out).toContain('more');
    expectFits(out, 80, 24);
    const tall = frame(state, 100, 90);
    expect(tall).toContain('Deploy the homelab asking once per wave');
    expect(tall).not.toContain('more');
  });

  test('? over the recover view lists its keys first: p, c, l, a among them; q quits there too', () => {
    const state = loaded(
      { type: 'recover-open', open: true },
      { type: 'mode', mode: { kind: 'help', scroll: 0 } },
    );
    const out = frame(state, 80, 24);
    expectFits(out, 80, 24);
    const rows = out.replace(ANSI, '').split('\n');
    const keyOf = (desc: string): string | undefined =>
      rows
        .find((r) => r.includes(desc))
        ?.trim()
        .split(/\s+/)[0];
    expect(keyOf('Build the recover-node prompt')).toBe('p');
    expect(keyOf('Copy the prompt to the clipboard again')).toBe('c');
    expect(keyOf('Open the full log of the failed run')).toBe('l');
    expect(keyOf('Ask the AI command')).toBe('a');
    // Closing the help goes back to the recover view, whose key mode is 'recover'.
    expect(reducer(state, { type: 'mode', mode: { kind: 'normal' } }).mode.kind).toBe('recover');
    expect(bindingFor('recover', 'q')?.command).toBe('quit');
    expect(bindingFor('recover', '?')?.command).toBe('help');
  });

  test('a wide terminal puts nodes and detail side by side', () => {
    const out = frame(loaded(), 160, 40);
    const line = out.split('\n').find((l) => l.includes('gateway') && l.includes('up to date'));
    expect(line).toBeDefined();
    expect(
      out.split('\n').some((l) => /gateway.*up to date.*prepare ✓ → deploy ✓ → verify ✓/.test(l)),
    ).toBe(true);
    expectFits(out, 160, 40);
  });

  test('a filter with no match says so', () => {
    const out = frame(loaded({ type: 'filter-type', text: 'zzz' }));
    expect(out).toContain('/zzz');
    expect(out).toContain('no node matches "zzz"');
  });

  test('an unreachable node says why', () => {
    const out = frame(loaded({ type: 'select', node: 'vega' }));
    expect(out).toContain('unreachable (timeout): no answer within 5s');
    void OLD;
  });

  test('long banners wrap (a path is never cut off) and the frame still fits 80x24', () => {
    const fix =
      'echo NOTES_TOKEN=demo-secret >> /tmp/homelab-demo-AbCdEf/nodes/notes/config/notes/.env';
    const state = {
      ...loaded(),
      banners: [
        'DEMO in /tmp/homelab-demo-AbCdEf: notes-1a2b3c ships broken on purpose (its prepare fails on a missing secret).',
        `Fix it in another terminal:  ${fix}   then select notes-1a2b3c and press r`,
      ],
    };
    const out = frame(state, 80, 24);
    expect(out.replace(/\s+/g, ' ')).toContain(
      fix
        .replace(/\s+/g, ' ')
        .replace('/tmp/homelab-demo-AbCdEf/nodes/notes/config/notes/.env', ''),
    );
    expect(out.split('\n').join('')).toContain(
      '/tmp/homelab-demo-AbCdEf/nodes/notes/config/notes/.env',
    );
    expect(out).toContain('q quit');
    expectFits(out, 80, 24);
  });
});
