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
  return (
    typeof err === 'object' &&
    err !== null &&
    'code' in err &&
    (err.code === 'ENOENT' || err.code === 'ENOTDIR')
  );
}

interface Entry {
  readonly files: string[];
  readonly dirs: string[];
  readonly texts: Array<readonly [string, string]>;
}

async function readText(abs: string): Promise<string | undefined> {
  const { size } = await lstat(abs);
  if (size > MAX_TEXT_BYTES) return undefined;
  const buf = await readFile(abs);
  return buf.includes(0) ? undefined : buf.toString('utf8');
}

/** Every file and folder under hosts/, with the texts the checks read. Read concurrently, listed in name order. */
export async function readRepoSnapshot(repoDir: string): Promise<RepoSnapshot> {
  const walk = async (rel: string): Promise<Entry> => {
    let entries;
    try {
      entries = await readdir(join(repoDir, rel), { withFileTypes: true });
    } catch (err) {
      if (isMissing(err)) return { files: [], dirs: [], texts: [] };
      throw err;
    }
    const parts = await Promise.all(
      entries
        .sort((a, b) => a.name.localeCompare(b.name))
        .map(async (e): Promise<Entry> => {
          const path = `${rel}/${e.name}`;
          if (e.isDirectory()) {
            const below = await walk(path);
            return { files: below.files, dirs: [path, ...below.dirs], texts: below.texts };
          }
          if (!e.isFile() || isEnvFile(path)) return { files: [path], dirs: [], texts: [] };
          const text = await readText(join(repoDir, path));
          return { files: [path], dirs: [], texts: text === undefined ? [] : [[path, text]] };
        }),
    );
    return {
      files: parts.flatMap((p) => p.files),
      dirs: parts.flatMap((p) => p.dirs),
      texts: parts.flatMap((p) => p.texts),
    };
  };
  const all = await walk('hosts');
  return { files: all.files, dirs: all.dirs, texts: Object.fromEntries(all.texts) };
}

export async function loadInventory(
  repoDir: string,
  options: LoadOptions = {},
): Promise<LoadResult> {
  // The topology and the hosts/ tree are read at once.
  const snapshotting = readRepoSnapshot(repoDir);
  let text: string;
  try {
    text = await readFile(join(repoDir, TOPOLOGY_FILE), 'utf8');
  } catch (err) {
    snapshotting.catch(() => undefined);
    if (!isMissing(err)) throw err;
    const message = `not found in ${repoDir}: create it (inventory/templates/how_to_add_new_node.yaml shows a node entry)`;
    return {
      inventory: undefined,
      problems: [{ file: TOPOLOGY_FILE, line: 0, col: 0, field: '', message }],
    };
  }
  const parsed = parseTopology(text);
  const snapshot = await snapshotting;
  const repoProblems = parsed.inventory
    ? checkRepo(parsed.inventory, snapshot, {
        locate: parsed.locate,
        manifests: options.manifests !== false,
      })
    : checkRepoFiles(snapshot);
  const problems = sortProblems([...parsed.problems, ...repoProblems]);
  return { inventory: problems.length === 0 ? parsed.inventory : undefined, problems };
}
