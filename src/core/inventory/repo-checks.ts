// Checks of the repo around the topology: every assigned service has its compose file and every
// folder under hosts/ is assigned, compose files parse, no secrets are committed, and each node's
// manifest matches the topology. Pure: the shell gathers the RepoSnapshot.
import type { Problem } from '../problem.js';
import { manifestPath, renderManifest } from './manifest.js';
import type { Inventory, NodeSpec } from './model.js';
import { TOPOLOGY_FILE } from './parse.js';
import { DEFAULTS } from './resolve.js';
import type { SecretHome, TextKind } from './secret-scan.js';
import { hideSecrets, onePerLine, scanText, scanYamlDocument } from './secret-scan.js';
import { text as quoted } from './schema.js';
import type { Position } from './yaml-source.js';
import { isMap, isScalar } from 'yaml';
import { scalarText } from './scalar-text.js';
import { MAX_YAML_BYTES, NO_POSITION, tooLargeProblem, YamlSource } from './yaml-source.js';

export const COMPOSE_FILE = 'docker-compose.yml';
/** Names Compose would also accept; the repo uses docker-compose.yml only. */
const OTHER_COMPOSE_NAMES = ['docker-compose.yaml', 'compose.yml', 'compose.yaml'];

/** Host-local overrides: they live on the node, never in Git. */
const OVERRIDE_NAMES = [
  'docker-compose.override.yml',
  'docker-compose.override.yaml',
  'compose.override.yml',
  'compose.override.yaml',
];

/** What lives under hosts/, gathered by the shell layer (src/shell/inventory/load.ts). */
export interface RepoSnapshot {
  /**
   * Repo-relative paths with "/" of every file under hosts/ and inventory/ (symlinks included, not
   * followed), and of the files at the top of the repo.
   */
  readonly files: readonly string[];
  /** Repo-relative paths of every folder under hosts/, empty ones included, without a trailing "/". */
  readonly dirs: readonly string[];
  /**
   * Contents of the text files under hosts/ the checks read (compose files, node.manifest files and
   * other small text files), keyed by path. Files that look like .env files are never read.
   */
  readonly texts: Readonly<Record<string, string>>;
  /** Symlinks under hosts/ and inventory/ and their targets as written (never followed). */
  readonly links?: Readonly<Record<string, string>>;
  /**
   * Files too large to read as text or holding NUL bytes, as latin1 text (byte for byte), up to the
   * scan limit: scanned for private keys and token shapes only.
   */
  readonly blobs?: Readonly<Record<string, string>>;
  /** Files over the scan limit, never read, with their size in bytes. */
  readonly unread?: Readonly<Record<string, number>>;
}

/** A file Git holds (HEAD or the index) that is missing from the working tree or differs there. */
export interface HeldFile {
  readonly path: string;
  /** 'HEAD' or 'the index'. */
  readonly where: string;
  readonly text?: string;
  readonly blob?: string;
  readonly link?: string;
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
const ENV_EXAMPLE = /(^|\.)env[._-](example|sample|template|dist|tpl)$/;
/** `.env`, `.envrc`, `.env.local`, `gitea.env`, `gitea.env.bak`, `.env~`. */
const ENV_NAME = /^(?:\.env(?:rc)?|.+\.env)(?:[.~_-][A-Za-z0-9._~-]*)?$/;

/** Files that hold secrets by convention. */
export function isEnvFile(path: string): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return ENV_NAME.test(base) && !ENV_EXAMPLE.test(base);
}

function isExampleFile(path: string): boolean {
  return ENV_EXAMPLE.test(path.slice(path.lastIndexOf('/') + 1));
}

/** Where validate looks for committed secrets: hosts/, inventory/ and the top of the repo. */
function inScope(path: string): boolean {
  return path.startsWith('hosts/') || path.startsWith('inventory/') || !path.includes('/');
}

function segments(path: string): string[] {
  return path.split('/');
}

export function secretHome(path: string, inventory: Inventory | undefined): SecretHome {
  if (!path.startsWith('hosts/'))
    return { configDir: '<root>/config/<service>', envFile: '<root>/config/<service>/.env' };
  const [, node, service] = segments(path);
  const root = inventory?.nodes.find((n) => n.name === node)?.root ?? DEFAULTS.root;
  const isService = service !== undefined && segments(path).length > 3;
  const configDir = `${root}/config/${isService ? service : '<service>'}`;
  return { configDir, envFile: `${configDir}/.env` };
}

function whole(file: string, message: string): Problem {
  return { file, line: 0, col: 0, field: '', message };
}

