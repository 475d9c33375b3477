// What the Control asks SATURN's repo while it plans and starts stages, asked once: a walk plans
// and starts every node of a wave at the same moment, and each node used to ask the same
// questions (HEAD and the uncommitted paths, a commit's subject, what changed since a commit, and
// `git ls-remote` for "push first") with a git process of its own. Every git process is a fork
// of SATURN's process, and on a busy machine each costs its event loop tens of milliseconds.
//
// - HEAD and the dirty paths: callers at the same time share one answer; a later call asks again.
// - A commit's subject and the paths changed between two commits never change: kept (one
//   `git diff` of hosts/ per pair of commits, whatever the node).
// - Whether a commit is on git.remote: callers at the same time share one `git ls-remote`, and a
//   settled answer is reused for REMOTE_REUSE_MS, except "not pushed" (the operator pushes, then
//   asks again: that must ask the remote again).
import { execa } from 'execa';
import type { RepoInfo } from '../../core/node/types.js';
import { changedPaths, dirtyPaths, headInfo } from '../git.js';
import { checkHeadOnRemote, type RemoteHeadCheck } from '../onboarding/pushed.js';
import { commitSubject } from '../recover/rollback-info.js';

/** A settled "pushed" or "cannot ask" answer is reused this long (a walk's nodes plan together). */
export const REMOTE_REUSE_MS = 30_000;
/** Immutable answers kept per Control (commit subjects, changed paths): enough for any fleet. */
const MAX_KEPT = 2000;
/** Only answers about full commit ids are kept (a branch name or HEAD moves). */
const FULL_SHA = /^[0-9a-f]{40}$/;

export class RepoFacts {
  private info: Promise<RepoInfo> | undefined;
  private readonly subjects = new Map<string, Promise<string>>();
  private readonly changes = new Map<string, Promise<string[]>>();
  private readonly remote = new Map<
    string,
    { readonly check: Promise<RemoteHeadCheck>; settledAt?: number; reusable?: boolean }
  >();

  constructor(private readonly repoDir: string) {}

  /** HEAD, its branch and subject, and the uncommitted paths under inventory/ and hosts/. */
  repoInfo(): Promise<RepoInfo> {
    if (this.info) return this.info;
    const asking = Promise.all([headInfo(this.repoDir), dirtyPaths(this.repoDir)]).then(
      ([head, dirty]): RepoInfo => ({
        branch: head.branch,
        head: head.head,
        headSubject: head.subject,
        dirty,
      }),
    );
    this.info = asking;
    const forget = (): void => {
      if (this.info === asking) this.info = undefined;
    };
    asking.then(forget, forget);
    return asking;
  }

  /** The subject of a commit ('' when SATURN does not have it). */
  subject(sha: string): Promise<string> {
    return kept(
      this.subjects,
      sha,
      () => commitSubject(this.repoDir, sha),
      (s) => s !== '',
    );
  }

  /** Paths below `folder` that differ between two commits (one `git diff` per pair of commits). */
  async changedPaths(from: string, to: string, folder: string): Promise<string[]> {
    if (!folder.startsWith('hosts/') || !FULL_SHA.test(from) || !FULL_SHA.test(to))
      return changedPaths(this.repoDir, from, to, folder);
    const all = await kept(this.changes, `${from}..${to}`, () => hostsDiff(this.repoDir, from, to));
    return all.filter((p) => p.startsWith(folder));
  }

  /** Is `commit` on the remote's branch? One `git ls-remote` for every node asking at once. */
  onRemote(remote: string, branch: string, commit: string): Promise<RemoteHeadCheck> {
    const key = `${remote}\0${branch}\0${commit}`;
    const known = this.remote.get(key);
    if (
      known &&
      (known.settledAt === undefined ||
        (known.reusable && Date.now() - known.settledAt < REMOTE_REUSE_MS))
    )
      return known.check;
    const check = checkHeadOnRemote(this.repoDir, remote, branch, commit);
    const entry: { check: Promise<RemoteHeadCheck>; settledAt?: number; reusable?: boolean } = {
      check,
    };
    this.remote.set(key, entry);
    check.then(
      (r) => {
        entry.settledAt = Date.now();
        entry.reusable = r.state !== 'unpushed';
      },
      () => {
        if (this.remote.get(key) === entry) this.remote.delete(key);
      },
    );
    return check;
  }
}

/**
 * Every path below hosts/ that differs between two commits. No rename detection: a service moved
 * from one node's folder to another's changes both (`--name-only` would name only the new path).
 */
async function hostsDiff(repoDir: string, from: string, to: string): Promise<string[]> {
  const r = await execa(
    'git',
    ['-C', repoDir, 'diff', '--name-only', '--no-renames', '-z', from, to, '--', 'hosts/'],
    { reject: false },
  );
  if (r.exitCode !== 0) throw new Error(`git diff ${from} ${to} failed`);
  return r.stdout.split('\0').filter(Boolean);
}

/** The answer for `key`, asked once and kept when `keep` says so; a failed ask is not kept. */
function kept<T>(
  map: Map<string, Promise<T>>,
  key: string,
  ask: () => Promise<T>,
  keep: (value: T) => boolean = () => true,
): Promise<T> {
  const known = map.get(key);
  if (known) return known;
  if (map.size >= MAX_KEPT) map.clear();
  const asking = ask();
  map.set(key, asking);
  const forget = (): void => {
    if (map.get(key) === asking) map.delete(key);
  };
  asking.then((value) => {
    if (!keep(value)) forget();
  }, forget);
  return asking;
}
