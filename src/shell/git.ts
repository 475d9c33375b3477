// SATURN's Git repo: the source of truth. Thin wrappers over the git CLI; no parsing beyond lines.
import { execa } from 'execa';

async function git(
  repoDir: string,
  args: readonly string[],
): Promise<{ ok: boolean; stdout: string }> {
  const r = await execa('git', ['-C', repoDir, ...args], {
    reject: false,
    stripFinalNewline: true,
  });
  return { ok: r.exitCode === 0, stdout: r.stdout };
}

export interface HeadInfo {
  readonly head: string;
  readonly subject: string;
  /** '' when HEAD is detached. */
  readonly branch: string;
}

export async function headInfo(repoDir: string): Promise<HeadInfo> {
  const [log, branch] = await Promise.all([
    git(repoDir, ['log', '-1', '--format=%H%x00%s']),
    git(repoDir, ['symbolic-ref', '--short', '-q', 'HEAD']),
  ]);
  if (!log.ok)
    throw new Error(`${repoDir}: not a Git repository with at least one commit (git log failed)`);
  const [head = '', subject = ''] = log.stdout.split('\0');
  return { head, subject, branch: branch.ok ? branch.stdout : '' };
}

/** Uncommitted (or untracked) paths below the given folders: a stage refuses to run while any exist. */
export async function dirtyPaths(
  repoDir: string,
  folders: readonly string[] = ['inventory', 'hosts'],
): Promise<string[]> {
  return (await statusEntries(repoDir, folders)).map((entry) => entry.slice(3));
}

/** `git status --short` entries below the folders ("XY path", untracked files each), [] on error. */
export async function statusEntries(
  repoDir: string,
  folders: readonly string[],
): Promise<string[]> {
  const r = await git(repoDir, [
    'status',
    '--porcelain=v1',
    '-z',
    '--untracked-files=all',
    '--',
    ...folders,
  ]);
  if (!r.ok) return [];
  return r.stdout.split('\0').filter((entry) => entry.length > 3);
}

/** True when SATURN's repo knows the commit. */
export async function hasCommit(repoDir: string, commit: string): Promise<boolean> {
  if (!/^[0-9a-f]{7,64}$/.test(commit)) return false;
  return (await git(repoDir, ['cat-file', '-e', `${commit}^{commit}`])).ok;
}

/** What a node runs from the repo: its own folder (services and node.manifest) and the scripts. */
export function nodeRunsPaths(node: string): string[] {
  return [`hosts/${node}/`, 'scripts/'];
}

/**
 * Commits in HEAD that `commit` lacks and that change what `node` runs (nodeRunsPaths): a commit
 * that touches only another node's folder does not put this node behind. Null when the commit is
 * unknown here.
 */
export async function commitsBehind(
  repoDir: string,
  node: string,
  commit: string,
): Promise<number | null> {
  if (!(await hasCommit(repoDir, commit))) return null;
  const r = await git(repoDir, [
    'rev-list',
    '--count',
    `${commit}..HEAD`,
    '--',
    ...nodeRunsPaths(node),
  ]);
  return r.ok ? Number(r.stdout) : null;
}

/** Paths that differ between two commits below the given folder. */
export async function changedPaths(
  repoDir: string,
  from: string,
  to: string,
  folder: string,
): Promise<string[]> {
  const r = await git(repoDir, ['diff', '--name-only', '-z', from, to, '--', folder]);
  return r.ok ? r.stdout.split('\0').filter(Boolean) : [];
}

/** The unified diff between two commits below the given folder ('' when none or unknown). */
export async function diffText(
  repoDir: string,
  from: string,
  to: string,
  folder: string,
): Promise<string> {
  const r = await git(repoDir, ['diff', '--no-color', from, to, '--', folder]);
  return r.ok ? r.stdout : '';
}

/** A file's content at a commit, or undefined when it does not exist there. */
export async function showFile(
  repoDir: string,
  commit: string,
  path: string,
): Promise<string | undefined> {
  const r = await git(repoDir, ['show', `${commit}:${path}`]);
  return r.ok ? r.stdout : undefined;
}
