// Builds the homelab CLI into dist/: one ESM bundle split at the lazy imports (each command, the
// TUI), so start-up reads a few files instead of resolving hundreds of modules (measured: Ink and
// React alone took ~300 ms to import unbundled, the bundle's entry ~3 ms). Type checking is
// `npm run typecheck` (tsc); this only transpiles and bundles.
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';
import { inkBoundedCaches } from './ink-bounded-caches.mjs';

await rm('dist', { recursive: true, force: true });
await build({
  entryPoints: { main: 'src/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // React's production build: the development one is several times slower and keeps debug data
  // for every element it renders.
  define: { 'process.env.NODE_ENV': '"production"' },
  // Ink imports the React devtools only when DEV is set; it is not a dependency.
  external: ['react-devtools-core'],
  // Some dependencies are CommonJS and call require(): give the ESM chunks one.
  banner: {
    js: "import { createRequire as __homelabRequire } from 'node:module'; const require = __homelabRequire(import.meta.url);",
  },
  // Ink 6's text caches never shrink: bound them (see ink-bounded-caches.mjs).
  plugins: [inkBoundedCaches],
  logLevel: 'warning',
});
