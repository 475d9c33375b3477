import { describe, expect, it } from 'vitest';
import { createLineSplitter } from '../../../src/shell/transport/line-splitter.js';

function split(chunks: ReadonlyArray<Buffer | string>): string[] {
  const lines: string[] = [];
  const s = createLineSplitter((l) => lines.push(l));
  for (const c of chunks) s.push(c);
  s.end();
  s.end();
  return lines;
}

describe('createLineSplitter', () => {
  it('emits complete lines and keeps a partial one until it completes', () => {
    const lines: string[] = [];
    const s = createLineSplitter((l) => lines.push(l));
    s.push('one\ntw');
    expect(lines).toEqual(['one']);
    s.push('o\nthr');
    expect(lines).toEqual(['one', 'two']);
    s.end();
    expect(lines).toEqual(['one', 'two', 'thr']);
  });

  it('keeps empty lines and does not invent a last one', () => {
    expect(split(['a\n\nb\n'])).toEqual(['a', '', 'b']);
    expect(split([''])).toEqual([]);
  });

  it('keeps a multi-byte character split across chunks whole', () => {
    const bytes = Buffer.from('é☃\n', 'utf8');
    expect(split([bytes.subarray(0, 1), bytes.subarray(1, 3), bytes.subarray(3)])).toEqual(['é☃']);
  });
});
