// Warnings `homelab validate` prints for a valid inventory: a git.remote some node cannot fetch,
// and node scripts older (or newer) than the ones this tool ships.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Inventory } from '../../core/inventory/model.js';
import { remoteWarnings } from '../../core/inventory/remote-form.js';
import { repoScriptsVersion, SCRIPTS_VERSION_FILE, shippedScriptsVersion } from './versions.js';

export async function repoWarnings(repoDir: string, inventory: Inventory): Promise<string[]> {
  const out = remoteWarnings(inventory);
  const carried = await repoScriptsVersion(repoDir);
  const shipped = shippedScriptsVersion();
  // A repo without node scripts at all is told by `node bootstrap`; one with unversioned scripts
  // predates the stamp.
  if (carried === undefined && existsSync(join(repoDir, 'scripts', 'deploy', 'deploy.sh')))
    out.push(
      `${SCRIPTS_VERSION_FILE}: missing: the repo does not say which node scripts it carries; \`homelab scripts update\` writes this tool's (v${shipped})`,
    );
  else if (carried !== undefined && carried < shipped)
    out.push(
      `${SCRIPTS_VERSION_FILE}: the repo carries node scripts v${carried}; this homelab ships v${shipped}: run \`homelab scripts update\`, review, commit and push`,
    );
  else if (carried !== undefined && carried > shipped)
    out.push(
      `${SCRIPTS_VERSION_FILE}: the repo carries node scripts v${carried}, newer than this homelab's v${shipped}: upgrade the tool`,
    );
  return out;
}
