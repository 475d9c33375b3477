// The path a new user walks (issue 11's "Done when"), through the INSTALLED tool only: pack this
// project, install the tarball into an empty prefix offline, `homelab init` a new homelab in an
// empty folder, `node add` three nodes that share 127.0.0.1 on different ssh ports (a real sshd
// each, each with its own root), commit, push to a git:// remote (a real `git daemon` on
// loopback), bootstrap, deploy every node, remove a service, remove a node. No file of the homelab
// is edited by hand: every change comes from `homelab` or from git.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../e2e/build.js';
import { installPackedTool } from './install-support.js';
import { requireLab } from '../support/lab.js';
import { startSshd, type SshdLab } from '../support/sshd.js';
import { freePort } from '../../src/shell/free-port.js';

const run = promisify(execFile);
const ok = requireLab('docker', 'sshd');
const ID = Math.random().toString(36).slice(2, 7);
const NODES = [`n1${ID}`, `n2${ID}`, `n3${ID}`] as const;

let dir: string;
let bin: string;
let lab: string;
let daemon: ChildProcess | undefined;
let daemonPort: number;
const sshds: SshdLab[] = [];
const roots: string[] = [];

const gitEnv = {
  GIT_AUTHOR_NAME: 'New User',
  GIT_AUTHOR_EMAIL: 'user@example.net',
  GIT_COMMITTER_NAME: 'New User',
  GIT_COMMITTER_EMAIL: 'user@example.net',
};

function env(): NodeJS.ProcessEnv {
  return {
    PATH: `${join(dir, 'prefix', 'bin')}:${process.env.PATH ?? ''}`,
    HOME: join(dir, 'home'),
    HOMELAB_SSH_CONTROL_DIR: join(dir, 'ssh'),
    HOMELAB_STATE_DIR: join(dir, 'state'),
    ...gitEnv,
  };
}

interface Out {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The installed `homelab`, as a user runs it (no terminal: flags instead of prompts). */
async function homelab(args: readonly string[], cwd = lab): Promise<Out> {
  try {
    const r = await run(bin, [...args], { cwd, env: env(), timeout: 120_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof e.code === 'number' ? e.code : -1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    };
  }
}

function expectOk(r: Out, what: string): void {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    env: { ...process.env, ...gitEnv },
    encoding: 'utf8',
  }).trim();
}

function projectContainers(project: string): string[] {
  return execFileSync(
    'docker',
    ['ps', '-a', '-q', '--filter', `label=com.docker.compose.project=${project}`],
    { encoding: 'utf8' },
  )
    .split('\n')
    .filter(Boolean);
}

