// `homelab init`: a new homelab repo from this tool's templates: the commented topology, the
// onboarding guide, hosts/, the node scripts this version ships (with their version stamp), the
// recover prompt, a .gitignore that keeps secrets and overrides out, a README, then `git init` and
// a first commit. `homelab scripts update` refreshes the node scripts through copyNodeScripts.
import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { PACKAGE_ROOT } from '../package-root.js';
import { SCRIPTS_VERSION_FILE, shippedScriptsVersion, toolVersion } from './versions.js';

/** The node scripts a homelab repo carries (folders and the stamp), repo-relative. */
export const NODE_SCRIPT_PATHS = ['scripts/deploy', 'scripts/bootstrap', SCRIPTS_VERSION_FILE];

const TEMPLATES = join(PACKAGE_ROOT, 'templates', 'homelab');

export interface InitOptions {
  readonly dir: string;
  /** The homelab's name (a DNS label); default: from the folder name. */
  readonly name?: string;
  readonly remote?: string;
  readonly branch?: string;
  /** The realistic example homelab of this project instead of an empty one. */
  readonly example?: boolean;
  /** Write into a folder that is not empty. */
  readonly force?: boolean;
}

export type InitResult =
  | {
      readonly ok: true;
      readonly dir: string;
      readonly name: string;
      readonly remote: string;
      readonly written: readonly string[];
    }
  | { readonly ok: false; readonly reason: string };

/** A DNS label from a folder name: "My Homelab" → "my-homelab". */
export function nameFromFolder(dir: string): string {
  const label = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return label === '' ? 'homelab' : label;
}

function fill(text: string, values: Record<string, string>): string {
  return text.replace(/\{\{([A-Z_]+)\}\}/g, (m, k: string) => values[k] ?? m);
}

/** Replaces the repo's node scripts with the ones this tool ships; returns the paths written. */
export async function copyNodeScripts(repoDir: string): Promise<string[]> {
  for (const rel of NODE_SCRIPT_PATHS) {
    const dest = join(repoDir, rel);
    await rm(dest, { recursive: true, force: true });
    await mkdir(join(dest, '..'), { recursive: true });
    await cp(join(PACKAGE_ROOT, rel), dest, { recursive: true });
  }
  return [...NODE_SCRIPT_PATHS];
}

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  const st = await stat(dir).catch(() => undefined);
  if (!st) return true;
  if (!st.isDirectory()) return false;
  return (await readdir(dir)).length === 0;
}

async function git(dir: string, args: readonly string[]): Promise<{ ok: boolean; out: string }> {
  const r = await execa('git', ['-C', dir, ...args], { reject: false, stdin: 'ignore', all: true });
  return { ok: r.exitCode === 0, out: String(r.all ?? '').trim() };
}

/** Writes the homelab; on success the folder is a Git repo with one commit holding it all. */
export async function initHomelab(opts: InitOptions): Promise<InitResult> {
  const dir = opts.dir;
  if (!opts.force && !(await isEmptyOrMissing(dir)))
    return {
      ok: false,
      reason: `${dir} is not empty: give a new or empty folder, or --force to write the homelab's files into it (files of the same name are replaced)`,
    };
  const name = opts.name ?? nameFromFolder(dir);
  const branch = opts.branch ?? 'main';
  const remote = opts.remote ?? `ssh://homelab@saturn/srv/git/${name}.git`;
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  const put = async (rel: string, text: string): Promise<void> => {
    await mkdir(join(dir, rel, '..'), { recursive: true });
    await writeFile(join(dir, rel), text);
    written.push(rel);
  };
  const values = {
    NAME: name,
    REMOTE: remote,
    BRANCH: branch,
    SCRIPTS_VERSION: String(shippedScriptsVersion()),
    TOOL_VERSION: toolVersion(),
  };

  if (opts.example) {
    await cp(join(PACKAGE_ROOT, 'inventory'), join(dir, 'inventory'), { recursive: true });
    await cp(join(PACKAGE_ROOT, 'hosts'), join(dir, 'hosts'), { recursive: true });
    written.push('inventory', 'hosts');
  } else {
    await put(
      'inventory/topology.yaml',
      fill(await readFile(join(TEMPLATES, 'topology.yaml'), 'utf8'), values),
    );
    await put(
      'inventory/templates/how_to_add_new_node.yaml',
      await readFile(
        join(PACKAGE_ROOT, 'inventory', 'templates', 'how_to_add_new_node.yaml'),
        'utf8',
      ),
    );
    // Git keeps no empty folders: hosts/ holds a note until the first node's files arrive.
    await put(
      'hosts/README.md',
      `# hosts/\n\nOne folder per node: hosts/<node>/<service>/docker-compose.yml and hosts/<node>/node.manifest.\n\`homelab node add\` writes them.\n`,
    );
  }
  written.push(...(await copyNodeScripts(dir)));
  await put(
    'prompts/recover-node.md',
    await readFile(join(PACKAGE_ROOT, 'prompts', 'recover-node.md'), 'utf8'),
  );
  await put('.gitignore', await readFile(join(TEMPLATES, 'gitignore'), 'utf8'));
  await put('README.md', fill(await readFile(join(TEMPLATES, 'README.md'), 'utf8'), values));
  return { ok: true, dir, name, remote, written };
}

/** `git init` (unless it is a repo already), origin, then a commit of the given paths. */
export async function commitHomelab(
  dir: string,
  opts: {
    readonly branch: string;
    readonly origin?: string;
    readonly message: string;
    readonly paths: readonly string[];
  },
): Promise<{ ok: true; commit: string } | { ok: false; reason: string }> {
  const inside = await git(dir, ['rev-parse', '--is-inside-work-tree']);
  if (!inside.ok || inside.out !== 'true') {
    const init = await git(dir, ['init', '--quiet', '--initial-branch', opts.branch]);
    if (!init.ok) return { ok: false, reason: `git init failed: ${init.out}` };
  }
  if (opts.origin !== undefined) {
    const has = await git(dir, ['remote', 'get-url', 'origin']);
    if (!has.ok) await git(dir, ['remote', 'add', 'origin', opts.origin]);
  }
  const add = await git(dir, ['add', '--', ...opts.paths]);
  if (!add.ok) return { ok: false, reason: `git add failed: ${add.out}` };
  // A first commit needs an author: the user's Git identity, else a stand-in that says what made it.
  const ident = (await git(dir, ['config', 'user.email'])).ok
    ? []
    : ['-c', 'user.name=homelab init', '-c', 'user.email=homelab@localhost'];
  const commit = await git(dir, [...ident, 'commit', '--quiet', '-m', opts.message]);
  if (!commit.ok) return { ok: false, reason: `git commit failed: ${commit.out}` };
  const head = await git(dir, ['rev-parse', '--short', 'HEAD']);
  return { ok: true, commit: head.out };
}
