// The TUI stays quick with a real-sized homelab and a stage that floods its log: first frame with
// 20 nodes, keys reflected while 5,000 lines a second stream in, bounded memory and redraws.
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, test } from 'vitest';
import { App } from '../../../src/tui/app.js';
import { TuiController } from '../../../src/tui/controller.js';
import { LogStore } from '../../../src/tui/log-store.js';
import { initialState } from '../../../src/tui/state/reducer.js';
import { createAppStore } from '../../../src/tui/state/store.js';
import { FakeControl } from './fake-control.js';
import { REPO, spec, status, svc, up } from './fixtures.js';

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms: number): Promise<number> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setImmediate(r));
  }
  return performance.now() - start;
}

const NODES = Array.from({ length: 20 }, (_, i) =>
  spec(`node-${String(i).padStart(2, '0')}`, Math.floor(i / 5), ['web', 'db']),
);
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function start() {
  const control = new FakeControl(
    { homelab: 'big-lab', git: { remote: 'x', branch: 'main' }, nodes: NODES },
    NODES.map((n) =>
      up(n.name, status(n.name, { services: [svc('web', n.name), svc('db', n.name)] })),
    ),
    REPO,
  );
  const store = createAppStore(initialState({ homelab: 'big-lab', nodes: NODES }));
  const logs = new LogStore(2000, 50);
  const controller = new TuiController(control, store, logs, { refreshMs: 0 });
  const ui = render(
    <App
      store={store}
      logs={logs}
      driver={controller}
      transport="test"
      onQuit={() => {}}
      fallbackSize={{ cols: 120, rows: 40 }}
    />,
  );
  cleanups.push(async () => {
    ui.unmount();
    await controller.stop();
    logs.dispose();
    for (const r of control.runs) r.finish('cancelled');
  });
  return { control, store, logs, controller, ui };
}

// Speed itself (first frame, key latency, memory under a real 5,000 lines/s stage) is measured on
// the real stack by bench/tui.ts; these tests hold what must be true at any speed.
describe('under a log flood', () => {
  test('a key still moves the selection, the log keeps only its newest 2,000 lines, and redraws are batched', async () => {
    const t = start();
    t.controller.start();
    await until(() => (t.ui.lastFrame() ?? '').includes('healthy'), 5000);
    void t.controller.requestStage('node-00', 'diagnose');
    await until(() => t.control.runs.length === 1, 1000);
    const run = t.control.runs[0]!;
    const framesBefore = t.ui.frames.length;
    let sent = 0;
    const flood = setInterval(() => {
      for (let i = 0; i < 200; i++)
        run.emit({ kind: 'log', text: `\x1b[36mdiagnose\x1b[0m: line ${sent++}` });
    }, 5);
    try {
      await pause(200);
      t.ui.stdin.write('j');
      await until(() => (t.ui.lastFrame() ?? '').includes('node-01 · server'), 5000);
      await pause(300);
      t.ui.stdin.write('k');
      await until(() => (t.ui.lastFrame() ?? '').includes('node-00 · server'), 5000);
      // Enough lines to overflow the 2,000-line ring more than twice, however fast the keys acted.
      await until(() => sent > 5000, 30_000);
    } finally {
      clearInterval(flood);
    }
    t.logs.flush();
    expect(sent).toBeGreaterThan(5000);
    expect(t.logs.size('node-00')).toBe(2000);
    expect(t.logs.lines('node-00', 1)[0]).toContain(`line ${sent - 1}`);
    // One redraw per ~50 ms batch (plus keys and spinner ticks), not one per line.
    expect(t.ui.frames.length - framesBefore).toBeLessThan(sent / 20);
  }, 60_000);
});
