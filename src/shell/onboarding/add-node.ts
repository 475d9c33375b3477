// `homelab node add`: adds a node to SATURN's repo. Computes every file first (the topology with the
// new entry, a starter compose file per new service, the node's manifest), checks the result with
// the inventory rules as if it were written, and writes nothing unless it is valid.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AddNodeRequest } from '../../core/onboarding/fields.js';
import {
  addNodeToTopology,
  nodeNames,
  STARTER_PORT,
  starterCompose,
} from '../../core/inventory/add-node.js';
import { manifestPath, renderManifest } from '../../core/inventory/manifest.js';
import type { Inventory, NodeSpec } from '../../core/inventory/model.js';
import { parseTopology, sortProblems, TOPOLOGY_FILE } from '../../core/inventory/parse.js';
import type { RepoSnapshot } from '../../core/inventory/repo-checks.js';
import { checkRepo, composePath } from '../../core/inventory/repo-checks.js';
import type { Problem } from '../../core/problem.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { loadInventory, readRepoSnapshot } from '../inventory/load.js';

export interface PlannedFile {
  /** Repo-relative path. */
  readonly path: string;
  readonly text: string;
  /** What the file is, for the report: `topology`, `starter`, `manifest`. */
  readonly kind: 'topology' | 'starter' | 'manifest';
  /** Starter files: the port its service listens on (127.0.0.1). */
  readonly port?: number;
}

export type AddNodePlan =
  | {
      readonly ok: true;
      readonly node: NodeSpec;
      readonly inventory: Inventory;
      /** In the order they are written (the topology last). */
      readonly files: readonly PlannedFile[];
      /** Services whose compose file already existed and is kept as it is. */
      readonly keptServices: readonly string[];
    }
  | {
      readonly ok: false;
      /** One sentence: why nothing was written. */
      readonly reason: string;
      /** The inventory problems behind the refusal, when there are any. */
      readonly problems: readonly Problem[];
    };

/** Adds the files of the plan to a snapshot of hosts/, as readRepoSnapshot would list them. */
function withFiles(snapshot: RepoSnapshot, files: readonly PlannedFile[]): RepoSnapshot {
  const paths = new Set(snapshot.files);
  const dirs = new Set(snapshot.dirs);
  const texts: Record<string, string> = { ...snapshot.texts };
  for (const f of files) {
    if (!f.path.startsWith('hosts/')) continue;
    paths.add(f.path);
    texts[f.path] = f.text;
    for (let d = dirname(f.path); d !== 'hosts' && d !== '.'; d = dirname(d)) dirs.add(d);
  }
  return { files: [...paths].sort(), dirs: [...dirs].sort(), texts };
}

/** The names of the nodes in the repo's topology as written (read even when it is invalid). */
export async function topologyNodeNames(repoDir: string): Promise<string[]> {
  return nodeNames(await readFile(join(repoDir, TOPOLOGY_FILE), 'utf8'));
}

/** Everything `node add` would write, checked by the inventory rules; nothing is written here. */
export async function planAddNode(repoDir: string, request: AddNodeRequest): Promise<AddNodePlan> {
  const before = await loadInventory(repoDir);
  const topology = await readFile(join(repoDir, TOPOLOGY_FILE), 'utf8').catch(() => undefined);
  if (topology === undefined)
    return {
      ok: false,
      reason: `${TOPOLOGY_FILE} not found in ${repoDir}`,
      problems: before.problems,
    };

  const added = addNodeToTopology(topology, request);
  if (!added.ok) return { ok: false, reason: added.reason, problems: [] };
  // Problems of the inventory as it is (a leftover hosts/<name>/ folder the new node adopts is fine:
  // only the result counts; but the message says when the problems were there before).
  const refuse = (problems: readonly Problem[]): AddNodePlan => ({
    ok: false,
    reason:
      before.problems.length > 0
        ? `the inventory already has ${before.problems.length} problem(s) (\`homelab validate\`); the result would still be invalid`
        : `adding "${request.name}" would leave the inventory invalid`,
    problems,
  });

  const parsed = parseTopology(added.text);
  if (!parsed.inventory) return refuse(parsed.problems);
  const inventory = parsed.inventory;
  const node = inventory.nodes.find((n) => n.name === request.name);
  if (!node)
    return {
      ok: false,
      reason: `node "${request.name}" did not make it into the topology`,
      problems: [],
    };

  const snapshot = await readRepoSnapshot(repoDir);
  const existing = new Set(snapshot.files);
  const port = request.starterPort ?? STARTER_PORT;
  const starters: PlannedFile[] = [];
  const keptServices: string[] = [];
  for (const s of node.services) {
    const path = composePath(node.name, s.name);
    if (existing.has(path)) keptServices.push(s.name);
    else {
      // One port per starter: they share the node's network (network_mode: host).
      const starterPort = port + starters.length;
      starters.push({
        path,
        text: starterCompose(node.name, s.name, starterPort),
        kind: 'starter',
        port: starterPort,
      });
    }
  }
  const files: PlannedFile[] = [
    ...starters,
    { path: manifestPath(node.name), text: renderManifest(inventory, node), kind: 'manifest' },
    { path: TOPOLOGY_FILE, text: added.text, kind: 'topology' },
  ];
  const problems = sortProblems(
    checkRepo(inventory, withFiles(snapshot, files), { locate: parsed.locate }),
  );
  if (problems.length > 0) return refuse(problems);
  return { ok: true, node, inventory, files, keptServices };
}

/** Writes the files of a valid plan (the topology last, so a failure leaves it untouched). */
export async function writePlan(repoDir: string, files: readonly PlannedFile[]): Promise<void> {
  for (const f of files) await writeFileAtomic(join(repoDir, f.path), f.text);
}
