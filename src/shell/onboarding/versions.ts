// Versions this installed tool carries: its own (package.json) and the node scripts' (scripts/VERSION,
// one whole number, raised whenever scripts/deploy/ or scripts/bootstrap/ change in a way a homelab
// repo should pick up with `homelab scripts update`). A homelab repo made by `homelab init` carries
// its own copy of scripts/VERSION beside the scripts it holds.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.js';

export const SCRIPTS_VERSION_FILE = 'scripts/VERSION';

export function toolVersion(): string {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
    version?: string;
  };
  return pkg.version ?? 'unknown';
}

/** The stamp's number, or undefined when the text is not one. */
export function parseScriptsVersion(text: string): number | undefined {
  const t = text.trim();
  return /^\d{1,6}$/.test(t) ? Number(t) : undefined;
}

/** The node scripts version this tool ships. */
export function shippedScriptsVersion(): number {
  const v = parseScriptsVersion(readFileSync(join(PACKAGE_ROOT, SCRIPTS_VERSION_FILE), 'utf8'));
  if (v === undefined)
    throw new Error(`${SCRIPTS_VERSION_FILE} in ${PACKAGE_ROOT} is not a number`);
  return v;
}

/** The node scripts version a homelab repo carries; undefined when it has no stamp (or a bad one). */
export async function repoScriptsVersion(repoDir: string): Promise<number | undefined> {
  const text = await readFile(join(repoDir, SCRIPTS_VERSION_FILE), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseScriptsVersion(text);
}
