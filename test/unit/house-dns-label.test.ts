// One DNS-label rule, two implementations: SATURN's (src/core/inventory/names.ts, isDnsLabel) and
// the node's (scripts/deploy/lib/manifest.sh, valid_label, run here by real bash from the real
// library). One corpus of names goes through both; they must agree with each other and with the
// expected answer, under every locale bash may run in (a bracket range can follow the locale).
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dnsLabelFlaw, isDnsLabel, toDnsLabel } from '../../src/core/inventory/names.js';

const LIB = resolve(import.meta.dirname, '../../scripts/deploy/lib/manifest.sh');

const VALID = [
  'a',
  '0',
  'web',
  'node-01',
  'a-b',
  'a--b',
  '9lives',
  'x'.repeat(63),
  `a${'-'.repeat(61)}b`,
];

const INVALID = [
  '', // empty
  '-',
  '-a', // leading '-'
  'a-', // trailing '-'
  '-a-',
  'x'.repeat(64), // 64 characters
  `a${'b'.repeat(62)}-`,
  'Web', // uppercase
  'WEB',
  'weB',
  'wéb', // unicode letters, composed and combining
  'we\u0301b',
  'ünï',
  'ß',
  'İ',
  '\u212a', // KELVIN SIGN, lowercases to "k"
  'ｗｅｂ', // fullwidth
  '١٢٣', // Arabic-Indic digits
  'web🙂',
  'a b', // separators and shell metacharacters
  'a_b',
  'a.b',
  'a/b',
  'a;b',
  '$(id)',
  '`id`',
  "a'b",
  'a\tb',
  'web\n', // a newline at either end ($ must not match before it)
  '\nweb',
  'a\nb',
  ' web',
];

/** valid_label's answer for each name, from one bash that sources the real library. */
function bashAnswers(names: readonly string[], locale: string): boolean[] {
  const script = `set -Eeuo pipefail
source "$1"
while IFS= read -r -d '' name; do
  if valid_label "$name"; then printf '1'; else printf '0'; fi
done`;
  const out = execFileSync('bash', ['-c', script, 'bash', LIB], {
    input: names.map((n) => `${n}\0`).join(''),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: locale },
    encoding: 'utf8',
  });
  expect(out).toHaveLength(names.length);
  return [...out].map((c) => c === '1');
}

describe('the DNS-label rule, in TypeScript and in bash', () => {
  const corpus = [
    ...VALID.map((n) => [n, true] as const),
    ...INVALID.map((n) => [n, false] as const),
  ];
  const names = corpus.map(([n]) => n);
  const expected = corpus.map(([, ok]) => ok);

  it('TypeScript accepts exactly the valid names, and says why for each other one', () => {
    expect(names.map(isDnsLabel)).toEqual(expected);
    for (const n of INVALID) expect(dnsLabelFlaw(n)).toMatch(/^it (is|contains|starts)/);
  });

  for (const locale of ['C', 'C.UTF-8', 'POSIX']) {
    it(`bash's valid_label gives the same answers under LC_ALL=${locale}`, () => {
      const answers = bashAnswers(names, locale);
      const disagreements = names.filter((_, i) => answers[i] !== expected[i]);
      expect(disagreements).toEqual([]);
    });
  }

  it('a suggested fix (toDnsLabel) is a label for both', () => {
    const fixes = INVALID.map(toDnsLabel).filter((f) => f !== '');
    expect(fixes.length).toBeGreaterThan(10);
    expect(fixes.every(isDnsLabel)).toBe(true);
    expect(bashAnswers(fixes, 'C.UTF-8').every(Boolean)).toBe(true);
  });
});