function envFileProblem(file: string, home: SecretHome, held?: string): Problem {
  const parts = segments(file);
  const where = parts[0] === 'hosts' && parts.length > 2 ? `node "${parts[1] ?? ''}"` : 'the node';
  if (held !== undefined)
    return whole(
      file,
      `secrets file committed to Git (${held}), though gone from the working tree: remove it from Git ` +
        `(git rm --cached ${file}, then commit), keep it at ${home.envFile} on ${where}, and change the ` +
        'secrets it held: they stay in Git history',
    );
  return whole(
    file,
    `secrets file committed to Git: move it to ${home.envFile} on ${where}, remove it from the repo ` +
      `(git rm --cached ${file}) and change the secrets it held`,
  );
}

/** A symlink under hosts/ that leaves its service folder: the node would read whatever it points at. */
function linkProblem(file: string, target: string): Problem | undefined {
  const parts = segments(file);
  if (parts[0] !== 'hosts') return undefined;
  const why =
    'the node would read whatever that path holds on the node (a symlinked compose file once had ' +
    'Compose quote /etc/shadow), so commit the file itself in the service folder instead';
  if (parts.length < 4)
    return whole(
      file,
      `symlink to ${quoted(target)}: node and service folders must be real folders; ${why}`,
    );
  const serviceDir = parts.slice(0, 3);
  const resolved: string[] = target.startsWith('/') ? [''] : parts.slice(0, -1);
  for (const seg of target.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') resolved.pop();
    else resolved.push(seg);
  }
  const inside =
    !target.startsWith('/') &&
    resolved.length > 3 &&
    serviceDir.every((seg, i) => resolved[i] === seg);
  if (inside) return undefined;
  return whole(
    file,
    `symlink to ${quoted(target)} leaves its service folder ${serviceDir.join('/')}/: ${why}`,
  );
}

/** How a text file is scanned for secrets. */
export function kindOf(file: string): TextKind {
  const base = file.slice(file.lastIndexOf('/') + 1);
  if (isExampleFile(file)) return 'example';
  if (/^(docker-)?compose[\w.-]*\.ya?ml$/.test(base) && file.startsWith('hosts/')) return 'compose';
  if (/\.ya?ml$/.test(base)) return 'yaml';
  return 'other';
}

/** Committed secrets in one text: the line rules and, for YAML that parses, the document walk. */
function scanSecrets(file: string, text: string, home: SecretHome): Problem[] {
  const kind = kindOf(file);
  if (kind === 'compose' || kind === 'yaml') {
    if (text.length <= MAX_YAML_BYTES) {
      const src = new YamlSource(file, text);
      if (src.doc.errors.length === 0)
        return [...scanText(file, text, home, kind), ...scanYamlDocument(src, home, kind)];
    }
    return scanText(file, text, home, 'other');
  }
  return scanText(file, text, home, kind);
}

/** Everything about one file that needs no topology. `files` is the set of paths beside it. */
function checkFile(
  file: string,
  snapshot: RepoSnapshot,
  inventory: Inventory | undefined,
): { problems: Problem[]; secrets: Problem[] } {
  const problems: Problem[] = [];
  const secrets: Problem[] = [];
  const home = secretHome(file, inventory);
  const parts = segments(file);
  const base = parts[parts.length - 1] ?? '';
  const link = snapshot.links?.[file];
  if (link !== undefined) {
    const p = linkProblem(file, link);
    if (p) problems.push(p);
    return { problems, secrets };
  }
  if (isEnvFile(file)) {
    problems.push(envFileProblem(file, home));
    return { problems, secrets };
  }
  if (!file.startsWith('hosts/') && !file.startsWith('inventory/')) return { problems, secrets };
  if (file === TOPOLOGY_FILE) return { problems, secrets }; // parseTopology scans it
  if (file.startsWith('hosts/') && OVERRIDE_NAMES.includes(base))
    problems.push(
      whole(
        file,
        `host-local override committed to Git: it belongs on the node at ${home.configDir}/docker-compose.override.yml, ` +
          `where deploy.sh adds it when it exists; move it there, remove it from the repo (git rm --cached ${file}) ` +
          'and set override: required on the service in inventory/topology.yaml if it needs one',
      ),
    );
  const isCompose = file.startsWith('hosts/') && parts.length === 4 && base === COMPOSE_FILE;
  const unread = snapshot.unread?.[file];
  const blob = snapshot.blobs?.[file];
  if (unread !== undefined) {
    problems.push(
      whole(
        file,
        `${unread} bytes is too large to be checked for secrets: keep large files (media, models, ` +
          `backups) out of the repo, on the node under ${home.configDir}/`,
      ),
    );
    return { problems, secrets };
  }
  if (blob !== undefined) {
    secrets.push(...scanText(file, blob, home, 'binary'));
    if (isCompose)
      problems.push(
        blob.length > MAX_YAML_BYTES
          ? tooLargeProblem(file, blob.length)
          : whole(file, 'holds NUL bytes: a compose file is text; write it again as plain YAML'),
      );
    return { problems, secrets };
  }
  const text = snapshot.texts[file];
  if (text === undefined) return { problems, secrets };
  secrets.push(...scanSecrets(file, text, home));
  if (isCompose) problems.push(...checkComposeText(file, text, home));
  if (
    file.startsWith('hosts/') &&
    parts.length === 3 &&
    [COMPOSE_FILE, ...OTHER_COMPOSE_NAMES].includes(base)
  )
    problems.push(
      whole(
        file,
        `compose file at the node level: each service has its own folder, so move it to ` +
          `hosts/${parts[1] ?? ''}/<service>/${COMPOSE_FILE} and list <service> under nodes.${parts[1] ?? ''}.services`,
      ),
    );
  return { problems, secrets };
}

