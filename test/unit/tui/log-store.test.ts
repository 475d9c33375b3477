import { describe, expect, test } from 'vitest';
import { LogStore, Ring, sanitizeLine, type Scheduler } from '../../../src/tui/log-store.js';

class ManualScheduler implements Scheduler {
  pending: Array<() => void> = [];
  set(fn: () => void): unknown {
    this.pending.push(fn);
    return fn;
  }
  clear(h: unknown): void {
    this.pending = this.pending.filter((f) => f !== h);
  }
  run(): void {
    const p = this.pending;
    this.pending = [];
    for (const f of p) f();
  }
}

describe('log store', () => {
  test('a flood of lines becomes one update per batch', () => {
    const sched = new ManualScheduler();
    const store = new LogStore(100, 50, sched);
    let updates = 0;
    store.subscribe(() => updates++);
    for (let i = 0; i < 5000; i++) store.push('n1', `line ${i}`);
    expect(store.size('n1')).toBe(0);
    expect(sched.pending.length).toBe(1);
    sched.run();
    expect(updates).toBe(1);
    // Bounded: only the newest 100 lines are kept.
    expect(store.size('n1')).toBe(100);
    expect(store.lines('n1', 2)).toEqual(['line 4998', 'line 4999']);
    expect(store.lines('n1', 2, 98)).toEqual(['line 4900', 'line 4901']);
  });

  test('reset starts a node afresh and leaves the others alone', () => {
    const sched = new ManualScheduler();
    const store = new LogStore(10, 50, sched);
    store.push('a', 'old');
    store.push('b', 'keep');
    store.reset('a');
    expect(store.lines('a', 5)).toEqual([]);
    expect(store.lines('b', 5)).toEqual(['keep']);
  });

  test('a ring drops the oldest line past its capacity', () => {
    const r = new Ring(3);
    for (const l of ['a', 'b', 'c', 'd', 'e']) r.push(l);
    expect(r.tail(10)).toEqual(['c', 'd', 'e']);
    expect(r.total).toBe(5);
  });

  test.each([
    ['\x1b[31mred\x1b[0m', '\x1b[31mred\x1b[0m'],
    ['\x1b[2J\x1b[Hclear', 'clear'],
    ['progress 10%\rprogress 100%', 'progress 100%'],
    ['\x1b]0;title\x07text', 'text'],
    ['a\tb', 'a  b'],
    ['bell\x07', 'bell'],
  ])('sanitizeLine(%j) keeps colours and nothing that moves the cursor', (input, want) => {
    expect(sanitizeLine(input)).toBe(want);
  });
});
