// Ink 6 keeps every text it has measured (build/measure-text.js, a Map) and every text it has
// wrapped or truncated (build/wrap-text.js, a plain object) in module-level caches that never
// shrink. A view that shows new text all the time (the service logs at 5,000 lines/s draw ~800 new
// rows a second) grows by about 1 MiB a second for as long as it runs: the heap snapshot of a
// flooded TUI held every row drawn in those two caches and nothing else. Ink 8 bounds both with a
// 4,096-entry LRU, but Ink 7 and 8 need Node 22 and we support Node 20, so the build bounds them the
// same way (least recently used out first, 4,096 entries each). The edits are exact: when Ink's
// source no longer matches, the build fails and names the file, instead of shipping the leak.
import { readFile } from 'node:fs/promises';

export const INK_TEXT_CACHE_MAX = 4096;

// Each entry: [what Ink 6.8 has, what the bundle gets]. Every `from` must occur exactly once.
const EDITS = {
  'measure-text.js': [
    [
      'const cache = new Map();',
      `const cache = new Map();\nconst CACHE_MAX = ${INK_TEXT_CACHE_MAX};`,
    ],
    [
      '    if (cachedDimensions) {\n        return cachedDimensions;\n    }',
      '    if (cachedDimensions) {\n        cache.delete(text);\n        cache.set(text, cachedDimensions);\n        return cachedDimensions;\n    }',
    ],
    [
      '    cache.set(text, dimensions);',
      '    if (cache.size >= CACHE_MAX) {\n        cache.delete(cache.keys().next().value);\n    }\n    cache.set(text, dimensions);',
    ],
  ],
  'wrap-text.js': [
    ['const cache = {};', `const cache = new Map();\nconst CACHE_MAX = ${INK_TEXT_CACHE_MAX};`],
    [
      '    const cachedText = cache[cacheKey];\n    if (cachedText) {\n        return cachedText;\n    }',
      '    const cachedText = cache.get(cacheKey);\n    if (cachedText !== undefined) {\n        cache.delete(cacheKey);\n        cache.set(cacheKey, cachedText);\n        return cachedText;\n    }',
    ],
    [
      '    cache[cacheKey] = wrappedText;',
      '    if (cache.size >= CACHE_MAX) {\n        cache.delete(cache.keys().next().value);\n    }\n    cache.set(cacheKey, wrappedText);',
    ],
  ],
};

export const INK_CACHE_FILES = /[\\/]ink[\\/]build[\\/](measure-text|wrap-text)\.js$/;

/** Ink's source of `file` (measure-text.js or wrap-text.js) with its cache bounded. */
export function boundInkCache(file, source) {
  const name = file.replace(/^.*[\\/]/, '');
  const edits = EDITS[name];
  if (!edits) throw new Error(`ink-bounded-caches: no edits for ${file}`);
  let out = source;
  for (const [from, to] of edits) {
    const count = out.split(from).length - 1;
    if (count !== 1)
      throw new Error(
        `ink-bounded-caches: ${file} has ${count} copies of ${JSON.stringify(from.split('\n')[0])}, want 1: Ink changed; check whether its text caches are bounded now and update scripts/dev/ink-bounded-caches.mjs`,
      );
    out = out.replace(from, () => to);
  }
  return out;
}

/** The esbuild plugin build.mjs uses. */
export const inkBoundedCaches = {
  name: 'ink-bounded-caches',
  setup(build) {
    build.onLoad({ filter: INK_CACHE_FILES }, async (args) => ({
      contents: boundInkCache(args.path, await readFile(args.path, 'utf8')),
      loader: 'js',
    }));
  },
};
