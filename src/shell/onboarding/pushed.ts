// Before a bootstrap: the node clones git.remote, so SATURN's HEAD should be there. Forgetting
// `git push` after `homelab node add` is the likeliest mistake; this says so before the node does.
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

/** A warning when the remote's branch is not SATURN's HEAD; undefined when it is, or when it cannot be told. */
export async function unpushedWarning(
  repoDir: string,
  remote: string,
  branch: string,
): Promise<string | undefined> {
  const head = await git(repoDir, ['rev-parse', 'HEAD']);
  if (!head.ok) return undefined;
  const ls = await git(repoDir, ['ls-remote', '--', remote, `refs/heads/${branch}`]);
  if (!ls.ok) return undefined;
  const theirs = ls.out.split(/\s+/)[0] ?? '';
  if (theirs === '')
    return `branch ${branch} is not on ${remote} yet: push SATURN's repo first (git push), the node clones from there`;
  if (theirs === head.out) return undefined;
  const behind = await git(repoDir, ['merge-base', '--is-ancestor', theirs, 'HEAD']);
  return behind.ok
    ? `${remote} (${branch} at ${theirs.slice(0, 7)}) lacks SATURN's HEAD ${head.out.slice(0, 7)}: push first (git push), the node clones from there`
    : `${remote} (${branch} at ${theirs.slice(0, 7)}) differs from SATURN's HEAD ${head.out.slice(0, 7)}: the node gets the remote's version`;
}
