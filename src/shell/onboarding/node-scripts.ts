// Which node scripts each node runs, and refreshing the ones the homelab repo carries. A node says
// its version in its status record (`scripts_version`: scripts/VERSION beside the deploy.sh that
// answered); only a node whose scripts predate that field is read from SATURN's repo, at the commit
// it has checked out. A node on older scripts than this tool ships, or on newer ones than it
// understands, is named with what to do.
import type { NodeSummary } from '../../core/status/summary.js';
import { showFile, statusEntries } from '../git.js';
import { copyNodeScripts, NODE_SCRIPT_PATHS } from './init.js';
import {
  parseScriptsVersion,
  repoScriptsVersion,
  SCRIPTS_VERSION_FILE,
  shippedScriptsVersion,
} from './versions.js';

export type ScriptsVersion = number | 'unversioned';

/** The version at a commit of SATURN's repo: 'unversioned' before scripts/VERSION, undefined when unknown. */
export async function scriptsVersionAt(
  repoDir: string,
  commit: string,
): Promise<ScriptsVersion | undefined> {
  if (!/^[0-9a-f]{7,40}$/.test(commit)) return undefined;
  const text = await showFile(repoDir, commit, SCRIPTS_VERSION_FILE);
  if (text === undefined) {
    const known = await showFile(repoDir, commit, 'scripts/deploy/deploy.sh');
    return known === undefined ? undefined : 'unversioned';
  }
  return parseScriptsVersion(text);
}

/**
 * The node's scripts version: what its status record says (null there: before scripts/VERSION);
 * for a node too old to say, scripts/VERSION at its checked-out commit; undefined when unknown.
 */
export async function nodeScriptsVersion(
  repoDir: string,
  node: Pick<NodeSummary, 'scriptsVersion' | 'target' | 'deployed' | 'reachable'>,
): Promise<ScriptsVersion | undefined> {
  if (node.scriptsVersion !== undefined) return node.scriptsVersion ?? 'unversioned';
  if (!node.reachable) return undefined;
  const commit = node.target || node.deployed;
  return commit === '' ? undefined : scriptsVersionAt(repoDir, commit);
}

const words = (v: ScriptsVersion): string =>
  v === 'unversioned' ? 'from before scripts/VERSION' : `v${v}`;

/** What to do about a node on other scripts than this tool's ('' when they match or are unknown). */
export function scriptsNote(
  node: string,
  v: ScriptsVersion | undefined,
  shipped: number,
  carried: number | undefined,
): string {
  if (v === undefined || v === shipped) return '';
  if (v !== 'unversioned' && v > shipped)
    return `${node} runs node scripts v${v} (SATURN has v${shipped}), newer than this tool understands: upgrade homelab on SATURN`;
  const fix =
    carried !== undefined && carried >= shipped
      ? `deploy it (homelab run prepare --node ${node})`
      : '`homelab scripts update`, commit, push, then deploy it';
  return `${node} runs node scripts ${words(v)} (SATURN has v${shipped}): ${fix}`;
}

/** One line per node whose scripts differ from this tool's; none when all match or are unknown. */
export async function nodeScriptsNotes(
  repoDir: string,
  nodes: readonly NodeSummary[],
): Promise<string[]> {
  const shipped = shippedScriptsVersion();
  const carried = await repoScriptsVersion(repoDir);
  const notes = await Promise.all(
    nodes.map(async (n) =>
      scriptsNote(n.node, await nodeScriptsVersion(repoDir, n), shipped, carried),
    ),
  );
  return notes.filter((x) => x !== '');
}

/** One line per node for `homelab scripts status`: its version, or why it is not known. */
export async function nodeScriptsLines(
  repoDir: string,
  nodes: readonly NodeSummary[],
): Promise<string[]> {
  const shipped = shippedScriptsVersion();
  return Promise.all(
    nodes.map(async (n) => {
      if (!n.reachable) return `  ${n.node}: not reachable (${n.reason ?? 'unknown'})`;
      const v = await nodeScriptsVersion(repoDir, n);
      if (v === undefined) return `  ${n.node}: not deployed yet`;
      const from = n.scriptsVersion !== undefined ? '' : ', read from its checked-out commit';
      return `  ${n.node}: node scripts ${words(v)} (SATURN has v${shipped})${from}`;
    }),
  );
}

/** `homelab scripts update`: the tool's node scripts into the repo; the `git status --short` entries. */
export async function updateNodeScripts(repoDir: string): Promise<string[]> {
  await copyNodeScripts(repoDir);
  return statusEntries(repoDir, NODE_SCRIPT_PATHS);
}
