// Packs this project and installs the tarball into an empty prefix, offline, as a user installs
// the tool: `npm pack`, then `npm install -g --prefix DIR --offline TARBALL`. dist/ is built the way
// the e2e tests build it (only when sources are newer), so packing never rewrites dist/ under tests
// running beside it; `npm pack --ignore-scripts` skips the `prepack` build for the same reason.
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureBuilt, ROOT } from '../e2e/build.js';

const run = promisify(execFile);

/** Installs the tool under `dir`; returns the prefix's bin folder (holding `homelab`). */
export async function installPackedTool(dir: string): Promise<string> {
  const pack = join(dir, 'pack');
  const prefix = join(dir, 'prefix');
  mkdirSync(pack, { recursive: true });
  mkdirSync(prefix, { recursive: true });
  ensureBuilt();
  await run('npm', ['pack', '--ignore-scripts', '--pack-destination', pack], { cwd: ROOT });
  const tarball = readdirSync(pack).find((f) => f.endsWith('.tgz')) ?? '';
  // An empty npm cache and --offline: the install must need nothing from a registry.
  await run(
    'npm',
    [
      'install',
      '-g',
      '--offline',
      '--no-audit',
      '--no-fund',
      '--prefix',
      prefix,
      join(pack, tarball),
    ],
    { cwd: dir, env: { ...process.env, npm_config_cache: join(dir, 'npm-cache') } },
  );
  return join(prefix, 'bin');
}
