// The fleet history: every node's records merged newest first, the table homelab history prints.
import { describe, expect, it } from 'vitest';
import {
  historyDuration,
  mergeHistory,
  renderHistoryTable,
  type HistoryEntry,
} from '../../../src/core/status/history.js';

const e = (node: string, when: string, stage: string, by = ''): HistoryEntry => ({
  node,
  when,
  run: `r-${node}-${stage}`,
  stage,
  result: 'ok',
  commit: 'c'.repeat(40),
  durationMs: 1500,
  by,
});

describe('mergeHistory', () => {
  it('orders every node newest first; same second: the later line of a node first', () => {
    const merged = mergeHistory([
      {
        node: 'a',
        entries: [
          e('a', '2026-12-01T10:00:00Z', 'prepare'),
          e('a', '2026-12-01T10:00:05Z', 'deploy'),
        ],
        error: '',
      },
      {
        node: 'b',
        entries: [
          e('b', '2026-12-01T10:00:03Z', 'prepare'),
          e('b', '2026-12-01T10:00:03Z', 'deploy'),
        ],
        error: '',
      },
    ]);
    expect(merged.map((x) => `${x.node}:${x.stage}`)).toEqual([
      'a:deploy',
      'b:deploy',
      'b:prepare',
      'a:prepare',
    ]);
  });

  it('the table names who started each run and the nodes that could not be read', () => {
    const text = renderHistoryTable([
      { node: 'a', entries: [e('a', '2026-12-01T10:00:00Z', 'verify', 'alice')], error: '' },
      { node: 'b', entries: [], error: 'no route to host' },
    ]);
    expect(text.split('\n')[0]).toMatch(
      /^WHEN\s+NODE\s+STAGE\s+RESULT\s+COMMIT\s+DURATION\s+BY\s+RUN$/,
    );
    expect(text).toMatch(
      /2026-12-01 10:00:00\s+a\s+verify\s+ok\s+ccccccc\s+1\.5 s\s+alice\s+r-a-verify/,
    );
    expect(text).toContain('b: no route to host');
    expect(historyDuration(null)).toBe('-');
    expect(historyDuration(850)).toBe('850 ms');
  });
});
