// Reads inventory/topology.yaml, what lives under hosts/ and inventory/, and what Git holds there,
// and runs every inventory check.
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Problem } from '../../core/problem.js';
import type { Inventory } from '../../core/inventory/model.js';
import { parseTopology, sortProblems, TOPOLOGY_FILE } from '../../core/inventory/parse.js';
import type { HeldFile, RepoSnapshot } from '../../core/inventory/repo-checks.js';
import {
  checkGitHeld,
  checkRepo,
  checkRepoFiles,
  isEnvFile,
  kindOf,
  secretHome,
} from '../../core/inventory/repo-checks.js';
import { onePerLine } from '../../core/inventory/secret-scan.js';
import { MAX_YAML_BYTES, tooLargeProblem } from '../../core/inventory/yaml-source.js';
import type { TokenScanInput } from './token-scan.js';
import { scanTokens } from './token-scan.js';

/** Larger files (or files with NUL bytes) are read as bytes and scanned for keys only. */
const MAX_TEXT_BYTES = MAX_YAML_BYTES;
/** Larger files are never read: validate reports them as too large to check. */
const MAX_SCAN_BYTES = 32 * 1024 * 1024;
/** The folders whose every file is listed and read. */
const SCANNED = ['hosts', 'inventory'] as const;

export interface LoadOptions {
  /** Check node.manifest files (default true). `homelab manifest` turns it off to rewrite them. */
  readonly manifests?: boolean;
  /**
   * Return as soon as every other check passed, with the secret scan of the texts (secretlint's
   * rules, the slow part) left to `tokenScan` (the TUI's first frame does not wait for it). The
   * inventory is not valid until that resolves to no problems: nothing may run on a node before.
   */
  readonly deferTokenScan?: boolean;
}

export interface LoadResult {
  /** Undefined whenever there is any problem: nothing may run on a node from an invalid inventory. */
  readonly inventory: Inventory | undefined;
  /** Sorted; empty when the inventory is valid. */
  readonly problems: Problem[];
  /** With deferTokenScan and no other problem: runs the secret scan (once), to its problems. */
  readonly tokenScan?: () => Promise<Problem[]>;
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
  readonly links: Array<readonly [string, string]>;
  readonly blobs: Array<readonly [string, string]>;
  readonly unread: Array<readonly [string, number]>;
}

const EMPTY: Entry = { files: [], dirs: [], texts: [], links: [], blobs: [], unread: [] };

function merge(parts: readonly Entry[]): Entry {
  return {
    files: parts.flatMap((p) => p.files),
    dirs: parts.flatMap((p) => p.dirs),
    texts: parts.flatMap((p) => p.texts),
    links: parts.flatMap((p) => p.links),
    blobs: parts.flatMap((p) => p.blobs),
    unread: parts.flatMap((p) => p.unread),
  };
}

async function readEntry(abs: string, path: string): Promise<Entry> {
  const { size } = await lstat(abs);
  if (size > MAX_SCAN_BYTES) return { ...EMPTY, files: [path], unread: [[path, size]] };
  const buf = await readFile(abs);
  if (buf.length > MAX_TEXT_BYTES || buf.includes(0))
    return { ...EMPTY, files: [path], blobs: [[path, buf.toString('latin1')]] };
  return { ...EMPTY, files: [path], texts: [[path, buf.toString('utf8')]] };
}

/**
 * Every file and folder under hosts/ and inventory/ with the texts the checks read (never a .env
 * file's content), symlinks with their targets (never followed), and the names of the files at the
 * top of the repo. Read concurrently, listed in name order.
 */
export async function readRepoSnapshot(repoDir: string): Promise<RepoSnapshot> {
  const walk = async (rel: string): Promise<Entry> => {
    let entries;
    try {
      entries = await readdir(join(repoDir, rel), { withFileTypes: true });
    } catch (err) {
      if (isMissing(err)) return EMPTY;
      throw err;
    }
    const parts = await Promise.all(
      entries
        .sort((a, b) => a.name.localeCompare(b.name))
        .map(async (e): Promise<Entry> => {
          const path = `${rel}/${e.name}`;
          if (e.isDirectory()) {
            const below = await walk(path);
            return { ...below, dirs: [path, ...below.dirs] };
          }
          if (e.isSymbolicLink())
            return {
              ...EMPTY,
              files: [path],
              links: [[path, await readlink(join(repoDir, path))]],
            };
          if (!e.isFile() || isEnvFile(path)) return { ...EMPTY, files: [path] };
          return readEntry(join(repoDir, path), path);
        }),
    );
    return merge(parts);
  };
  const top = async (): Promise<Entry> => {
    const entries = await readdir(repoDir, { withFileTypes: true }).catch(() => []);
    return {
      ...EMPTY,
      files: entries
        .filter((e) => !e.isDirectory())
        .map((e) => e.name)
        .sort(),
    };
  };
  const all = merge(await Promise.all([...SCANNED.map(walk), top()]));
  return {
    files: all.files,
    dirs: all.dirs,
    texts: Object.fromEntries(all.texts),
    links: Object.fromEntries(all.links),
    blobs: Object.fromEntries(all.blobs),
    unread: Object.fromEntries(all.unread),
  };
}

