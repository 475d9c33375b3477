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

const NODES = Array.from({ length: 20 }, (_, i) => spec(`node-${String(i).padStart(2, '0')}`, Math.floor(i / 5), ['web', 'db']));
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function start() {
  const control = new FakeControl(
    { homelab: 'big-lab', git: { remote: 'x', branch: 'main' }, nodes: NODES },
    NODES.map((n) => up(n.name, status(n.name, { services: [svc('web', n.name), svc('db', n.name)] }))),
    REPO,
  );
  const store = createAppStore(initialState({ homelab: 'big-lab', nodes: NODES }));
  const logs = new LogStore(2000, 50);
  const controller = new TuiController(control, store, logs, { refreshMs: 0 });
  const ui = render(<App store={store} logs={logs} driver={controller} transport="test" onQuit={() => {}} fallbackSize={{ cols: 120, rows: 40 }} />);
  cleanups.push(async () => {
    ui.unmount();
    await controller.stop();
    logs.dispose();
    for (const r of control.runs) r.finish('cancelled');
  });
  return { control, store, logs, controller, ui };
}

describe('responsiveness', () => {
  // Timings run beside other test files on a shared machine: the goal must be met by the best of a
  // few attempts (first frame) and by the median key (latency), so a neighbour's burst is not ours.
  test('the first full frame of 20 nodes arrives within 400 ms (modules loaded)', async () => {
    // Warm-up: module loading and the JIT's first pass are the process's start-up, not the frame.
    const warm = start();
    warm.controller.start();
    await until(() => (warm.ui.lastFrame() ?? '').includes('web  running/healthy'), 5000);
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const t = start();
      t.controller.start();
      await until(() => {
        const f = t.ui.lastFrame() ?? '';
        return !f.includes('probing…') && f.includes('web  running/healthy');
      }, 5000);
      times.push(performance.now() - started);
    }
    console.log(`first full frame, 20 nodes: ${times.map((x) => Math.round(x)).join(', ')} ms`);
    expect(Math.min(...times)).toBeLessThan(400);
  });

  test('while 5,000 log lines a second stream in, a key shows within 100 ms; the log and redraws stay bounded', async () => {
    interface Attempt {
      readonly rate: number;
      readonly median: number;
      readonly sent: number;
      readonly frames: number;
      readonly t: ReturnType<typeof start>;
    }
    const attempt = async (): Promise<Attempt> => {
      const t = start();
      t.controller.start();
      await until(() => (t.ui.lastFrame() ?? '').includes('healthy'), 5000);
      void t.controller.requestStage('node-00', 'diagnose');
      await until(() => t.control.runs.length === 1, 1000);
      const run = t.control.runs[0]!;
      let sent = 0;
      // 5,000 lines a second, arriving as a transport delivers them: a chunk every ~20 ms, sized so
      // the rate holds however late the timer fires.
      const framesBefore = t.ui.frames.length;
      const floodStart = performance.now();
      const flood = setInterval(() => {
        const due = Math.floor(((performance.now() - floodStart) / 1000) * 5000);
        while (sent < due) run.emit({ kind: 'log', text: `\x1b[36mdiagnose\x1b[0m: line ${sent++}` });
      }, 20);
      const latencies: number[] = [];
      try {
        await pause(300);
        for (let k = 0; k < 6; k++) {
          const target = `node-${String(k % 2 === 0 ? 1 : 0).padStart(2, '0')} · server`;
          t.ui.stdin.write(k % 2 === 0 ? 'j' : 'k');
          latencies.push(await until(() => (t.ui.lastFrame() ?? '').includes(target), 2000));
          await pause(250);
        }
      } finally {
        clearInterval(flood);
      }
      const seconds = (performance.now() - floodStart) / 1000;
      const sorted = [...latencies].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)] ?? Infinity;
      console.log(`streamed ${Math.round(sent / seconds)} lines/s; key latencies ${latencies.map((l) => Math.round(l)).join(', ')} ms; ${t.ui.frames.length - framesBefore} frames`);
      return { rate: sent / seconds, median, sent, frames: t.ui.frames.length - framesBefore, t };
    };
    // On a shared, loaded machine a neighbour can starve one attempt: the best of three counts.
    let best: Attempt | undefined;
    for (let i = 0; i < 3; i++) {
      const a = await attempt();
      if (!best || a.median < best.median) best = a;
      if (a.median < 100 && a.rate > 4500) break;
    }
    const { rate, median, sent, frames, t } = best!;
    expect(rate).toBeGreaterThan(4500);
    expect(median).toBeLessThan(100);
    // Bounded: the ring keeps the newest 2,000 lines however many arrived.
    t.logs.flush();
    expect(sent).toBeGreaterThan(5000);
    expect(t.logs.size('node-00')).toBe(2000);
    expect(t.logs.lines('node-00', 1)[0]).toContain(`line ${sent - 1}`);
    // Batched: far fewer redraws than lines (one per ~50 ms batch, plus keys and spinner ticks).
    expect(frames).toBeLessThan(sent / 20);
  }, 60_000);
});
