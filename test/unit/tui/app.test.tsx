// The TUI driven by keys, as an operator would: the real reducer, router, controller and views on
// an in-memory Control. Keys are written as a terminal sends them, with no pause between them: the
// app handles each key in order on the state the previous one left; tests wait for what the screen
// shows, never for a fixed time.
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, test } from 'vitest';
import { App } from '../../../src/tui/app.js';
import { TuiController } from '../../../src/tui/controller.js';
import { LogStore } from '../../../src/tui/log-store.js';
import { initialState } from '../../../src/tui/state/reducer.js';
import { createAppStore } from '../../../src/tui/state/store.js';
import { FakeControl } from './fake-control.js';
import { HEAD, NODES, REPO, mixedProbes, status, svc, up } from './fixtures.js';

const pause = (ms = 50): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await pause(10);
  }
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function start(
  control = new FakeControl(
    { homelab: 'mesh-lab', git: { remote: 'x', branch: 'main' }, nodes: NODES },
    mixedProbes(),
    REPO,
  ),
) {
  const store = createAppStore(initialState({ homelab: 'mesh-lab', nodes: NODES }));
  const logs = new LogStore(500, 10);
  const controller = new TuiController(control, store, logs, { refreshMs: 0 });
  let quits = 0;
  const ui = render(
    <App
      store={store}
      logs={logs}
      driver={controller}
      transport="test"
      onQuit={() => quits++}
      tickMs={50}
    />,
  );
  controller.start();
  cleanups.push(async () => {
    ui.unmount();
    await controller.stop();
    logs.dispose();
    for (const r of control.runs) r.finish('cancelled');
  });
  const screen = (): string => ui.lastFrame() ?? '';
  const press = async (...keys: string[]): Promise<void> => {
    for (const k of keys) ui.stdin.write(k);
    await Promise.resolve();
  };
  return { control, store, ui, screen, press, quits: () => quits };
}

const DOWN = '\x1b[B';
const ENTER = '\r';
const ESC = '\x1b';

