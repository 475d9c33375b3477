// `homelab node remove` and `homelab node remove-service`: the repo side of taking things down.
// Like `node add`, every file is computed first (the topology without the node or service, edited
// byte for byte elsewhere; the node's manifest), the result is checked with the inventory rules,
// and nothing is written unless it is valid. The node's containers go down in its next deploy.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import {
  removeNodeFromTopology,
  removeServiceFromTopology,
} from '../../core/inventory/add-node.js';
import type { RemoveResult } from '../../core/inventory/add-node.js';
import { manifestPath, renderManifest } from '../../core/inventory/manifest.js';
import { parseTopology, sortProblems, TOPOLOGY_FILE } from '../../core/inventory/parse.js';
import type { RepoSnapshot } from '../../core/inventory/repo-checks.js';
import { checkRepo } from '../../core/inventory/repo-checks.js';
import type { Problem } from '../../core/problem.js';
import { readRepoSnapshot } from '../inventory/load.js';
import type { PlannedFile } from './add-node.js';
import { writePlan } from './add-node.js';

export type RemovePlan =
  | {
      readonly ok: true;
      /** Written in this order (the topology last). */
      readonly files: readonly PlannedFile[];
      /** Repo-relative folders deleted after the files are written. */
      readonly removed: readonly string[];
    }
  | { readonly ok: false; readonly reason: string; readonly problems: readonly Problem[] };

function without(
  snapshot: RepoSnapshot,
  dirs: readonly string[],
  files: readonly PlannedFile[],
): RepoSnapshot {
  const gone = (p: string): boolean => dirs.some((d) => p === d || p.startsWith(`${d}/`));
  const texts: Record<string, string> = {};
  for (const [k, v] of Object.entries(snapshot.texts)) if (!gone(k)) texts[k] = v;
  const paths = new Set(snapshot.files.filter((p) => !gone(p)));
  for (const f of files) {
    if (!f.path.startsWith('hosts/')) continue;
    paths.add(f.path);
    texts[f.path] = f.text;
  }
  return { files: [...paths].sort(), dirs: snapshot.dirs.filter((d) => !gone(d)), texts };
}

async function plan(
  repoDir: string,
  edit: (text: string) => RemoveResult,
  removed: readonly string[],
  manifestOf: string | undefined,
): Promise<RemovePlan> {
  const text = await readFile(join(repoDir, TOPOLOGY_FILE), 'utf8').catch(() => undefined);
  if (text === undefined)
    return { ok: false, reason: `${TOPOLOGY_FILE} not found in ${repoDir}`, problems: [] };
  const edited = edit(text);
  if (!edited.ok) return { ok: false, reason: edited.reason, problems: [] };
  const topology: PlannedFile = { path: TOPOLOGY_FILE, text: edited.text, kind: 'topology' };
  const parsed = parseTopology(edited.text);
  if (!parsed.inventory) {
    // The last node removed: an inventory without nodes is not valid yet, but it is what was asked.
    const onlyEmpty = parsed.problems.every((p) => p.field === 'nodes');
    return onlyEmpty
      ? { ok: true, files: [topology], removed }
      : {
          ok: false,
          reason: 'the result would leave the inventory invalid',
          problems: parsed.problems,
        };
  }
  const files: PlannedFile[] = [];
  const node = parsed.inventory.nodes.find((n) => n.name === manifestOf);
  if (node)
    files.push({
      path: manifestPath(node.name),
      text: renderManifest(parsed.inventory, node),
      kind: 'manifest',
    });
  files.push(topology);
  const snapshot = without(await readRepoSnapshot(repoDir), removed, files);
  const problems = sortProblems(checkRepo(parsed.inventory, snapshot, { locate: parsed.locate }));
  if (problems.length > 0)
    return { ok: false, reason: 'the result would leave the inventory invalid', problems };
  return { ok: true, files, removed };
}

export function planRemoveService(
  repoDir: string,
  node: string,
  service: string,
): Promise<RemovePlan> {
  return plan(
    repoDir,
    (t) => removeServiceFromTopology(t, node, service),
    [`hosts/${node}/${service}`],
    node,
  );
}

export function planRemoveNode(repoDir: string, node: string): Promise<RemovePlan> {
  return plan(repoDir, (t) => removeNodeFromTopology(t, node), [`hosts/${node}`], undefined);
}

/** Writes the plan's files, then deletes its folders. */
export async function applyRemoval(
  repoDir: string,
  p: Extract<RemovePlan, { ok: true }>,
): Promise<void> {
  await writePlan(repoDir, p.files);
  for (const d of p.removed) await rm(join(repoDir, d), { recursive: true, force: true });
}
