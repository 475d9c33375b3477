// Checks of the repo around the topology: every assigned service has its compose file and every
// folder under hosts/ is assigned, compose files parse, no secrets are committed, and each node's
// manifest matches the topology. Pure: the shell gathers the RepoSnapshot.
import type { Problem } from '../problem.js';
import { manifestPath, renderManifest } from './manifest.js';
import type { Inventory, NodeSpec } from './model.js';
import { TOPOLOGY_FILE } from './parse.js';
import { DEFAULTS } from './resolve.js';
import type { SecretHome } from './secret-scan.js';
import { hideSecrets, scanComposeEnvironment, scanText } from './secret-scan.js';
import type { Position } from './yaml-source.js';
import { NO_POSITION, YamlSource } from './yaml-source.js';

export const COMPOSE_FILE = 'docker-compose.yml';
/** Names Compose would also accept; the repo uses docker-compose.yml only. */
const OTHER_COMPOSE_NAMES = ['docker-compose.yaml', 'compose.yml', 'compose.yaml'];

/** What lives under hosts/, gathered by the shell layer (src/shell/inventory/load.ts). */
export interface RepoSnapshot {
  /** Repo-relative paths with "/" of every file under hosts/ (symlinks included, not followed). */
  readonly files: readonly string[];
  /** Repo-relative paths of every folder under hosts/, empty ones included, without a trailing "/". */
  readonly dirs: readonly string[];
  /**
   * Contents of the text files under hosts/ the checks read (compose files, node.manifest files and
   * other small text files), keyed by path. Files that look like .env files are never read.
   */
  readonly texts: Readonly<Record<string, string>>;
}

export interface RepoCheckOptions {
  /** Position of a topology field (ParseResult.locate); problems about the topology point there. */
  readonly locate?: (field: string) => Position;
  /** Check node.manifest files (default true; `homelab manifest` turns it off to regenerate them). */
  readonly manifests?: boolean;
}

export function composePath(node: string, service: string): string {
  return `hosts/${node}/${service}/${COMPOSE_FILE}`;
}

/** Committed on purpose with placeholder values (still scanned for keys like any text file). */
const ENV_EXAMPLE = /^\.env\.(example|sample|template|dist)$/;

/** `.env`, `.env.local`, `gitea.env`: files that hold secrets by convention. */
export function isEnvFile(path: string): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1);
  if (ENV_EXAMPLE.test(base)) return false;
  return base === '.env' || base.startsWith('.env.') || base.endsWith('.env');
}

function segments(path: string): string[] {
  return path.split('/');
}

function secretHome(path: string, inventory: Inventory | undefined): SecretHome {
  const [, node, service] = segments(path);
  const root = inventory?.nodes.find((n) => n.name === node)?.root ?? DEFAULTS.root;
  const isService = service !== undefined && segments(path).length > 3;
  const configDir = `${root}/config/${isService ? service : '<service>'}`;
  return { configDir, envFile: `${configDir}/.env` };
}

function whole(file: string, message: string): Problem {
  return { file, line: 0, col: 0, field: '', message };
}

/** Checks that need no topology: .env files, compose syntax and services:, committed secrets. */
export function checkRepoFiles(snapshot: RepoSnapshot, inventory?: Inventory): Problem[] {
  const out: Problem[] = [];
  for (const file of snapshot.files) {
    if (!file.startsWith('hosts/')) continue;
    const home = secretHome(file, inventory);
    if (isEnvFile(file)) {
      const parts = segments(file);
      const where = parts.length > 2 ? `node "${parts[1] ?? ''}"` : 'the node';
      out.push(
        whole(
          file,
          `secrets file committed to Git: move it to ${home.envFile} on ${where}, remove it from the repo ` +
            `(git rm --cached ${file}) and change the secrets it held`,
        ),
      );
      continue;
    }
    const text = snapshot.texts[file];
    if (text === undefined) continue;
    out.push(...scanText(file, text, home));
    const parts = segments(file);
    if (parts.length === 4 && parts[3] === COMPOSE_FILE)
      out.push(...checkComposeText(file, text, home));
    if (parts.length === 3 && [COMPOSE_FILE, ...OTHER_COMPOSE_NAMES].includes(parts[2] ?? ''))
      out.push(
        whole(
          file,
          `compose file at the node level: each service has its own folder, so move it to ` +
            `hosts/${parts[1] ?? ''}/<service>/${COMPOSE_FILE} and list <service> under nodes.${parts[1] ?? ''}.services`,
        ),
      );
  }
  return out.map(hideSecrets);
}

