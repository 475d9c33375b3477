// Reads inventory/topology.yaml and what lives under hosts/, and runs every inventory check.
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Problem } from '../../core/problem.js';
import type { Inventory } from '../../core/inventory/model.js';
import { parseTopology, sortProblems, TOPOLOGY_FILE } from '../../core/inventory/parse.js';
import type { RepoSnapshot } from '../../core/inventory/repo-checks.js';
import { checkRepo, checkRepoFiles, isEnvFile } from '../../core/inventory/repo-checks.js';

/** Larger files are listed but not read (compose files and manifests are far smaller). */
const MAX_TEXT_BYTES = 1024 * 1024;

export interface LoadOptions {
  /** Check node.manifest files (default true). `homelab manifest` turns it off to rewrite them. */
  readonly manifests?: boolean;
}

export interface LoadResult {
  /** Undefined whenever there is any problem: nothing may run on a node from an invalid inventory. */
  readonly inventory: Inventory | undefined;
  /** Sorted; empty when the inventory is valid. */
  readonly problems: Problem[];
}

function isMissing(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && (err.code === 'ENOENT' || err.code === 'ENOTDIR');
}

/** Every file and folder under hosts/, with the texts the checks read. */
export async function readRepoSnapshot(repoDir: string): Promise<RepoSnapshot> {
  const files: string[] = [];
  const dirs: string[] = [];
  const texts: Record<string, string> = {};
  const walk = async (rel: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(join(repoDir, rel), { withFileTypes: true });
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const path = `${rel}/${e.name}`;
      if (e.isDirectory()) {
        dirs.push(path);
        await walk(path);
        continue;
      }
      files.push(path);
      if (!e.isFile() || isEnvFile(path)) continue;
      const { size } = await lstat(join(repoDir, path));
      if (size > MAX_TEXT_BYTES) continue;
      const buf = await readFile(join(repoDir, path));
      if (!buf.includes(0)) texts[path] = buf.toString('utf8');
    }
  };
  await walk('hosts');
  return { files, dirs, texts };
}

export async function loadInventory(repoDir: string, options: LoadOptions = {}): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(join(repoDir, TOPOLOGY_FILE), 'utf8');
  } catch (err) {
    if (!isMissing(err)) throw err;
    const message = `not found in ${repoDir}: create it (inventory/templates/how_to_add_new_node.yaml shows a node entry)`;
    return { inventory: undefined, problems: [{ file: TOPOLOGY_FILE, line: 0, col: 0, field: '', message }] };
  }
  const parsed = parseTopology(text);
  const snapshot = await readRepoSnapshot(repoDir);
  const repoProblems = parsed.inventory
    ? checkRepo(parsed.inventory, snapshot, { locate: parsed.locate, manifests: options.manifests !== false })
    : checkRepoFiles(snapshot);
  const problems = sortProblems([...parsed.problems, ...repoProblems]);
  return { inventory: problems.length === 0 ? parsed.inventory : undefined, problems };
}
