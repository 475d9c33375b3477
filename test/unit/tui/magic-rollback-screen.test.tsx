// Magic rollback as SATURN shows it: confirmText for every state of the node's confirm record, the
// status command's lines, and the TUI's detail pane (fits 80x24, the log named).
import { render } from 'ink-testing-library';
import { describe, expect, test } from 'vitest';
import type { ConfirmState } from '../../../src/core/protocol/events.js';
import { parseNodeLine } from '../../../src/core/protocol/parse.js';
import { confirmText } from '../../../src/core/status/summary.js';
import { confirmLines } from '../../../src/core/status/table.js';
import { initialState, reducer, type Action } from '../../../src/tui/state/reducer.js';
import { Screen } from '../../../src/tui/views/screen.js';
import { HEAD, NODES, OLD, REPO, mixedProbes, status, up } from './fixtures.js';

const ANSI = /\x1b\[[0-9;]*m/g;
const LOG = '/opt/homelab/logs/deploy/deploy_20261201T120000000Z.log';

const rolledBack: ConfirmState = {
  state: 'rolled-back',
  run: 's1',
  commit: HEAD,
  previous: OLD,
  timeout: 60,
  deadline: 1,
  watchdogAlive: false,
  rollbackRun: 'wd-s1',
  rollbackLog: LOG,
  rollbackResult: 'ok',
};

describe('confirmText', () => {
  test.each([
    [
      'waiting',
      { state: 'waiting', watchdogAlive: true },
      's1',
      'waits for SATURN to confirm c0ffee1 (run s1) within 60 s, else it rolls back by itself',
    ],
    [
      'waiting, its watchdog gone',
      { state: 'waiting', watchdogAlive: false },
      's1',
      'but its watchdog is gone',
    ],
    [
      'rolling back',
      { state: 'rolling-back' },
      'wd-s1',
      'rolling back by itself to abcdef1: SATURN could not confirm within 60 s (run wd-s1)',
    ],
    [
      'rolled back',
      {},
      'wd-s1',
      `rolled back by itself: SATURN could not confirm within 60 s (c0ffee1; back at abcdef1; log: ${LOG})`,
    ],
    [
      'rolled back, the rollback failed',
      { rollbackResult: 'failed (exit 1)' },
      'wd-s1',
      'the rollback failed (exit 1): homelab recover',
    ],
  ] as const)('%s', (_what, over, run, text) => {
    expect(confirmText({ confirm: { ...rolledBack, ...over }, run })).toContain(text);
  });

  test('nothing to say: confirmed, none, or a later run than the rollback', () => {
    expect(confirmText({ confirm: { ...rolledBack, state: 'confirmed' }, run: 's1' })).toBe(
      undefined,
    );
    expect(confirmText({ confirm: null, run: 's1' })).toBe(undefined);
    expect(confirmText({ confirm: rolledBack, run: 's2' })).toBe(undefined);
  });

  test('the status record carries it, parsed from the node protocol', () => {
    const line = parseNodeLine(
      `@homelab/1 status {"ts":1,"node":"n","bootstrapped":true,"run":"wd-s1","services":[],"confirm":{"state":"rolled-back","run":"s1","commit":"${HEAD}","previous":"${OLD}","timeout":60,"deadline":1,"watchdog_alive":false,"rollback_run":"wd-s1","rollback_log":"${LOG}","rollback_result":"ok"}}`,
    );
    expect(
      line.kind === 'event' && line.event.type === 'status' && line.event.status.confirm,
    ).toEqual(rolledBack);
    const none = parseNodeLine(
      '@homelab/1 status {"ts":1,"node":"n","bootstrapped":true,"confirm":null}',
    );
    expect(none.kind === 'event' && none.event.type === 'status' && none.event.status.confirm).toBe(
      null,
    );
    expect(confirmLines([{ node: 'gateway', confirm: rolledBack, run: 'wd-s1' }] as never)).toEqual(
      [`gateway: ${confirmText({ confirm: rolledBack, run: 'wd-s1' }) ?? ''}`],
    );
  });
});

describe('the TUI shows it', () => {
  test('the detail pane says the node rolled back by itself and names the log, at 80x24', () => {
    const probes = mixedProbes().map((p) =>
      p.node === 'gateway'
        ? up(
            'gateway',
            status('gateway', {
              ...(p.reachable ? p.status : {}),
              run: 'wd-s1',
              confirm: rolledBack,
            }),
          )
        : p,
    );
    const actions: Action[] = [
      { type: 'repo', repo: REPO },
      ...probes.map((probe): Action => ({ type: 'probe', probe })),
      { type: 'loaded' },
    ];
    const state = actions.reduce(reducer, initialState({ homelab: 'mesh-lab', nodes: NODES }));
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
    expect(out).toContain('rolled back by itself: SATURN could not confirm within 60 s');
    expect(out).toContain(`log: ${LOG}`);
    const lines = out.split('\n');
    expect(lines.length).toBeLessThanOrEqual(23);
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80);
  });
});
