// Where this tool's own files are (demo/, scripts/, prompts/), wherever its code runs from:
// src/ under vitest, or the bundle in dist/. Found by walking up to our package.json.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'homelab'
    )
      return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find the homelab package above ${start}`);
  }
}

export const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
