// git.remote over https://, on the real stack: a real HTTPS Git server on loopback (git
// http-backend behind node:https, a self-signed certificate made now, basic auth with a read
// token: test/support/https-git.ts) and a node reached over a real sshd as its own user. The node
// trusts the certificate through its Git config (http.sslCAInfo) and has the token in a Git
// credential helper (a `git credential-store` file, mode 600), never in the URL. Walked: validate
// refuses the token in the URL and accepts the plain URL; bootstrap clones; prepare fetches a
// commit pushed later; with a wrong token bootstrap and prepare fail, saying so, and no token is in
// any output. SATURN's push-first check asks the same server with its own Git config.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliOutput } from '../../support/cli.js';
import { startHttpsGit, type HttpsGit } from '../../support/https-git.js';
import { requireLab } from '../../support/lab.js';
import { startSshd, type SshdLab } from '../../support/sshd.js';

const ok = requireLab('sshd');
const USER = 'reader';
const TOKEN = `hl-read-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
const WRONG = `hl-wrong-${Math.random().toString(36).slice(2)}`;
const NODE = 'httpsnode';
let dir: string;
let lab: SshdLab;
let srv: HttpsGit;
let nodeHome: string;
let repo: string;
let bare: string;
const saved: Record<string, string | undefined> = {};

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

/** The node user's credential-store file: `https://USER:TOKEN@127.0.0.1:PORT`, mode 600. */
function nodeToken(token: string): void {
  const file = join(nodeHome, '.git-credentials');
  writeFileSync(file, `https://${USER}:${token}@127.0.0.1:${srv.port}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  lab.grant(file);
}

function noToken(r: CliOutput): void {
  for (const t of [TOKEN, WRONG]) {
    expect(r.stdout).not.toContain(t);
    expect(r.stderr).not.toContain(t);
  }
}

/** A new commit on SATURN, pushed to the HTTPS server's repo (its path on the server). */
function commitAndPush(message: string): string {
  git(repo, 'commit', '-q', '--allow-empty', '-m', message);
  git(repo, 'push', '-q', bare, 'main');
  return git(repo, 'rev-parse', 'HEAD');
}

beforeAll(async () => {
  if (!ok) return;
  dir = mkdtempSync(join(tmpdir(), 'homelab-https-remote-'));
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'ssh'), { mode: 0o700 });
  srv = await startHttpsGit({ user: USER, token: TOKEN });
  bare = join(srv.root, 'lab.git');
  git(dir, 'init', '-q', '--bare', '-b', 'main', bare);

  // The node user's home for Git (its own, per test run): the CA in http.sslCAInfo, the token in
  // a credential-store file. One SetEnv only: the Git config file is named by GIT_CONFIG_GLOBAL.
  nodeHome = join(dir, 'node-home');
  mkdirSync(nodeHome, { mode: 0o700 });
  copyFileSync(srv.caFile, join(nodeHome, 'ca.pem'));
  writeFileSync(
    join(nodeHome, 'gitconfig'),
    `[http]\n\tsslCAInfo = ${join(nodeHome, 'ca.pem')}\n` +
      `[credential]\n\thelper = store --file=${join(nodeHome, '.git-credentials')}\n`,
  );
  lab = await startSshd({ setEnv: { GIT_CONFIG_GLOBAL: join(nodeHome, 'gitconfig') } });
  lab.grant(nodeHome);
  nodeToken(TOKEN);

  // SATURN's own Git (the push-first check runs git ls-remote against the same server): the CA
  // and the read token in its own config. This process's GIT_SSL_CAINFO would override
  // http.sslCAInfo; this file's worker is its own process.
  const saturn = join(dir, 'saturn-git');
  mkdirSync(saturn, { mode: 0o700 });
  writeFileSync(join(saturn, 'credentials'), `https://${USER}:${TOKEN}@127.0.0.1:${srv.port}\n`, {
    mode: 0o600,
  });
  writeFileSync(
    join(saturn, 'gitconfig'),
    `[http]\n\tsslCAInfo = ${srv.caFile}\n` +
      `[credential]\n\thelper = store --file=${join(saturn, 'credentials')}\n`,
  );
  for (const k of ['GIT_SSL_CAINFO', 'GIT_CONFIG_GLOBAL']) saved[k] = process.env[k];
  delete process.env.GIT_SSL_CAINFO;
  process.env.GIT_CONFIG_GLOBAL = join(saturn, 'gitconfig');
}, 120_000);

