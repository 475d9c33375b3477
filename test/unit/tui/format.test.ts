import { describe, expect, test } from 'vitest';
import { compactLogLine, wrapText } from '../../../src/tui/views/format.js';

describe('wrapText', () => {
  test.each([
    ['fits on one row', 20, ['fits on one row']],
    [
      'breaks between words when a row is full',
      12,
      ['breaks', 'between', 'words when a', 'row is full'],
    ],
    [
      'a /very/long/path/that/cannot/break here',
      10,
      ['a', '/very/long', '/path/that', '/cannot/br', 'eak here'],
    ],
    ['', 10, ['']],
  ])('%j at %i columns', (text, width, want) => {
    const rows = wrapText(text, width);
    expect(rows).toEqual(want);
    for (const r of rows) expect(r.length).toBeLessThanOrEqual(width);
  });

  test('cuts at max rows with an ellipsis', () => {
    expect(wrapText('one two three four five six', 9, 2)).toEqual(['one two', 'three…']);
  });
});

test('log timestamps are compacted to the time of day', () => {
  expect(compactLogLine('2026-11-29T16:13:40Z resume: resuming')).toBe('16:13:40 resume: resuming');
  expect(compactLogLine('plain line')).toBe('plain line');
});
