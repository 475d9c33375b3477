// mapLimit (src/shell/fanout.ts): how SATURN fans a command out to many nodes.
import { describe, expect, it } from 'vitest';
import { mapLimit } from '../../../src/shell/fanout.js';

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('mapLimit', () => {
  it('keeps results in input order while finishing out of order', async () => {
    const finished: number[] = [];
    const out = await mapLimit([30, 5, 20, 1, 10], 3, async (ms, i) => {
      await delay(ms);
      finished.push(i);
      return `node-${i}`;
    });
    expect(out).toEqual(['node-0', 'node-1', 'node-2', 'node-3', 'node-4']);
    expect(finished).not.toEqual([0, 1, 2, 3, 4]);
  });

  it('never runs more than limit at once, and uses the whole limit', async () => {
    let running = 0;
    let peak = 0;
    await mapLimit(
      Array.from({ length: 20 }, (_, i) => i),
      4,
      async () => {
        running++;
        peak = Math.max(peak, running);
        await delay(5);
        running--;
      },
    );
    expect(peak).toBe(4);
  });

  it('handles an empty list and a limit above the length', async () => {
    expect(await mapLimit([], 5, async (x: number) => x)).toEqual([]);
    expect(await mapLimit([1, 2], 10, async (x) => x * 2)).toEqual([2, 4]);
  });

  it('rejects with the first error and starts nothing new after it', async () => {
    const started: number[] = [];
    await expect(
      mapLimit([0, 1, 2, 3, 4, 5], 2, async (i) => {
        started.push(i);
        await delay(5);
        if (i === 1) throw new Error('node 1 broke');
        return i;
      }),
    ).rejects.toThrow('node 1 broke');
    expect(started.length).toBeLessThan(6);
  });

  it('refuses a limit that is not a positive integer', async () => {
    await expect(mapLimit([1], 0, async (x) => x)).rejects.toThrow(RangeError);
  });
});
