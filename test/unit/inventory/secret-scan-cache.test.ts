// The secret scan's cache (src/shell/inventory/token-scan.ts): secretlint's findings kept by the
// path and bytes of each text, in SATURN's state folder. A text read once is answered from the
// cache (a planted finding shows it is the cache that answered); a changed text, other rules or a
// broken cache file are scanned anew; the cache never holds the text itself.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scanTokens, type TokenScanInput } from '../../../src/shell/inventory/token-scan.js';

let state: string;
beforeEach(() => {
  state = mkdtempSync(join(tmpdir(), 'scan-cache-'));
});
afterEach(() => {
  rmSync(state, { recursive: true, force: true });
});

// A GitHub token shape (secretlint's github rule), made at run time so no scanner flags this file.
const TOKEN = `ghp_${'A1b2C3d4E5'.repeat(3)}abcdef`;
const input = (text: string, file = 'hosts/pluto/web/docker-compose.yml'): TokenScanInput => ({
  file,
  text,
  home: { envFile: '/opt/homelab/config/web/.env', configDir: '/opt/homelab/config/web' },
  kind: 'compose',
});
const cacheFile = (): string => join(state, 'secret-scan.json');
interface Cache {
  rules: string;
  entries: Record<string, Array<{ ruleId: string; line: number; col: number }>>;
}
const readCache = (): Cache => JSON.parse(readFileSync(cacheFile(), 'utf8')) as Cache;
const env = (): NodeJS.ProcessEnv => ({ HOMELAB_STATE_DIR: state });

describe('the secret scan cache', () => {
  it('keeps each text’s findings by content, answers from them, and rescans a changed text', async () => {
    const texts = [
      input(`services:\n  web:\n    environment:\n      X: ${TOKEN}\n`),
      input('a: 1\n', 'inventory/x.yaml'),
    ];
    const first = await scanTokens(texts, { env: env() });
    expect(first.map((p) => [p.file, p.line])).toEqual([['hosts/pluto/web/docker-compose.yml', 4]]);
    const cache = readCache();
    expect(Object.keys(cache.entries)).toHaveLength(2);
    expect(readFileSync(cacheFile(), 'utf8')).not.toContain(TOKEN);
    expect(readFileSync(cacheFile(), 'utf8')).not.toContain('environment');

    // Plant a finding in the clean text's entry: the next scan reports it, so the cache answered.
    const clean = Object.entries(cache.entries).find(([, v]) => v.length === 0)![0];
    cache.entries[clean] = [{ ruleId: '@secretlint/secretlint-rule-npm', line: 1, col: 1 }];
    writeFileSync(cacheFile(), JSON.stringify(cache));
    const second = await scanTokens(texts, { env: env() });
    expect(second.map((p) => [p.file, p.line]).sort()).toEqual([
      ['hosts/pluto/web/docker-compose.yml', 4],
      ['inventory/x.yaml', 1],
    ]);
    expect(second.find((p) => p.file === 'inventory/x.yaml')!.message).toContain('an npm token');

    // A changed text is scanned again (its new bytes have no entry).
    const third = await scanTokens([input('a: 2\n', 'inventory/x.yaml')], { env: env() });
    expect(third).toEqual([]);
    expect(Object.keys(readCache().entries)).toHaveLength(3);
  });

  it('ignores a cache of other rules and a broken cache file, and rewrites it', async () => {
    const texts = [input('a: 1\n', 'inventory/x.yaml')];
    await scanTokens(texts, { env: env() });
    const cache = readCache();
    const [key] = Object.keys(cache.entries);
    const planted = { [key!]: [{ ruleId: 'x', line: 1, col: 1 }] };
    writeFileSync(cacheFile(), JSON.stringify({ rules: 'other rules', entries: planted }));
    expect(await scanTokens(texts, { env: env() })).toEqual([]);
    expect(readCache().rules).toBe(cache.rules);
    for (const broken of [
      '{not json',
      JSON.stringify({ rules: cache.rules, entries: { [key!]: [{ line: 'x' }] } }),
    ]) {
      writeFileSync(cacheFile(), broken);
      expect(await scanTokens(texts, { env: env() })).toEqual([]);
    }
    expect(readCache().entries[key!]).toEqual([]);
  });

  it('scans without a cache when the state folder cannot be written', async () => {
    writeFileSync(join(state, 'file'), '');
    const found = await scanTokens([input(`X: ${TOKEN}\n`)], {
      env: { HOMELAB_STATE_DIR: join(state, 'file', 'below') },
    });
    expect(found.map((p) => p.line)).toEqual([1]);
  });
});
