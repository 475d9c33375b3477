// `homelab manifest`'s file work: compare each node's hosts/<node>/node.manifest with what the
// topology renders, and (unless only checking) write the ones that differ, atomically.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Inventory } from '../../core/inventory/model.js';
import { manifestPath, renderManifest } from '../../core/inventory/manifest.js';
import { writeFileAtomic } from '../fs/atomic-write.js';

/** unchanged; created/updated (written); missing/stale (found with `check`, nothing written). */
export type ManifestState = 'unchanged' | 'created' | 'updated' | 'missing' | 'stale';

export interface ManifestResult {
  /** Repo-relative path, hosts/<node>/node.manifest. */
  readonly path: string;
  readonly state: ManifestState;
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** One result per node, in the inventory's order; writes only when `check` is false. */
export async function syncManifests(
  repoDir: string,
  inventory: Inventory,
  options: { readonly check: boolean },
): Promise<ManifestResult[]> {
  const out: ManifestResult[] = [];
  for (const node of inventory.nodes) {
    const path = manifestPath(node.name);
    const want = renderManifest(inventory, node);
    const have = await readIfExists(join(repoDir, path));
    if (have === want) out.push({ path, state: 'unchanged' });
    else if (options.check) out.push({ path, state: have === undefined ? 'missing' : 'stale' });
    else {
      await writeFileAtomic(join(repoDir, path), want);
      out.push({ path, state: have === undefined ? 'created' : 'updated' });
    }
  }
  return out;
}