/** Checks that need no topology: .env files, symlinks, compose syntax and services:, committed secrets. */
export function checkRepoFiles(snapshot: RepoSnapshot, inventory?: Inventory): Problem[] {
  const out: Problem[] = [];
  const secrets: Problem[] = [];
  for (const file of snapshot.files) {
    if (!inScope(file)) continue;
    const r = checkFile(file, snapshot, inventory);
    out.push(...r.problems);
    secrets.push(...r.secrets);
  }
  return [...out, ...onePerLine(secrets)].map(hideSecrets);
}

/**
 * What Git holds that the working tree does not show: a .env deleted from the working tree but
 * still in HEAD, an older version of a file with a password in it. Problems already reported for
 * the working tree are not repeated.
 */
export function checkGitHeld(
  held: readonly HeldFile[],
  snapshot: RepoSnapshot,
  inventory?: Inventory,
  /** What the working tree's checks already reported (checkRepo's); default: checkRepoFiles anew. */
  reportedProblems?: readonly Problem[],
): Problem[] {
  const present = new Set(snapshot.files);
  const reported = new Set(
    (reportedProblems ?? checkRepoFiles(snapshot, inventory)).map(
      (p) => `${p.file}:${p.line}:${p.col}:${p.message}`,
    ),
  );
  const out: Problem[] = [];
  for (const h of held) {
    if (!inScope(h.path)) continue;
    if (isEnvFile(h.path) && h.link === undefined) {
      if (!present.has(h.path))
        out.push(envFileProblem(h.path, secretHome(h.path, inventory), h.where));
      continue;
    }
    const one: RepoSnapshot = {
      files: [h.path],
      dirs: [],
      texts: h.text !== undefined ? { [h.path]: h.text } : {},
      ...(h.link !== undefined ? { links: { [h.path]: h.link } } : {}),
      ...(h.blob !== undefined ? { blobs: { [h.path]: h.blob } } : {}),
    };
    const r = checkFile(h.path, one, inventory);
    // Only what is about secrets and links: the working tree's compose file is the one checked.
    const found = [
      ...onePerLine(r.secrets),
      ...r.problems.filter((p) => /symlink|committed/.test(p.message)),
    ];
    for (const p of found.map(hideSecrets)) {
      if (reported.has(`${p.file}:${p.line}:${p.col}:${p.message}`)) continue;
      out.push({ ...p, message: `as committed in Git (${h.where}): ${p.message}` });
    }
  }
  return out;
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
  for (const { key, value: entry } of src.pairsAt(['secrets'])) {
    if (!isMap(entry)) continue;
    const file = src.pairsAt(['secrets', key]).find((p) => p.key === 'file');
    const path = file && isScalar(file.value) ? scalarText(file.value.value) : undefined;
    if (path === undefined || path.startsWith('/') || path.startsWith('$')) continue;
    out.push(
      src.problem(
        src.position(['secrets', key, 'file']),
        `secrets.${key}.file`,
        `compose secret "${key}" is read from ${quoted(path)} in the repo checkout, so the secret would be ` +
          `committed: put the file on the node at ${home.configDir}/${key} and write file: ${home.configDir}/${key}`,
      ),
    );
  }
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
