// The service logs view's host (src/tui/service-logs/host.ts) under a flood: what it holds stays
// bounded (the store's ring, and the cache of formatted lines), and the lines it shows -- without a
// filter (only the rows drawn are formatted) and with one (every held line, each formatted once) --
// are the same as formatting every held line anew.
import { describe, expect, it } from 'vitest';
import { formatLogLine, matchesFilter, parseLogLine } from '../../../src/core/logs/service-log.js';
import type { Inventory } from '../../../src/core/inventory/model.js';
import type { NodeRunner, RunOptions } from '../../../src/shell/transport/types.js';
import { CommandLog } from '../../../src/shell/transport/command-log.js';
import { ViewsHost } from '../../../src/tui/service-logs/host.js';
import type { Scheduler } from '../../../src/tui/log-store.js';
import { spec } from './fixtures.js';

class ManualScheduler implements Scheduler {
  pending: Array<() => void> = [];
  set(fn: () => void): unknown {
    this.pending.push(fn);
    return fn;
  }
  clear(h: unknown): void {
    this.pending = this.pending.filter((f) => f !== h);
  }
}

const CAPACITY = 100;
const line = (i: number): string =>
  `web-1  | 2026-12-01T16:01:${String(i % 60).padStart(2, '0')}.123456789Z flood line ${i}`;

/** A node whose `deploy.sh logs` prints what the test hands it, then waits until stopped. */
function floodHost() {
  let emit: (text: string) => void = () => {};
  const runner: NodeRunner = {
    run: (_argv, options?: RunOptions) =>
      new Promise((resolve) => {
        emit = (text) => options?.onStdout?.(text);
        options?.signal?.addEventListener('abort', () =>
          resolve({ exitCode: null, cancelled: true, timedOut: false, durationMs: 0 }),
        );
      }),
    close: async () => {},
  };
  const node = spec('flood', 0, ['web']);
  const inventory = { homelab: 'lab', nodes: [node] } as unknown as Inventory;
  const host = new ViewsHost({
    control: { inventory, nodeRunner: () => runner },
    commandLog: new CommandLog(),
    capacity: CAPACITY,
    scheduler: new ManualScheduler(),
  });
  host.open('flood', 'web');
  return { host, emit: (text: string) => emit(text) };
}

/** What the view shows, computed the plain way: every held line formatted anew. */
function expected(held: readonly string[], filter: string, timestamps: boolean, n: number) {
  const all = held
    .map((l) => formatLogLine(parseLogLine(l), timestamps))
    .filter((l) => matchesFilter(l, filter));
  return { lines: all.slice(-n), matching: all.length };
}

describe('service logs under a flood', () => {
  it('holds at most its capacity, its format cache at most twice that, and shows what plain formatting shows', async () => {
    const { host, emit } = floodHost();
    await Promise.resolve();
    const cache = (host as unknown as { formatted: Map<string, unknown> }).formatted;
    let sent = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 100; i++) emit(line(sent++));
      host.store.flush();
      const held = Array.from({ length: CAPACITY }, (_, i) => line(sent - CAPACITY + i));
      // Toggled once only (a toggle empties the cache): the cache's own bound is what holds it.
      const timestamps = round >= 25;
      if (timestamps !== (host.logs?.timestamps ?? false)) host.toggleTimestamps();
      host.setFilter(round % 2 === 0 ? '' : 'LINE 4');
      const shown = host.shown(20);
      const want = expected(held, host.logs?.filter ?? '', timestamps, 20);
      expect(shown.lines).toEqual(want.lines);
      expect(shown.matching).toBe(want.matching);
      expect(shown.held).toBe(CAPACITY);
      expect(host.store.size('logs')).toBe(CAPACITY);
      expect(cache.size).toBeLessThanOrEqual(2 * CAPACITY);
    }
    expect(sent).toBe(5000);
    host.dispose();
  });

  it('scrolled and paused: the same rows as the plain way', async () => {
    const { host, emit } = floodHost();
    await Promise.resolve();
    for (let i = 0; i < 500; i++) emit(line(i));
    host.store.flush();
    host.scroll(30, 10);
    for (let i = 500; i < 600; i++) emit(line(i));
    host.store.flush();
    const held = Array.from({ length: CAPACITY }, (_, i) => line(400 + i));
    const all = expected(held, '', false, CAPACITY).lines;
    const shown = host.shown(10);
    expect(host.logs?.paused).toBe(true);
    expect(shown.lines).toEqual(all.slice(-40, -30));
    expect(shown.newSincePause).toBe(100);
    host.dispose();
  });
});