async function waitForPort(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await run('git', ['ls-remote', `git://127.0.0.1:${port}/remote.git`], { timeout: 2000 });
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`git daemon on ${port} did not answer`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

beforeAll(async () => {
  if (!ok) return;
  dir = mkdtempSync(join(tmpdir(), 'homelab-own-'));
  for (const d of ['home', 'state']) mkdirSync(join(dir, d));
  mkdirSync(join(dir, 'ssh'), { mode: 0o700 });
  bin = join(await installPackedTool(dir), 'homelab');

  // The Git remote: a bare repo served by git daemon on loopback, pushes allowed.
  git(dir, 'init', '-q', '--bare', '-b', 'main', 'remote.git');
  daemonPort = await freePort();
  daemon = spawn(
    'git',
    [
      'daemon',
      '--reuseaddr',
      '--export-all',
      '--enable=receive-pack',
      `--base-path=${dir}`,
      '--listen=127.0.0.1',
      `--port=${daemonPort}`,
      dir,
    ],
    { stdio: 'ignore' },
  );
  await waitForPort(daemonPort);

  // Three nodes on 127.0.0.1, each its own sshd (its own port) and root.
  for (let i = 0; i < NODES.length; i++) {
    const s = await startSshd();
    sshds.push(s);
    roots.push(s.makeDir('homelab'));
  }
  lab = join(dir, 'my-homelab');
}, 180_000);

afterAll(async () => {
  if (!ok) return;
  for (const n of NODES)
    for (const svc of ['web', 'api']) {
      const ids = projectContainers(`${n}_${svc}`);
      if (ids.length > 0) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
    }
  daemon?.kill('SIGTERM');
  await Promise.all(sshds.map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe.skipIf(!ok)('your own homelab, through the installed homelab only', () => {
  it('installs: --version, help of every command, the package files', async () => {
    expect(existsSync(bin)).toBe(true);
    const v = await homelab(['--version'], dir);
    expectOk(v, 'homelab --version');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(v.stdout).toContain(`homelab ${pkg.version} (node scripts v`);
    const help = await homelab(['help'], dir);
    for (const cmd of [
      'init',
      'validate',
      'status',
      'run',
      'node',
      'scripts',
      'recover',
      'manifest',
      'demo',
    ]) {
      expect(help.stdout).toContain(`  ${cmd}`);
      const h = await homelab([cmd, '--help'], dir);
      expectOk(h, `${cmd} --help`);
      expect(h.stdout).toContain('Exit codes:');
      expect(h.stdout).toMatch(/Examples?:\n {2}homelab/);
    }
  }, 60_000);

  it('walks init, node add ×3, push, bootstrap, deploy, remove a service, remove a node', async () => {
    const remote = `git://127.0.0.1:${daemonPort}/remote.git`;
    expectOk(await homelab(['init', 'my-homelab', '--remote', remote], dir), 'init');
    expect(git(lab, 'log', '--format=%s')).toBe('New homelab my-homelab');
    expect(readFileSync(join(lab, 'scripts', 'VERSION'), 'utf8').trim()).toMatch(/^\d+$/);
    expect(readFileSync(join(lab, '.gitignore'), 'utf8')).toContain('.env');
    // init refuses a folder that is not empty.
    const again = await homelab(['init', 'my-homelab'], dir);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('is not empty');

    for (let i = 0; i < NODES.length; i++) {
      const s = sshds[i];
      if (!s) throw new Error('no sshd');
      const port = await freePort();
      const added = await homelab([
        'node',
        'add',
        NODES[i] ?? '',
        '--address',
        '127.0.0.1',
        '--transport',
        'ssh',
        '--user',
        s.user,
        '--ssh-port',
        String(s.port),
        '--identity-file',
        s.keyFile,
        '--known-hosts',
        'inventory/known_hosts',
        '--root',
        roots[i] ?? '',
        '--port',
        String(port),
        '--service',
        i === 2 ? 'web,api' : 'web',
      ]);
      expectOk(added, `node add ${NODES[i] ?? ''}`);
    }
    expectOk(await homelab(['validate']), 'validate');
    git(lab, 'add', '-A');
    git(lab, 'commit', '-q', '-m', 'Add three nodes');
    git(lab, 'push', '-q', '-u', 'origin', 'main');

    // Host keys: shown (ssh-keyscan's fingerprints) and added to the inventory's known_hosts only
    // when the user agrees; without a terminal that is --yes.
    const knownHosts = join(lab, 'inventory', 'known_hosts');
    const asked = await homelab(['node', 'bootstrap', NODES[0]]);
    expect(asked.code).toBe(1);
    expect(asked.stdout).toMatch(/SHA256:\S+ \[127\.0\.0\.1\]:\d+ \(ED25519\)/);
    expect(asked.stderr).toContain('was not added');
    expect(existsSync(knownHosts)).toBe(false);
    for (const n of NODES) {
      const b = await homelab(['node', 'bootstrap', n, '--yes']);
      expectOk(b, `bootstrap ${n}`);
      expect(b.stdout).toContain(`${n} is bootstrapped`);
      expect(b.stdout).toContain('git.remote: git://127.0.0.1:');
    }
    const keys = readFileSync(knownHosts, 'utf8');
    for (const s of sshds) expect(keys).toContain(readFileSync(s.knownHostsFile, 'utf8').trim());
    git(lab, 'add', 'inventory/known_hosts');
    git(lab, 'commit', '-q', '-m', 'Host keys of the nodes');
    git(lab, 'push', '-q');
    for (const n of NODES)
      for (const stage of ['prepare', 'deploy', 'verify'])
        expectOk(await homelab(['run', stage, '--node', n, '--yes']), `run ${stage} ${n}`);
    for (const n of NODES) expect(projectContainers(`${n}_web`)).toHaveLength(1);
    const n3 = NODES[2];
    expect(projectContainers(`${n3}_api`)).toHaveLength(1);
    expectOk(await homelab(['status']), 'status');

    // Remove a service: the repo loses it, the next deploy takes its containers down.
    expectOk(await homelab(['node', 'remove-service', n3, 'api']), 'remove-service');
    expect(existsSync(join(lab, 'hosts', n3, 'api'))).toBe(false);
    git(lab, 'add', '-A');
    git(lab, 'commit', '-q', '-m', 'Remove api');
    git(lab, 'push', '-q');
    for (const stage of ['prepare', 'deploy'])
      expectOk(await homelab(['run', stage, '--node', n3, '--yes']), `run ${stage} ${n3}`);
    expect(projectContainers(`${n3}_api`)).toHaveLength(0);
    expect(projectContainers(`${n3}_web`)).toHaveLength(1);

    // Remove a node: first its services (confirmed), deployed away, then the node itself.
    const n2 = NODES[1];
    const before = readFileSync(join(lab, 'inventory', 'topology.yaml'), 'utf8');
    const refused = await homelab(['node', 'remove', n2]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--yes');
    expect(readFileSync(join(lab, 'inventory', 'topology.yaml'), 'utf8')).toBe(before);
    expectOk(await homelab(['node', 'remove', n2, '--yes']), 'node remove (services)');
    git(lab, 'add', '-A');
    git(lab, 'commit', '-q', '-m', `Take down ${n2}`);
    git(lab, 'push', '-q');
    for (const stage of ['prepare', 'deploy'])
      expectOk(await homelab(['run', stage, '--node', n2, '--yes']), `run ${stage} ${n2}`);
    expect(projectContainers(`${n2}_web`)).toHaveLength(0);
    expectOk(await homelab(['node', 'remove', n2, '--yes']), 'node remove');
    expect(existsSync(join(lab, 'hosts', n2))).toBe(false);
    const after = readFileSync(join(lab, 'inventory', 'topology.yaml'), 'utf8');
    expect(after).not.toContain(`${n2}:`);
    expect(after).toContain(`${NODES[0]}:`);
    git(lab, 'add', '-A');
    git(lab, 'commit', '-q', '-m', `Remove ${n2}`);
    const valid = await homelab(['validate']);
    expectOk(valid, 'validate at the end');
    expect(valid.stdout).toContain('2 nodes, 2 services');
    expect(dirname(lab)).toBe(dir);
  }, 600_000);
});