function checkComposeText(file: string, text: string, home: SecretHome): Problem[] {
  const src = new YamlSource(file, text);
  const syntax = src.syntaxProblems();
  if (syntax.length > 0) return syntax;
  const out = src.takeDuplicateKeys(
    (_path, key, first) =>
      `key "${key}" appears twice in the same map (first at line ${first}): keep one`,
  );
  const value = src.value();
  const services =
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>).services
      : undefined;
  if (
    typeof services !== 'object' ||
    services === null ||
    Array.isArray(services) ||
    Object.keys(services).length === 0
  ) {
    const hasKey = src.pairsAt([]).some((p) => p.key === 'services');
    const pos = hasKey ? src.position(['services']) : src.position([]);
    out.push(
      src.problem(
        pos,
        hasKey ? 'services' : '',
        hasKey
          ? 'expected a map of compose services (name: { image: ... })'
          : 'no "services:" map: a compose file defines its containers under services:',
      ),
    );
    return out;
  }
  out.push(...scanComposeEnvironment(src, home));
  return out;
}

function checkNodeFolders(
  inventory: Inventory,
  snapshot: RepoSnapshot,
  locate: (field: string) => Position,
): Problem[] {
  const out: Problem[] = [];
  const files = new Set(snapshot.files);
  const nodes = new Map(inventory.nodes.map((n) => [n.name, n]));

  inventory.nodes.forEach((node) => {
    node.services.forEach((s, i) => {
      if (files.has(composePath(node.name, s.name))) return;
      const field = `nodes.${node.name}.services[${i}]`;
      const at = locate(field);
      const other = OTHER_COMPOSE_NAMES.map((n) => `hosts/${node.name}/${s.name}/${n}`).find((p) =>
        files.has(p),
      );
      const fix = other
        ? `rename ${other} to ${COMPOSE_FILE}`
        : `create ${composePath(node.name, s.name)}`;
      out.push({
        file: TOPOLOGY_FILE,
        line: at.line,
        col: at.col,
        field,
        message: `service "${s.name}" on node "${node.name}" has no compose file: ${fix}`,
      });
    });
  });

  for (const dir of snapshot.dirs) {
    const parts = segments(dir);
    if (parts[0] !== 'hosts') continue;
    const node = nodes.get(parts[1] ?? '');
    if (parts.length === 2 && !node)
      out.push(
        whole(
          `${dir}/`,
          `folder belongs to no node: add node "${parts[1] ?? ''}" under nodes: in ${TOPOLOGY_FILE}, or delete the folder`,
        ),
      );
    if (parts.length === 3 && node && !node.services.some((s) => s.name === parts[2]))
      out.push(
        whole(
          `${dir}/`,
          `folder is not assigned to node "${node.name}": add "${parts[2] ?? ''}" to nodes.${node.name}.services in ` +
            `${TOPOLOGY_FILE}, or delete the folder`,
        ),
      );
  }
  return out;
}

function checkManifest(inventory: Inventory, node: NodeSpec, snapshot: RepoSnapshot): Problem[] {
  const file = manifestPath(node.name);
  const want = renderManifest(inventory, node);
  const have = snapshot.texts[file];
  if (have === undefined)
    return [
      whole(
        file,
        `missing: run \`homelab manifest\` to write it from ${TOPOLOGY_FILE}, then commit it`,
      ),
    ];
  if (have === want) return [];
  const a = have.split('\n');
  const b = want.split('\n');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const line = Math.min(i + 1, a.length);
  return [
    {
      file,
      line,
      col: 1,
      field: '',
      message: `out of date with ${TOPOLOGY_FILE} (line ${i + 1} differs): run \`homelab manifest\` and commit the result`,
    },
  ];
}

export function checkRepo(
  inventory: Inventory,
  snapshot: RepoSnapshot,
  options: RepoCheckOptions = {},
): Problem[] {
  const locate = options.locate ?? ((): Position => NO_POSITION);
  const out = [
    ...checkRepoFiles(snapshot, inventory),
    ...checkNodeFolders(inventory, snapshot, locate),
  ];
  if (options.manifests !== false)
    for (const node of inventory.nodes) out.push(...checkManifest(inventory, node, snapshot));
  return out.map(hideSecrets);
}
