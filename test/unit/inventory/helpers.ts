// Builds small homelab repos in memory and runs every inventory check on them, as loadInventory does.
import { renderManifest } from '../../../src/core/inventory/manifest.js';
import { parseTopology, sortProblems } from '../../../src/core/inventory/parse.js';
import type { RepoSnapshot } from '../../../src/core/inventory/repo-checks.js';
import { checkRepo, checkRepoFiles, isEnvFile } from '../../../src/core/inventory/repo-checks.js';
import { formatProblem } from '../../../src/core/problem.js';

export type Files = Record<string, string>;

export function snapshotOf(files: Files, emptyDirs: readonly string[] = []): RepoSnapshot {
  const paths = Object.keys(files)
    .filter((p) => p.startsWith('hosts/'))
    .sort();
  const dirs = new Set<string>(emptyDirs);
  for (const p of paths) {
    const parts = p.split('/');
    for (let i = 2; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  const texts: Record<string, string> = {};
  for (const p of paths) if (!isEnvFile(p)) texts[p] = files[p] ?? '';
  return { files: paths, dirs: [...dirs].sort(), texts };
}

/** Every problem of a repo made of `topology` and `files`, formatted as the CLI prints them. */
export function validate(topology: string, files: Files = {}): string[] {
  const parsed = parseTopology(topology);
  const snap = snapshotOf(files);
  const repo = parsed.inventory
    ? checkRepo(parsed.inventory, snap, { locate: parsed.locate })
    : checkRepoFiles(snap);
  return sortProblems([...parsed.problems, ...repo]).map(formatProblem);
}

export function compose(service: string, extra = ''): string {
  return `services:\n  ${service}:\n    image: busybox:1.36\n    restart: unless-stopped\n${extra}`;
}

/** The files a valid repo for `topology` needs: a compose file per service and every manifest. */
export function filesFor(topology: string): Files {
  const { inventory, problems } = parseTopology(topology);
  if (!inventory)
    throw new Error(`fixture topology is invalid:\n${problems.map(formatProblem).join('\n')}`);
  const files: Files = {};
  for (const node of inventory.nodes) {
    files[`hosts/${node.name}/node.manifest`] = renderManifest(inventory, node);
    for (const s of node.services)
      files[`hosts/${node.name}/${s.name}/docker-compose.yml`] = compose(s.name);
  }
  return files;
}

/** The small valid topology most cases change one thing in (line numbers matter to the tests). */
export const BASE = `homelab: lab
git: { remote: "ssh://git@saturn/srv/git/homelab.git" }
nodes:
  saturn:
    address: saturn
    transport: local
    services: [gitea]
  mercury:
    address: mercury
    wave: 1
    services:
      - name: caddy
        secrets: [CADDY_TOKEN]
`;
