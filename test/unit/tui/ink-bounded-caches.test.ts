// The build bounds Ink 6's two text caches (scripts/dev/ink-bounded-caches.mjs): every text the TUI
// ever measured or wrapped stayed in memory, so a flooded log view grew without end. These tests
// bundle Ink's real modules with and without the build's plugin, feed them many distinct texts and
// weigh the heap after a full GC: Ink's own modules keep them all, the bundled ones keep at most
// the bound, and both give the same answers.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { build, type Plugin } from 'esbuild';
import { afterAll, describe, expect, test } from 'vitest';
import {
  INK_TEXT_CACHE_MAX,
  boundInkCache,
  inkBoundedCaches,
} from '../../../scripts/dev/ink-bounded-caches.mjs';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const inkBuild = join(import.meta.dirname, '..', '..', '..', 'node_modules', 'ink', 'build');
const dir = mkdtempSync(join(tmpdir(), 'hl-ink-caches-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Ink {
  measureText: (text: string) => { width: number; height: number };
  wrapText: (text: string, maxWidth: number, wrapType: string) => string;
}

let n = 0;
/** Ink's measure-text.js and wrap-text.js bundled as the build bundles them, fresh caches each time. */
async function loadInk(plugins: Plugin[]): Promise<Ink> {
  const entry = join(dir, `entry${n}.mjs`);
  writeFileSync(
    entry,
    `export { default as measureText } from ${JSON.stringify(join(inkBuild, 'measure-text.js'))};
export { default as wrapText } from ${JSON.stringify(join(inkBuild, 'wrap-text.js'))};\n`,
  );
  const out = join(dir, `ink${n++}.mjs`);
  await build({
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    format: 'esm',
    platform: 'node',
    plugins,
    logLevel: 'silent',
  });
  return (await import(pathToFileURL(out).href)) as Ink;
}

/** Heap in use (MiB) that `count` distinct rows leave behind in Ink's caches after a full GC. */
function retained(ink: Ink, count: number): number {
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < count; i++) {
    const row = `2026-12-01T22:00:00.${String(i).padStart(9, '0')}Z web-1 | flood line ${i} of a busy service, with some text to fill the row`;
    ink.measureText(row);
    ink.wrapText(row, 60, 'truncate');
  }
  gc();
  gc();
  return (process.memoryUsage().heapUsed - before) / 1048576;
}

describe("Ink's text caches in the bundle", () => {
  test('the edits apply to the installed Ink, and a changed Ink fails the build by name', () => {
    for (const f of ['measure-text.js', 'wrap-text.js']) {
      const src = readFileSync(join(inkBuild, f), 'utf8');
      expect(boundInkCache(f, src)).toContain(`CACHE_MAX = ${INK_TEXT_CACHE_MAX}`);
      expect(() => boundInkCache(f, src.replace('cache', 'kache'))).toThrow(
        new RegExp(`${f}.*Ink changed`),
      );
    }
  });

  test('25,000 distinct rows: Ink alone keeps them all, the bundle keeps at most the bound', async () => {
    const rows = 25_000;
    const own = retained(await loadInk([]), rows);
    const bounded = retained(await loadInk([inkBoundedCaches]), rows);
    // Ink's own caches: every row twice (the measured text, the wrap key and its result), ~13 MiB.
    expect(own).toBeGreaterThan(10);
    // Bounded: 4,096 rows per cache (about 2.5 MiB here), whatever the count.
    expect(bounded).toBeLessThan(4);
  });

  test('the bounded caches give the answers Ink gives, cached or not', async () => {
    const own = await loadInk([]);
    const bounded = await loadInk([inkBoundedCaches]);
    const texts = ['', 'a', 'web-1 | ünïcödé 日本語 line', 'two\nlines here', 'x'.repeat(300)];
    for (let round = 0; round < 2; round++)
      for (const t of texts) {
        expect(bounded.measureText(t)).toEqual(own.measureText(t));
        for (const w of ['wrap', 'truncate', 'truncate-middle', 'truncate-start'])
          expect(bounded.wrapText(t, 12, w)).toBe(own.wrapText(t, 12, w));
      }
    // Past the bound, the oldest text is measured again, with the same answer.
    for (let i = 0; i < INK_TEXT_CACHE_MAX + 10; i++) bounded.wrapText(`row ${i}`, 4, 'truncate');
    expect(bounded.wrapText('row 0', 4, 'truncate')).toBe(own.wrapText('row 0', 4, 'truncate'));
  });
});
