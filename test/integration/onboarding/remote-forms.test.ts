// git.remote forms a node can fetch, on the real stack: a node reached over a real sshd (its own
// login user) bootstraps from a folder owned by another user (Git's "dubious ownership" refusal,
// the fix `node bootstrap` prints, then success), and from an ssh:// URL served by the same sshd.
// git:// is walked in test/integration/install-own-homelab.test.ts, a folder with the local
// transport in install-readme.test.ts. Also the push-first check every caller uses.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';
import { requireLab } from '../../support/lab.js';
import { startSshd, type SshdLab } from '../../support/sshd.js';
import { checkHeadOnRemote } from '../../../src/shell/onboarding/pushed.js';

const ok = requireLab('sshd');
let dir: string;
let lab: SshdLab;
const env = (): NodeJS.ProcessEnv => ({
  ...process.env,
  HOMELAB_SSH_CONTROL_DIR: join(dir, 'ssh'),
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@h',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@h',
});

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: env(), encoding: 'utf8' }).trim();
}

/** A homelab with one ssh node on the lab's sshd; returns its folder. */
async function homelab(name: string, remote: string): Promise<string> {
  const repo = join(dir, name);
  const root = lab.makeDir(name);
  const r = await runCli(
    [
      'init',
      repo,
      '--remote',
      remote,
      '--node',
      name,
      '--address',
      '127.0.0.1',
      '--transport',
      'ssh',
      '--user',
      lab.user,
      '--ssh-port',
      String(lab.port),
      '--identity-file',
      lab.keyFile,
      '--known-hosts',
      lab.knownHostsFile,
      '--root',
      root,
      '--service',
      'web',
    ],
    { cwd: dir, env: env() },
  );
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return repo;
}

beforeAll(async () => {
  if (!ok) return;
  dir = mkdtempSync(join(tmpdir(), 'homelab-remotes-'));
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'ssh'), { mode: 0o700 });
  // What the node's user sees: its own Git config file and ssh client settings for ssh:// remotes.
  const nodeSide = join(dir, 'node-side');
  mkdirSync(nodeSide, { mode: 0o700 });
  // One SetEnv only (sshd keeps the first SetEnv line): the ssh client settings go in that
  // Git config, as core.sshCommand.
  lab = await startSshd({ setEnv: { GIT_CONFIG_GLOBAL: join(nodeSide, 'gitconfig') } });
  writeFileSync(
    join(nodeSide, 'gitconfig'),
    `[core]\n\tsshCommand = ssh -i ${join(nodeSide, 'key')} -o UserKnownHostsFile=${join(nodeSide, 'known_hosts')} -o BatchMode=yes\n`,
  );
  copyFileSync(lab.keyFile, join(nodeSide, 'key'));
  copyFileSync(lab.knownHostsFile, join(nodeSide, 'known_hosts'));
  chmodSync(join(nodeSide, 'key'), 0o600);
  lab.grant(nodeSide);
}, 60_000);

afterAll(async () => {
  if (!ok) return;
  await lab.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!ok)('git.remote forms from a node over ssh', () => {
  it("a folder another user owns: Git's ownership refusal, the fix bootstrap prints, then success", async () => {
    const remote = join(dir, 'shared.git');
    git(dir, 'init', '-q', '--bare', '-b', 'main', remote);
    const repo = await homelab('pathnode', remote);
    // Not pushed yet: the push-first check says so.
    const before = await checkHeadOnRemote(repo, remote, 'main');
    expect(before.state).toBe('unpushed');
    git(repo, 'push', '-q', '-u', 'origin', 'main');
    expect((await checkHeadOnRemote(repo, remote, 'main')).state).toBe('pushed');
    git(repo, 'commit', '-q', '--allow-empty', '-m', 'later');
    const behind = await checkHeadOnRemote(repo, remote, 'main');
    expect(behind).toMatchObject({ state: 'unpushed' });
    expect(behind.state === 'unpushed' ? behind.message : '').toContain('push first');
    expect((await checkHeadOnRemote(repo, join(dir, 'missing.git'), 'main')).state).toBe('unknown');
    git(repo, 'push', '-q');

    const v = await runCli(['validate'], { cwd: repo, env: env() });
    expect(v.stderr).toContain('is a folder on SATURN, which only nodes on SATURN itself can read');

    const refused = await runCli(['node', 'bootstrap', 'pathnode'], { cwd: repo, env: env() });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('dubious ownership');
    const fix = `git config --global --add safe.directory ${remote}`;
    expect(refused.stderr).toContain(fix);
    // The fix, run on the node as its user (over the node's own sshd, as the user would).
    execFileSync('ssh', [
      '-p',
      String(lab.port),
      '-i',
      lab.keyFile,
      '-o',
      `UserKnownHostsFile=${lab.knownHostsFile}`,
      '-o',
      'BatchMode=yes',
      `${lab.user}@127.0.0.1`,
      '--',
      fix,
    ]);
    const done = await runCli(['node', 'bootstrap', 'pathnode'], { cwd: repo, env: env() });
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    expect(done.stdout).toContain('pathnode is bootstrapped');
  }, 120_000);

  it('ssh:// served by an sshd: the node clones with its own key', async () => {
    const served = join(dir, 'served');
    mkdirSync(served);
    const remoteDir = join(served, 'lab.git');
    git(served, 'init', '-q', '--bare', '-b', 'main', remoteDir);
    const url = `ssh://${lab.user}@127.0.0.1:${lab.port}${remoteDir}`;
    const repo = await homelab('sshnode', url);
    // SATURN pushes over the path, then the Git server's user owns the repo; the node fetches over
    // ssh:// as that user.
    git(repo, 'push', '-q', remoteDir, 'main');
    lab.grant(served);
    const b = await runCli(['node', 'bootstrap', 'sshnode'], { cwd: repo, env: env() });
    expect(b.stderr).not.toContain('failed');
    expect(b.code).toBe(0);
    expect(b.stdout).toContain(`git.remote: ${url} over ssh`);
    expect(b.stdout).toMatch(/repo +cloned ssh:\/\//);
  }, 120_000);
});