afterAll(async () => {
  if (!ok) return;
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await lab.stop();
  await srv.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!ok)('git.remote https:// from a node over ssh', () => {
  it('init refuses the token in the URL and accepts the plain https URL with an IP and port', async () => {
    const init = (target: string, remote: string, root: string): Promise<CliOutput> =>
      runCli(
        [
          'init',
          target,
          '--remote',
          remote,
          '--node',
          NODE,
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
    const refused = await init(
      join(dir, 'refused'),
      `https://${USER}:${TOKEN}@127.0.0.1:${srv.port}/lab.git`,
      join(dir, 'refused-root'),
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('password or token');
    noToken(refused);

    repo = join(dir, 'lab');
    const r = await init(repo, srv.url('lab.git'), lab.makeDir(NODE));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const v = await runCli(['validate'], { cwd: repo, env: env() });
    expect(v.code).toBe(0);
    expect(v.stderr).not.toContain('git.remote');
  }, 120_000);

  it('bootstrap clones over HTTPS with the CA and the credential helper; prepare fetches a later commit', async () => {
    git(repo, 'push', '-q', bare, 'main');
    const before = srv.requests;
    const b = await runCli(['node', 'bootstrap', NODE, '--yes'], { cwd: repo, env: env() });
    expect(b.stderr, b.stdout + b.stderr).toBe('');
    expect(b.code).toBe(0);
    expect(b.stdout).toContain(`git.remote: ${srv.url('lab.git')} over HTTPS`);
    expect(b.stdout).toContain('a token in a Git credential helper on the node (never in the URL)');
    expect(b.stdout).toContain('http.sslCAInfo');
    expect(b.stdout).toMatch(/repo +cloned https:\/\/127\.0\.0\.1:\d+\/lab\.git/);
    expect(b.stdout).toContain(`${NODE} is bootstrapped`);
    noToken(b);
    // Git went through the server: a 401 challenge, then authenticated requests.
    const seen = srv.statuses.slice(before);
    expect(seen).toContain(401);
    expect(seen).toContain(200);

    const sha = commitAndPush('a commit the node has not seen');
    const p = await runCli(['run', 'prepare', '--node', NODE, '--yes'], {
      cwd: repo,
      env: env(),
    });
    expect(p.code, p.stdout + p.stderr).toBe(0);
    expect(p.stdout + p.stderr).toContain(sha.slice(0, 7));
    noToken(p);
    const nodeRepo = /repo +cloned \S+ \([^)]*\) into (\S+)/.exec(b.stdout)?.[1] ?? '';
    const head = execFileSync(
      'git',
      ['-c', 'safe.directory=*', '-C', nodeRepo, 'rev-parse', 'HEAD'],
      { encoding: 'utf8' },
    ).trim();
    expect(head).toBe(sha);
  }, 180_000);

  it('a wrong token: bootstrap and prepare fail, saying authentication failed, with no token in any output', async () => {
    nodeToken(WRONG);
    commitAndPush('a commit the wrong token cannot fetch');
    const b = await runCli(['node', 'bootstrap', NODE, '--yes'], { cwd: repo, env: env() });
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(
      /failed at repo: git ls-remote https:\/\/127\.0\.0\.1:\d+\/lab\.git failed: .*Authentication failed for/,
    );
    expect(b.stdout).not.toContain('is bootstrapped');
    noToken(b);

    nodeToken(WRONG);
    const p = await runCli(['run', 'prepare', '--node', NODE, '--yes'], {
      cwd: repo,
      env: env(),
    });
    expect(p.code).not.toBe(0);
    expect(p.stdout + p.stderr).toContain('git fetch origin failed');
    expect(p.stdout + p.stderr).toContain('Authentication failed');
    expect(p.stdout + p.stderr).not.toContain(' ok ');
    noToken(p);
  }, 180_000);
});
