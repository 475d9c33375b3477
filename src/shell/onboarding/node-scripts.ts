// Which node scripts each node runs: deploy.sh runs from the node's checkout, so its version is
// scripts/VERSION at the commit the node has checked out (its target, else its deployed commit),
// read from SATURN's own repo. A node on older scripts than this tool ships, or on newer ones than
// it understands, is named with what to do.
import type { NodeSummary } from '../../core/status/summary.js';
import { showFile } from '../git.js';
import { parseScriptsVersion, SCRIPTS_VERSION_FILE, shippedScriptsVersion } from './versions.js';

/** The node's scripts version: a number, 'unversioned' (before scripts/VERSION), or undefined (unknown commit). */
export async function nodeScriptsVersion(
  repoDir: string,
  commit: string,
): Promise<number | 'unversioned' | undefined> {
  if (!/^[0-9a-f]{7,40}$/.test(commit)) return undefined;
  const text = await showFile(repoDir, commit, SCRIPTS_VERSION_FILE);
  if (text === undefined) {
    const known = await showFile(repoDir, commit, 'scripts/deploy/deploy.sh');
    return known === undefined ? undefined : 'unversioned';
  }
  return parseScriptsVersion(text);
}

/** One line per node whose scripts differ from this tool's; none when all match or are unknown. */
export async function nodeScriptsNotes(
  repoDir: string,
  nodes: readonly NodeSummary[],
): Promise<string[]> {
  const shipped = shippedScriptsVersion();
  const notes = await Promise.all(
    nodes.map(async (n) => {
      const commit = n.target || n.deployed;
      if (commit === '') return undefined;
      const v = await nodeScriptsVersion(repoDir, commit);
      if (v === undefined || v === shipped) return undefined;
      if (v === 'unversioned' || v < shipped)
        return `${n.node} runs node scripts ${v === 'unversioned' ? 'from before scripts/VERSION' : `v${v}`}, older than this homelab's v${shipped}: \`homelab scripts update\`, commit, push, then deploy it`;
      return `${n.node} runs node scripts v${v}, newer than this homelab (v${shipped}) understands: upgrade the homelab tool on SATURN`;
    }),
  );
  return notes.filter((x): x is string => x !== undefined);
}
