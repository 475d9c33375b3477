// A real OpenSSH server on loopback for tests: the remote path of the homelab (see ../shared/LAB.md).
//
//   const ok = requireLab('sshd');
//   let lab: SshdLab;
//   beforeAll(async () => { lab = await startSshd({ setEnv: { HOMELAB_ROOT: root } }); });
//   afterAll(async () => { await runner.close(); await lab.stop(); });
//   const node = lab.node('solaria');                  // a NodeSpec with transport ssh to this server
//   createRunner(node).run(['bash', '-c', 'echo hi']);
//
// What it sets up, per call:
// - A temp dir (lab.dir, mode 0755) holding an ed25519 host key, an ed25519 client key
//   (lab.keyFile), authorized_keys, known_hosts (lab.knownHostsFile: `[127.0.0.1]:PORT <host key>`,
//   so host key checking stays on), sshd_config and the server log (lab.logFile: read it when a
//   test fails). Also otherKeyFile (a key NOT in authorized_keys) and wrongKnownHostsFile (the
//   same host name with another key) for the refusal tests.
// - `/usr/sbin/sshd -f CONFIG -E LOG` on 127.0.0.1 and a free port, with PasswordAuthentication no,
//   KbdInteractiveAuthentication no, UsePAM no, StrictModes no, PidFile, and `SetEnv` pairs
//   (for example HOMELAB_ROOT, so each simulated node gets its own /opt/homelab).
// - Login user: as root, the dedicated user `homelab-test` (created once with
//   `useradd -m -s /bin/bash -p '*' -G docker homelab-test`: a clean home keeps ssh commands fast,
//   '*' keeps the account unlocked for key login, docker lets it run compose). As non-root, the
//   current user (sshd then can only log in as itself).
//
// Files the remote user must read or write: tests run as root, the remote commands run as
// lab.user. mkdtemp makes 0700 folders, which lab.user cannot enter. Use `lab.makeDir(name)` for a
// fresh folder owned by lab.user (a node root), or `lab.grant(path)` to hand over an existing
// tree (chown -R to lab.user and make every parent folder traversable: chmod o+x).
//
// stop() kills the server and the sessions it started (by pid), then removes lab.dir.
import { execFile, execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { NodeSpec, SshOptions } from '../../src/core/inventory/model.js';
import { freePort } from '../../src/shell/free-port.js';

const run = promisify(execFile);

export const LAB_USER = 'homelab-test';
const SSHD = '/usr/sbin/sshd';

export interface SshdOptions {
  /** `SetEnv` pairs: variables every session on this server sees (values without `"` or newlines). */
  readonly setEnv?: Readonly<Record<string, string>>;
  /** Extra sshd_config lines. */
  readonly extraConfig?: readonly string[];
}

export interface SshdLab {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The login user on this server. */
  readonly user: string;
  readonly uid: number;
  readonly gid: number;
  /** Private key that the server accepts. */
  readonly keyFile: string;
  /** known_hosts with this server's real host key. */
  readonly knownHostsFile: string;
  /** A private key the server does not accept (auth-refused tests). */
  readonly otherKeyFile: string;
  /** known_hosts naming this server with another host key (host-key-mismatch tests). */
  readonly wrongKnownHostsFile: string;
  readonly dir: string;
  readonly logFile: string;
  /** The `ssh:` options of an inventory node that reaches this server. */
  sshNodeOptions(connectTimeout?: number): SshOptions;
  /** A NodeSpec (transport ssh) for this server; fields can be overridden. */
  node(name: string, overrides?: Partial<NodeSpec>): NodeSpec;
  /** A new folder under lab.dir owned by the login user (for example a node root). */
  makeDir(name: string): string;
  /** Hands an existing path to the login user (chown -R) and makes its parents traversable. */
  grant(path: string): void;
  stop(): Promise<void>;
}

export async function startSshd(opts: SshdOptions = {}): Promise<SshdLab> {
  const root = process.getuid?.() === 0;
  const user = root ? ensureLoginUser(LAB_USER) : userInfo().username;
  const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
  if (root) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const dir = mkdtempSync(join(tmpdir(), 'homelab-sshd-'));
  chmodSync(dir, 0o755);
  const f = (name: string): string => join(dir, name);
  await Promise.all(
    ['host_key', 'client_key', 'other_key', 'other_host_key'].map((k) => keygen(f(k))),
  );
  writeFileSync(f('authorized_keys'), readFileSync(f('client_key.pub')));
  chmodSync(f('authorized_keys'), 0o644);
  const hostKey = publicKey(f('host_key.pub'));
  const otherHostKey = publicKey(f('other_host_key.pub'));

  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const config = [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${f('host_key')}`,
      `AuthorizedKeysFile ${f('authorized_keys')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin no',
      `AllowUsers ${user}`,
      `PidFile ${f('sshd.pid')}`,
      // Many parallel connections in tests (fan-out to one server): no early drops.
      'MaxStartups 100:30:200',
      'MaxSessions 50',
      'LogLevel VERBOSE',
      ...Object.entries(opts.setEnv ?? {}).map(([k, v]) => `SetEnv "${checkEnv(k, v)}"`),
      ...(opts.extraConfig ?? []),
    ];
    writeFileSync(f('sshd_config'), `${config.join('\n')}\n`);
    try {
      await run(SSHD, ['-f', f('sshd_config'), '-E', f('sshd.log')], { timeout: 15_000 });
      await waitForPort(port, 10_000);
    } catch (error) {
      lastError = `${error instanceof Error ? error.message : String(error)}\n${tail(f('sshd.log'))}`;
      killPidFile(f('sshd.pid'));
      continue;
    }
    writeFileSync(f('known_hosts'), `[127.0.0.1]:${port} ${hostKey}\n`);
    writeFileSync(f('wrong_known_hosts'), `[127.0.0.1]:${port} ${otherHostKey}\n`);
    return makeLab({ port, user, uid, gid, dir, f, root });
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`sshd did not start on loopback after 5 attempts: ${lastError}`);
}

interface LabParts {
  readonly port: number;
  readonly user: string;
  readonly uid: number;
  readonly gid: number;
  readonly dir: string;
  readonly f: (name: string) => string;
  readonly root: boolean;
}

function makeLab({ port, user, uid, gid, dir, f, root }: LabParts): SshdLab {
  const sshNodeOptions = (connectTimeout = 5): SshOptions => ({
    port,
    identityFile: f('client_key'),
    knownHostsFile: f('known_hosts'),
    connectTimeout,
  });
  const grant = (path: string): void => {
    if (!root) return;
    execFileSync('chown', ['-R', `${uid}:${gid}`, path]);
    for (let p = dirname(path); p !== dirname(p); p = dirname(p)) execFileSync('chmod', ['o+x', p]);
  };
  return {
    host: '127.0.0.1',
    port,
    user,
    uid,
    gid,
    dir,
    keyFile: f('client_key'),
    knownHostsFile: f('known_hosts'),
    otherKeyFile: f('other_key'),
    wrongKnownHostsFile: f('wrong_known_hosts'),
    logFile: f('sshd.log'),
    sshNodeOptions,
    node(name, overrides = {}) {
      const nodeRoot = overrides.root ?? `/opt/homelab`;
      return {
        name,
        address: '127.0.0.1',
        role: 'test',
        tags: [],
        transport: 'ssh',
        user,
        root: nodeRoot,
        repo: `${nodeRoot}/repo`,
        wave: 0,
        ssh: sshNodeOptions(),
        services: [],
        ...overrides,
      };
    },
    makeDir(name) {
      const path = join(dir, 'nodes', name);
      mkdirSync(path, { recursive: true, mode: 0o755 });
      chmodSync(join(dir, 'nodes'), 0o755);
      if (root) chownSync(path, uid, gid);
      return path;
    },
    grant,
    async stop() {
      const pid = readPid(f('sshd.pid'));
      if (pid !== undefined) {
        // The sessions this server started (children of the listener), then the listener.
        for (const child of childPids(pid)) signal(child, 'SIGTERM');
        signal(pid, 'SIGTERM');
        const deadline = Date.now() + 5000;
        while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Creates the dedicated login user once; parallel test files may race, so re-check on failure. */
function ensureLoginUser(name: string): string {
  for (let attempt = 0; attempt < 10; attempt++) {
    try {
      execFileSync('id', ['-u', name], { stdio: 'ignore' });
      return name;
    } catch {
      // Not there yet.
    }
    try {
      const groups = hasGroup('docker') ? ['-G', 'docker'] : [];
      execFileSync('useradd', ['-m', '-s', '/bin/bash', '-p', '*', ...groups, name], {
        stdio: 'pipe',
      });
      return name;
    } catch {
      execFileSync('sleep', ['0.2']);
    }
  }
  throw new Error(
    `could not create the login user ${name} (useradd -m -s /bin/bash -p '*' -G docker ${name})`,
  );
}

function hasGroup(group: string): boolean {
  try {
    execFileSync('getent', ['group', group], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function keygen(path: string): Promise<void> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'homelab-test', '-f', path]);
}

/** `ssh-ed25519 AAAA...` without the comment. */
function publicKey(path: string): string {
  return readFileSync(path, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
}

function checkEnv(key: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) || /["\n\r]/.test(value))
    throw new Error(`SetEnv ${key}: unsupported name or value`);
  return `${key}=${value}`;
}

async function waitForPort(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`port ${port} did not accept connections within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function readPid(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 1 ? pid : undefined;
}

function killPidFile(file: string): void {
  const pid = readPid(file);
  if (pid !== undefined) signal(pid, 'SIGTERM');
}

/** Descendants of pid, deepest first (from `ps -e -o pid=,ppid=`: by parent id, never by name). */
function childPids(pid: number): number[] {
  let out: string;
  try {
    out = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const line of out.split('\n')) {
    const [c, p] = line.trim().split(/\s+/).map(Number);
    if (c === undefined || p === undefined || Number.isNaN(c)) continue;
    children.set(p, [...(children.get(p) ?? []), c]);
  }
  const result: number[] = [];
  const walk = (p: number): void => {
    for (const c of children.get(p) ?? []) {
      walk(c);
      result.push(c);
    }
  };
  walk(pid);
  return result;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-10).join('\n');
  } catch {
    return '';
  }
}
