// The tailnet's gate for Tailscale SSH checks: one held check, openings serial until a connection
// opens with no check, the scout turn that keeps a dead node from holding the others up.
import { describe, expect, it } from 'vitest';
import {
  CheckGate,
  type CheckEntry,
  type CheckTicket,
} from '../../src/shell/transport/check-gate.js';

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

function go(e: CheckEntry): CheckTicket {
  if (e.kind !== 'go') throw new Error(`blocked by ${e.by.node}`);
  return e.ticket;
}

/** Starts enter() for each node and reports which have their turn after the microtasks ran. */
async function race(gate: CheckGate, nodes: readonly string[]) {
  const entered = new Map<string, CheckEntry>();
  const pending = nodes.map((n) => gate.enter(n).then((e) => entered.set(n, e)));
  await tick();
  return { entered, pending };
}

const noop = async (): Promise<void> => undefined;

describe('CheckGate', () => {
  it('before any connection opened: one opening at a time', async () => {
    const gate = new CheckGate(10_000);
    const { entered } = await race(gate, ['a', 'b', 'c']);
    expect([...entered.keys()]).toEqual(['a']);
    go(entered.get('a')!).ok();
    await tick();
    // a opened with no check and nobody waits: the rest go together.
    expect([...entered.keys()].sort()).toEqual(['a', 'b', 'c']);
  });

  it('once clear, openings run in parallel', async () => {
    const gate = new CheckGate(10_000);
    go(await gate.enter('a')).ok();
    const { entered } = await race(gate, ['b', 'c', 'd']);
    expect(entered.size).toBe(3);
  });

  it('a banner makes its node the one check; the others are told to wait, without connecting', async () => {
    const gate = new CheckGate(10_000);
    const { entered } = await race(gate, ['a', 'b', 'c']);
    expect(go(entered.get('a')!).banner('https://x/a/1', noop)).toBe('hold');
    await tick();
    for (const n of ['b', 'c']) {
      const e = entered.get(n);
      expect(e?.kind).toBe('blocked');
      if (e?.kind === 'blocked') expect(e.by).toEqual({ node: 'a', url: 'https://x/a/1' });
    }
    expect(gate.current()).toEqual({ node: 'a', url: 'https://x/a/1' });
    // Asking again while a holds: blocked at once.
    expect((await gate.enter('d')).kind).toBe('blocked');
    // a itself may try again (its own retry).
    expect((await gate.enter('a')).kind).toBe('go');
  });

  it('a second banner while one is held is dropped', async () => {
    const gate = new CheckGate(10_000);
    go(await gate.enter('a')).ok();
    const [b, c] = [go(await gate.enter('b')), go(await gate.enter('c'))];
    expect(b.banner('https://x/b', noop)).toBe('hold');
    expect(c.banner('https://x/c', noop)).toBe('drop');
    expect(gate.current()?.node).toBe('b');
  });

  it('done: retry stops the held connection and frees the turn; nodes that waited then go one by one', async () => {
    const gate = new CheckGate(10_000);
    const stopped: string[] = [];
    const a = go(await gate.enter('a'));
    a.banner('https://x/a', async () => {
      stopped.push('a');
    });
    expect((await gate.enter('b')).kind).toBe('blocked');
    expect((await gate.enter('c')).kind).toBe('blocked');
    await gate.retry('b'); // not b's check: nothing happens
    expect(stopped).toEqual([]);
    await gate.retry('a');
    expect(stopped).toEqual(['a']);
    expect(gate.current()).toBeUndefined();
    go(await gate.enter('a')).ok();
    // b and c waited: they open one at a time until both are through.
    const { entered } = await race(gate, ['b', 'c']);
    expect([...entered.keys()]).toEqual(['b']);
    go(entered.get('b')!).ok();
    await tick();
    expect([...entered.keys()]).toEqual(['b', 'c']);
    go(entered.get('c')!).ok();
    // Nobody waits any more: parallel again.
    const after = await race(gate, ['x', 'y']);
    expect(after.entered.size).toBe(2);
  });

  it('a held check that passes in the browser clears the gate', async () => {
    const gate = new CheckGate(10_000);
    go(await gate.enter('a')).banner('https://x/a', noop);
    expect((await gate.enter('b')).kind).toBe('blocked');
    gate.succeeded('a');
    expect(gate.current()).toBeUndefined();
    expect((await gate.enter('b')).kind).toBe('go');
  });

  it('a dead node keeps the turn only for the scout time, not its connect timeout', async () => {
    const gate = new CheckGate(50);
    const started = Date.now();
    const { entered, pending } = await race(gate, ['dead', 'b']);
    expect([...entered.keys()]).toEqual(['dead']);
    await Promise.all(pending);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(entered.get('b')?.kind).toBe('go');
    // Its late failure changes nothing for b.
    go(entered.get('dead')!).failed();
    go(entered.get('b')!).ok();
  });

  it('a failed opening frees the turn at once', async () => {
    const gate = new CheckGate(10_000);
    const { entered } = await race(gate, ['a', 'b']);
    go(entered.get('a')!).failed();
    await tick();
    expect(entered.get('b')?.kind).toBe('go');
  });
});
