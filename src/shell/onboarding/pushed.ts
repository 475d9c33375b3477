// "Push first": the nodes fetch git.remote, so the commit SATURN asks them to run must be there.
// One check for every caller: `homelab node bootstrap` (a warning), `homelab run` and the TUI
// (before a stage that fetches: prepare, and the pipeline). Forgetting `git push` after a commit is
// the likeliest mistake; this says so before the node does.
import { execa } from 'execa';

async function git(
  repoDir: string,
  args: readonly string[],
  timeoutMs = 10_000,
): Promise<{ ok: boolean; out: string }> {
  const r = await execa('git', ['-C', repoDir, ...args], {
    reject: false,
    timeout: timeoutMs,
    stdin: 'ignore',
    // Never a password prompt: a remote that needs one cannot be checked from here.
    env: { GIT_TERMINAL_PROMPT: '0', GIT_SSH_COMMAND: 'ssh -o BatchMode=yes -o ConnectTimeout=5' },
  });
  return { ok: r.exitCode === 0, out: String(r.stdout).trim() };
}

export type RemoteHeadCheck =
  /** The remote's branch holds the commit (it is the branch's tip or behind it). */
  | { readonly state: 'pushed'; readonly remoteSha: string }
  /** The remote lacks the commit: push first. `message` says so, with the fix. */
  | { readonly state: 'unpushed'; readonly remoteSha: string; readonly message: string }
  /** The remote could not be asked (unreachable, needs credentials SATURN lacks): not known. */
  | { readonly state: 'unknown'; readonly message: string };

/**
 * Is `commit` (default: SATURN's HEAD) on git.remote's branch? The function `homelab run` and the
 * TUI call before asking a node to fetch.
 */
export async function checkHeadOnRemote(
  repoDir: string,
  remote: string,
  branch: string,
  commit?: string,
): Promise<RemoteHeadCheck> {
  const head = commit ?? (await git(repoDir, ['rev-parse', 'HEAD'])).out;
  if (!/^[0-9a-f]{40}$/.test(head))
    return { state: 'unknown', message: `${repoDir} has no commit yet` };
  const short = head.slice(0, 7);
  const ls = await git(repoDir, ['ls-remote', '--', remote, `refs/heads/${branch}`]);
  if (!ls.ok)
    return {
      state: 'unknown',
      message: `cannot ask ${remote} from SATURN (git ls-remote failed), so whether ${short} was pushed is not known`,
    };
  const theirs = ls.out.split(/\s+/)[0] ?? '';
  if (theirs === '')
    return {
      state: 'unpushed',
      remoteSha: '',
      message: `branch ${branch} is not on ${remote} yet: push first (git push -u origin ${branch}); the node fetches from there`,
    };
  if (theirs === head) return { state: 'pushed', remoteSha: theirs };
  // The remote is ahead and holds the commit: fine. Known here only when SATURN has its tip.
  const contains = await git(repoDir, ['merge-base', '--is-ancestor', head, theirs]);
  if (contains.ok) return { state: 'pushed', remoteSha: theirs };
  const behind = await git(repoDir, ['merge-base', '--is-ancestor', theirs, head]);
  return {
    state: 'unpushed',
    remoteSha: theirs,
    message: behind.ok
      ? `${remote} (${branch} at ${theirs.slice(0, 7)}) lacks SATURN's HEAD ${short}: push first (git push), the node fetches from there`
      : `${remote} (${branch} at ${theirs.slice(0, 7)}) does not hold ${short}: push it (git push), the node fetches from there`,
  };
}

/** A warning when the remote's branch is not SATURN's HEAD; undefined when it is, or when it cannot be told. */
export async function unpushedWarning(
  repoDir: string,
  remote: string,
  branch: string,
): Promise<string | undefined> {
  const r = await checkHeadOnRemote(repoDir, remote, branch);
  return r.state === 'unpushed' ? r.message : undefined;
}
