// shellQuote against the shells a node may log in with: every string comes back byte for byte.
// Real shells, no sshd needed: `SHELL -c 'printf %s <quoted>'` is what sshd runs on the node.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { shellJoin, shellQuote } from '../../../src/core/remote/quote.js';
import { NASTY_ARGS } from './helpers.js';

const SHELLS = ['/bin/sh', '/bin/bash', '/usr/bin/dash', '/bin/zsh', '/bin/ksh'].filter((s) =>
  existsSync(s),
);
// Characters that mean something to some shell, plus multi-byte text and control characters.
const ALPHABET = [
  ...` \t\n'"\\$\`;&|<>(){}[]*?!~#=%^,.-_:@+/aZ09`,
  'é',
  '☃',
  '日',
  '\u0001',
  '\u007f',
  '😀',
];

/** Deterministic pseudo-random strings (a failure names its seed). */
function randomStrings(count: number, seed: number): string[] {
  let state = seed;
  const next = (n: number): number => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % n;
  };
  return Array.from({ length: count }, () =>
    Array.from({ length: next(12) }, () => ALPHABET[next(ALPHABET.length)]).join(''),
  );
}

describe.each(SHELLS)('shellQuote read back by %s', (shell) => {
  it('returns every nasty argument unchanged', () => {
    for (const arg of NASTY_ARGS) {
      const out = execFileSync(shell, ['-c', `printf %s ${shellQuote(arg)}`]);
      expect(out.toString('utf8')).toBe(arg);
    }
  });

  it('returns 300 random strings unchanged, joined in one command line', () => {
    const args = randomStrings(300, 42);
    // One NUL-terminated record per argument, so empty strings and newlines are visible.
    const joined = execFileSync(shell, ['-c', `printf '%s\\0' ${shellJoin(args)}`]);
    expect(joined.toString('utf8').split('\0').slice(0, -1)).toEqual(args);
  });
});