async function git(
  repoDir: string,
  args: readonly string[],
  input?: string,
): Promise<Buffer | undefined> {
  const r = await execa('git', ['-C', repoDir, ...args], {
    reject: false,
    encoding: 'buffer',
    stripFinalNewline: false,
    ...(input !== undefined ? { input } : {}),
  });
  return r.exitCode === 0 ? Buffer.from(r.stdout) : undefined;
}

function gitBlobId(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

function inScope(path: string): boolean {
  return SCANNED.some((d) => path.startsWith(`${d}/`)) || !path.includes('/');
}

/** The working tree's bytes of a path as the snapshot holds them, for comparing with Git's blob. */
function workingBytes(snapshot: RepoSnapshot, path: string): Buffer | undefined {
  const link = snapshot.links?.[path];
  if (link !== undefined) return Buffer.from(link);
  const text = snapshot.texts[path];
  if (text !== undefined) return Buffer.from(text, 'utf8');
  const blob = snapshot.blobs?.[path];
  return blob !== undefined ? Buffer.from(blob, 'latin1') : undefined;
}

/**
 * Files Git holds (HEAD and the index) under hosts/, inventory/ and at the top of the repo that the
 * working tree lacks or holds differently, with their committed content. Empty outside a Git repo.
 */
export async function readGitHeld(repoDir: string, snapshot: RepoSnapshot): Promise<HeldFile[]> {
  const [tree, index] = await Promise.all([
    // Paths relative to repoDir, limited to it: a homelab may live in a folder of a larger repo.
    git(repoDir, ['ls-tree', '-r', '-z', 'HEAD']),
    git(repoDir, ['ls-files', '-s', '-z']),
  ]);
  const wanted = new Map<string, { mode: string; sha: string; where: string }>();
  const add = (path: string, mode: string, sha: string, where: string): void => {
    if (!inScope(path) || mode === '160000') return;
    if (workingBytes(snapshot, path) !== undefined) {
      const bytes = workingBytes(snapshot, path);
      if (bytes && gitBlobId(bytes) === sha) return;
    } else if (snapshot.files.includes(path) && !isEnvFile(path)) return; // present, not read (unread)
    if (!wanted.has(`${path}\0${sha}`)) wanted.set(`${path}\0${sha}`, { mode, sha, where });
  };
  for (const rec of (tree?.toString('utf8') ?? '').split('\0')) {
    const m = /^(\d+) blob ([0-9a-f]+)\t(.+)$/s.exec(rec);
    if (m) add(m[3] ?? '', m[1] ?? '', m[2] ?? '', 'HEAD');
  }
  for (const rec of (index?.toString('utf8') ?? '').split('\0')) {
    const m = /^(\d+) ([0-9a-f]+) \d\t(.+)$/s.exec(rec);
    if (m) add(m[3] ?? '', m[1] ?? '', m[2] ?? '', 'the index');
  }
  if (wanted.size === 0) return [];

  const entries = [...wanted.entries()].map(([k, v]) => ({ path: k.split('\0')[0] ?? '', ...v }));
  const needed = [
    ...new Set(entries.filter((e) => !isEnvFile(e.path) || e.mode === '120000').map((e) => e.sha)),
  ];
  const sizes = new Map<string, number>();
  const check = await git(repoDir, ['cat-file', '--batch-check'], needed.join('\n') + '\n');
  for (const line of (check?.toString('utf8') ?? '').split('\n')) {
    const m = /^([0-9a-f]+) blob (\d+)$/.exec(line);
    if (m) sizes.set(m[1] ?? '', Number(m[2]));
  }
  const readable = needed.filter((sha) => (sizes.get(sha) ?? Infinity) <= MAX_SCAN_BYTES);
  const contents = new Map<string, Buffer>();
  if (readable.length > 0) {
    const out =
      (await git(repoDir, ['cat-file', '--batch'], readable.join('\n') + '\n')) ?? Buffer.alloc(0);
    let at = 0;
    while (at < out.length) {
      const nl = out.indexOf(10, at);
      if (nl < 0) break;
      const m = /^([0-9a-f]+) blob (\d+)$/.exec(out.subarray(at, nl).toString('utf8'));
      if (!m) break;
      const size = Number(m[2]);
      contents.set(m[1] ?? '', out.subarray(nl + 1, nl + 1 + size));
      at = nl + 1 + size + 1;
    }
  }
  return entries.map((e): HeldFile => {
    const bytes = contents.get(e.sha);
    if (isEnvFile(e.path) && e.mode !== '120000') return { path: e.path, where: e.where };
    if (bytes === undefined) return { path: e.path, where: e.where };
    if (e.mode === '120000') return { path: e.path, where: e.where, link: bytes.toString('utf8') };
    if (bytes.length > MAX_TEXT_BYTES || bytes.includes(0))
      return { path: e.path, where: e.where, blob: bytes.toString('latin1') };
    return { path: e.path, where: e.where, text: bytes.toString('utf8') };
  });
}

/** Root files Git ignores are not in Git and will not be committed: not reported. */
async function withoutIgnoredTopFiles(
  repoDir: string,
  snapshot: RepoSnapshot,
): Promise<RepoSnapshot> {
  const top = snapshot.files.filter((f) => !f.includes('/') && isEnvFile(f));
  if (top.length === 0) return snapshot;
  const r = await git(repoDir, ['check-ignore', '-z', '--stdin'], top.join('\0'));
  const ignored = new Set((r?.toString('utf8') ?? '').split('\0').filter(Boolean));
  return ignored.size === 0
    ? snapshot
    : { ...snapshot, files: snapshot.files.filter((f) => !ignored.has(f)) };
}

function tokenInputs(
  snapshot: RepoSnapshot,
  held: readonly HeldFile[],
  topology: string,
  inventory: Inventory | undefined,
): TokenScanInput[] {
  const out: TokenScanInput[] = [
    {
      file: TOPOLOGY_FILE,
      text: topology,
      home: secretHome(TOPOLOGY_FILE, undefined),
      kind: 'topology',
    },
  ];
  const add = (file: string, text: string, where?: string): void => {
    if (file === TOPOLOGY_FILE && where === undefined) return;
    const kind = kindOf(file);
    out.push({
      file,
      text,
      home: secretHome(file, inventory),
      kind,
      ...(where !== undefined ? { where } : {}),
    });
  };
  for (const [file, text] of Object.entries(snapshot.texts)) add(file, text);
  for (const h of held) if (h.text !== undefined) add(h.path, h.text, h.where);
  return out;
}

export async function loadInventory(
  repoDir: string,
  options: LoadOptions = {},
): Promise<LoadResult> {
  // The topology and the hosts/ tree are read at once.
  const snapshotting = readRepoSnapshot(repoDir).then((s) => withoutIgnoredTopFiles(repoDir, s));
  let text: string;
  try {
    const { size } = await lstat(join(repoDir, TOPOLOGY_FILE));
    if (size > MAX_YAML_BYTES) {
      snapshotting.catch(() => undefined);
      return { inventory: undefined, problems: [tooLargeProblem(TOPOLOGY_FILE, size)] };
    }
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
  const held = await readGitHeld(repoDir, snapshot);
  const repoProblems = parsed.inventory
    ? checkRepo(parsed.inventory, snapshot, {
        locate: parsed.locate,
        manifests: options.manifests !== false,
      })
    : checkRepoFiles(snapshot);
  // (the working tree's problems handed over: its files are not parsed and checked twice)
  const gitProblems = checkGitHeld(held, snapshot, parsed.inventory, repoProblems);
  // A line the homelab's rules already reported is not reported again by secretlint.
  const reportedLines = new Set(
    [...parsed.problems, ...repoProblems].map((p) => `${p.file}\0${p.line}`),
  );
  const scan = async (): Promise<Problem[]> => {
    const tokens = await scanTokens(tokenInputs(snapshot, held, text, parsed.inventory));
    return onePerLine(tokens.filter((p) => !reportedLines.has(`${p.file}\0${p.line}`)));
  };
  const others = [...parsed.problems, ...repoProblems, ...gitProblems];
  if (options.deferTokenScan && others.length === 0 && parsed.inventory) {
    let scanning: Promise<Problem[]> | undefined;
    return {
      inventory: parsed.inventory,
      problems: [],
      tokenScan: () => (scanning ??= scan().then(sortProblems)),
    };
  }
  const problems = sortProblems([...others, ...(await scan())]);
  return { inventory: problems.length === 0 ? parsed.inventory : undefined, problems };
}