describe('TUI keys', () => {
  test('Enter on a failed node asks to resume; declining runs nothing', async () => {
    const t = start();
    await until('probes', () => t.screen().includes('prepare failed'));
    await t.press(DOWN, DOWN); // solaria
    t.control.changed = { solaria: ['jellyfin', 'ollama'] };
    await t.press(ENTER);
    await until('dialog', () => t.screen().includes('Run resume on solaria?'));
    expect(t.screen()).toContain('commit   c0ffee1 add grafana');
    expect(t.screen()).toContain('solaria: jellyfin, ollama');
    await t.press('n');
    await until('declined', () => t.screen().includes('declined, nothing ran'));
    expect(t.control.runs).toEqual([]);
    // Enter (the default) declines too.
    await t.press(ENTER);
    await until('dialog again', () => t.screen().includes('Run resume on solaria?'));
    await t.press(ENTER);
    await until('closed', () => !t.screen().includes('Run resume on solaria?'));
    expect(t.control.runs).toEqual([]);
  });

  test('y runs the stage: spinner, live log, then the result; other nodes stay selectable', async () => {
    const t = start();
    await until('probes', () => t.screen().includes('prepare failed'));
    await t.press(DOWN, DOWN, ENTER);
    await until('dialog', () => t.screen().includes('Run resume on solaria?'));
    await t.press('y');
    await until('run started', () => t.control.runs.length === 1);
    const run = t.control.runs[0]!;
    expect(run.request).toMatchObject({ node: 'solaria', stage: 'resume' });
    run.emit({ kind: 'event', event: { type: 'stage-start', ts: 1, stage: 'prepare' } });
    for (let i = 0; i < 300; i++) run.emit({ kind: 'log', text: `prepare: line ${i}` });
    await until('live log', () => t.screen().includes('prepare: line 299'));
    // The row shows the stage the run is in now.
    expect(t.screen()).toMatch(/solaria\s+gpu \[gpu,media\]\s+resume: prepare/);
    expect(t.screen()).toContain('log: resume (live) · 300 lines');
    // Looking at another node while the stage runs.
    await t.press('k');
    await until('saturn selected', () => t.screen().includes('saturn · control'));
    expect(t.screen()).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] solaria/);
    // It ends: the node is probed again and its new state shows.
    t.control.probes.set(
      'solaria',
      up(
        'solaria',
        status('solaria', { services: [svc('jellyfin', 'solaria'), svc('ollama', 'solaria')] }),
      ),
    );
    run.emit({
      kind: 'event',
      event: { type: 'stage-end', ts: 2, stage: 'prepare', result: 'ok', durationMs: 1200 },
    });
    run.finish('ok');
    await until('result', () => t.screen().includes('resume on solaria: ok'));
    await until('reprobed', () =>
      /solaria\s+gpu \[gpu,media\]\s+verify ok\s+healthy/.test(t.screen()),
    );
  });

  test('a second stage on a busy node is refused; Enter on an up-to-date node says why', async () => {
    const t = start();
    await until('probes', () => t.screen().includes('prepare failed'));
    await t.press(ENTER); // gateway: up to date
    await until('reason', () => t.screen().includes('Enter: gateway is up to date'));
    expect(t.control.runs).toEqual([]);
    await t.press('d'); // diagnose never asks
    await until('diagnose runs', () => t.control.runs.length === 1);
    expect(t.control.runs[0]!.request.stage).toBe('diagnose');
    await t.press('d');
    await until('refused', () => t.screen().includes('a stage is running on gateway'));
    expect(t.control.runs.length).toBe(1);
  });

  test('s opens the stage menu; Esc closes it; picking deploy asks first', async () => {
    const t = start();
    await until('probes', () => t.screen().includes('prepare failed'));
    await t.press('j', 's');
    await until('menu', () => t.screen().includes('Run a stage on saturn'));
    expect(t.screen()).toContain('rollback');
    await t.press(ESC);
    await until('menu closed', () => !t.screen().includes('Run a stage on saturn'));
    await t.press('s');
    await until('menu', () => t.screen().includes('Run a stage on saturn'));
    await t.press(DOWN);
    await until('deploy highlighted', () => /❯ deploy/.test(t.screen()));
    await t.press(ENTER);
    await until('confirm', () => t.screen().includes('Run deploy on saturn?'));
    await t.press(ESC);
    await until('closed', () => t.screen().includes('declined'));
    expect(t.control.runs).toEqual([]);
  });

  test('? shows help from the key table; / filters; q quits, asking while a stage runs', async () => {
    const t = start();
    await until('probes', () => t.screen().includes('prepare failed'));
    await t.press('?');
    await until('help', () => t.screen().includes('Select the node above'));
    // Esc then / at once would read as Alt+/ (as in any terminal): wait for the help to close.
    await t.press(ESC);
    await until('help closed', () => t.store.getState().mode.kind === 'normal');
    await t.press('/', 'g', 'p', 'u');
    await until('filtered', () => t.screen().includes('/gpu'));
    expect(t.screen()).not.toMatch(/gateway\s+edge/);
    await t.press(ENTER, 'd');
    await until('diagnose runs', () => t.control.runs.length === 1);
    await t.press('q');
    await until('asks', () => t.screen().includes('Quit anyway?'));
    expect(t.quits()).toBe(0);
    await t.press('n');
    await until('stays', () => !t.screen().includes('Quit anyway?'));
    await t.press('q', 'y');
    await until('quit', () => t.quits() === 1);
  });

  test('D deploys the homelab wave by wave, once per wave, and stops at the first failure', async () => {
    const old = 'deadbeef'.repeat(5);
    const behind = (n: string) => up(n, status(n, { target: old, deployed: old, knownGood: old }));
    const control = new FakeControl(
      { homelab: 'mesh-lab', git: { remote: 'x', branch: 'main' }, nodes: NODES.slice(0, 3) },
      [behind('gateway'), behind('saturn'), behind('solaria')],
      REPO,
    );
    const t = start(control);
    await until('probes', () => t.screen().includes('saturn'));
    await t.press('D');
    await until('choice', () => t.screen().includes('ask once per wave'));
    await t.press('w');
    await until('wave 0 asked', () => t.screen().includes('Deploy wave 0 (1 node)?'));
    await t.press('y');
    // gateway: one run (up: prepare -> deploy -> verify) without further questions.
    await until('gateway up', () => control.runs.length === 1);
    expect(control.runs[0]!.request).toMatchObject({ node: 'gateway', stage: 'up', commit: HEAD });
    control.probes.set(
      'gateway',
      up('gateway', status('gateway', { stage: 'verify', target: HEAD, deployed: HEAD })),
    );
    control.runs[0]!.finish('ok');
    await until('wave 1 asked', () => t.screen().includes('Deploy wave 1 (2 nodes)'));
    expect(t.screen()).toContain('saturn');
    await t.press('y');
    // Both nodes of wave 1 run at once.
    await until('wave 1 runs', () => control.runs.length === 3);
    expect(control.runs.slice(1).map((r) => r.request.node)).toEqual(['saturn', 'solaria']);
    const [saturn, solaria] = [control.runs[1]!, control.runs[2]!];
    saturn.emit({ kind: 'event', event: { type: 'stage-start', ts: 1, stage: 'deploy' } });
    await until('live stage in the row', () => /saturn\s+control.*up: deploy/.test(t.screen()));
    control.probes.set(
      'saturn',
      up(
        'saturn',
        status('saturn', { stage: 'prepare', stageStatus: 'failed', target: HEAD, deployed: old }),
      ),
    );
    saturn.finish('failed', 'stage failed');
    // The running one finishes and is reported; nothing new starts.
    await pause(100);
    expect(t.screen()).not.toContain('deploy walk stopped');
    control.probes.set(
      'solaria',
      up('solaria', status('solaria', { stage: 'verify', target: HEAD, deployed: HEAD })),
    );
    solaria.finish('ok');
    await until('stopped', () => t.screen().includes('deploy walk stopped at saturn'));
    expect(control.runs).toHaveLength(3);
    expect(t.screen()).toContain('saturn · control');
  });

  test('R and F5 refresh every node; PgUp scrolls the log back and PgDn returns to its live end', async () => {
    const t = start();
    await until('probes', () => t.screen().includes('prepare failed'));
    await until('first refresh done', () => !t.screen().includes('refreshing'));
    const calls = t.control.probeAllCalls;
    await t.press('R');
    await until('R refreshed', () => t.control.probeAllCalls === calls + 1);
    await until('idle', () => !t.screen().includes('refreshing'));
    await t.press('\x1b[15~');
    await until('F5 refreshed', () => t.control.probeAllCalls === calls + 2);

    await t.press('d');
    await until('diagnose runs', () => t.control.runs.length === 1);
    for (let i = 0; i < 100; i++)
      t.control.runs[0]!.emit({ kind: 'log', text: `diagnose: finding ${i}` });
    await until('log', () => t.screen().includes('diagnose: finding 99'));
    await t.press('\x1b[5~');
    await until(
      'scrolled back',
      () =>
        /log: diagnose \(live\) · 100 lines ↑\d+/.test(t.screen()) &&
        !t.screen().includes('diagnose: finding 99'),
    );
    await t.press('\x1b[6~', '\x1b[6~', '\x1b[6~');
    await until(
      'live end',
      () => t.screen().includes('diagnose: finding 99') && !/lines ↑\d/.test(t.screen()),
    );
  });

  test('D then e asks before every stage; declining stops the walk with nothing run', async () => {
    const old = 'deadbeef'.repeat(5);
    const control = new FakeControl(
      { homelab: 'mesh-lab', git: { remote: 'x', branch: 'main' }, nodes: NODES.slice(0, 2) },
      [
        up('gateway', status('gateway', { target: old, deployed: old, knownGood: old })),
        up('saturn', status('saturn', { target: old, deployed: old, knownGood: old })),
      ],
      REPO,
    );
    const t = start(control);
    await until('probes', () => t.screen().includes('saturn'));
    await t.press('D');
    await until('choice', () => t.screen().includes('ask before every stage'));
    await t.press(ENTER);
    await until('first stage asked', () => t.screen().includes('Run prepare on gateway?'));
    await t.press('y');
    await until('prepare runs', () => control.runs.length === 1);
    control.probes.set(
      'gateway',
      up('gateway', status('gateway', { stage: 'prepare', target: HEAD, deployed: old })),
    );
    control.runs[0]!.finish('ok');
    await until('second stage asked', () => t.screen().includes('Run deploy on gateway?'));
    await t.press('n');
    await until('stopped', () => t.screen().includes('deploy walk stopped at gateway: declined'));
    expect(control.runs.map((r) => r.request.stage)).toEqual(['prepare']);
  });

  test('a burst of keys in one chunk acts whole and in order: a 20-character paste, /gpu typed fast', async () => {
    const t = start();
    await until('probes', () => t.screen().includes('prepare failed'));
    // One write is one chunk, as a terminal hands a paste or quick typing to the app.
    const paste = 'no-such-node-abcdefg';
    expect(paste).toHaveLength(20);
    await t.press(`/${paste}`);
    await until('whole paste', () => t.screen().includes(`/${paste}`));
    expect(t.store.getState().filter).toBe(paste);
    await t.press(ESC);
    await until('filter cleared', () => t.store.getState().mode.kind === 'normal');
    await t.press('/gpu\r');
    await until('filtered', () => t.store.getState().filter === 'gpu');
    expect(t.store.getState().mode.kind).toBe('normal');
    expect(t.screen()).not.toMatch(/gateway\s+edge/);
  });

  test('keys sent while the confirmation is prepared act on it: Enter then y at once runs the stage', async () => {
    const t = start();
    await until('probes', () => t.screen().includes('prepare failed'));
    await t.press(DOWN, DOWN);
    await until('solaria', () => t.store.getState().selected === 'solaria');
    // The dialog needs the repo and the plan first; the y arrives before it opens.
    await t.press(`${ENTER}y`);
    await until('run started', () => t.control.runs.length === 1);
    expect(t.control.runs[0]!.request).toMatchObject({ node: 'solaria', stage: 'resume' });
  });

  test('with uncommitted changes Enter says so at once and asks nothing; the node shows no refusal; hints name keys that act', async () => {
    const control = new FakeControl(
      { homelab: 'mesh-lab', git: { remote: 'x', branch: 'main' }, nodes: NODES },
      mixedProbes(),
      { ...REPO, dirty: ['hosts/saturn/gitea/docker-compose.yml'] },
    );
    const t = start(control);
    await until('probes', () => t.screen().includes('prepare failed'));
    await t.press('j'); // saturn: behind, its next stage is prepare
    await until('saturn', () => t.store.getState().selected === 'saturn');
    await t.press(ENTER);
    await until('notice', () =>
      t.screen().includes('prepare on saturn not run (it would be refused)'),
    );
    expect(t.screen().replace(/\n/g, ' ')).toContain('uncommitted changes');
    expect(t.screen()).not.toContain('Run prepare on saturn?');
    expect(t.store.getState().mode.kind).toBe('normal');
    expect(control.runs).toEqual([]);
    const row =
      t
        .screen()
        .split('\n')
        .find((l) => /saturn\s+control/.test(l)) ?? '';
    expect(row).not.toBe('');
    expect(row).not.toContain('refused');
    // r on a node where nothing failed says why instead of failing later with "nothing to resume".
    await t.press('r');
    await until('why not', () => t.screen().includes('r: nothing to resume on saturn'));
    expect(control.runs).toEqual([]);
  });

  test('a opens the add-node form, which reads the keys until Esc closes it', async () => {
    const t = start();
    await until('probes', () => t.screen().includes('prepare failed'));
    await t.press('a');
    await until('form', () => t.screen().includes('Add a node to the homelab'));
    // Keys go to the form, not to the node list.
    await t.press('j');
    expect(t.screen()).toMatch(/▸\s+gateway/);
    await t.press(ESC);
    await until('closed', () => !t.screen().includes('Add a node to the homelab'));
    await t.press('j');
    await until('list moves again', () => /▸\s+saturn/.test(t.screen()));
  });
});
