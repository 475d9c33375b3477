// The one rule list (scripts/deploy/lib/redact-rules.json), read by the node's perl and by SATURN's
// TypeScript: one corpus through both, the same output from both, and every family needed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileRules, redact, RULE_SPECS, toScreen } from '../../../src/core/recover/redact.js';
import { REPO_ROOT } from '../../support/node-fixture.js';

interface Sample {
  readonly family: string;
  readonly text: string;
  readonly secrets: readonly string[];
  readonly expect: string;
}
const corpus = JSON.parse(
  readFileSync(join(REPO_ROOT, 'test/integration/deploy/redact-rules-corpus.json'), 'utf8'),
) as { samples: Sample[]; unchanged: string[] };

const LIB = join(REPO_ROOT, 'scripts', 'deploy', 'lib');
const empty = mkdtempSync(join(tmpdir(), 'hl-rules-'));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

/** Every text through the node's redact (lib/redact.sh -> redact.pl), in one bash. */
function perlRedact(texts: readonly string[]): string[] {
  const out = execFileSync(
    'bash',
    [
      '-c',
      `set -Eeuo pipefail; source "${LIB}/redact.sh"; secrets_load "$1"; shift; for t in "$@"; do redact "$t"; printf '\\0'; done`,
      'test',
      empty,
      ...texts,
    ],
    { encoding: 'utf8' },
  );
  return out.split('\0').slice(0, texts.length);
}

describe('one rule list for the node and SATURN', () => {
  const texts = [...corpus.samples.map((s) => s.text), ...corpus.unchanged];
  const node = perlRedact(texts);

  it('has a sample for every rule family, and a family for every sample', () => {
    const inRules = new Set(RULE_SPECS.map((r) => r.family));
    const inCorpus = new Set(corpus.samples.map((s) => s.family));
    expect([...inCorpus].sort()).toEqual([...inRules].sort());
    expect(inRules.size).toBeGreaterThanOrEqual(10);
  });

  it.each(corpus.samples.map((s, i) => [s.family, i] as const))(
    '%s: the node and SATURN give the same redaction (sample %i)',
    (_family, i) => {
      const s = corpus.samples[i] as Sample;
      expect(redact(s.text)).toBe(s.expect);
      expect(node[i]).toBe(s.expect);
      for (const secret of s.secrets) expect(node[i]).not.toContain(secret);
    },
  );

  it('leaves ordinary text, references and Compose error prose alone, on both sides', () => {
    corpus.unchanged.forEach((t, j) => {
      expect(redact(t)).toBe(t);
      expect(node[corpus.samples.length + j]).toBe(t);
    });
  });

  it('needs every family: without it, a secret of its samples shows', () => {
    const families = [...new Set(RULE_SPECS.map((r) => r.family))];
    for (const family of families) {
      const without = compileRules(RULE_SPECS.filter((r) => r.family !== family));
      const leaked = corpus.samples
        .filter((s) => s.family === family)
        .some((s) => s.secrets.some((secret) => redact(s.text, without).includes(secret)));
      expect(leaked, `${family} is not needed by any sample`).toBe(true);
    }
  });

  it('toScreen is redact after stripping control sequences', () => {
    expect(toScreen('\x1b]52;c;eA==\x07POSTGRES_PASSWORD=hunter2-hunter2\x1b[2J')).toBe(
      'POSTGRES_PASSWORD=[REDACTED]',
    );
  });
});
