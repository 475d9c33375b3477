// The onboarding flow of the design document, end to end on this machine: `homelab node add` on a
// copy of the example homelab, commit and push to a real bare remote, `homelab node bootstrap` over
// a real sshd on loopback into a fresh node root, then prepare, deploy and verify with the real
// Docker engine (the starter service: busybox httpd on 127.0.0.1:<free port>), then a second
// bootstrap that must change nothing.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeSpec } from '../../../src/core/inventory/model.js';
import { loadInventory } from '../../../src/shell/inventory/load.js';
import { requireLab } from '../../support/lab.js';
import { freePort } from '../../../src/shell/free-port.js';
import { startSshd } from '../../support/sshd.js';
import type { SshdLab } from '../../support/sshd.js';
import { runCli } from '../../support/cli.js';

const ok = requireLab('docker', 'sshd');
const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');
const NAME = `ob${Math.random().toString(36).slice(2, 8)}`;

let lab: SshdLab;
let saturn: string;
let remote: string;
let root: string;
let port: number;
/** The CLI's environment: SATURN-side state and ssh control sockets of its own. */
let env: NodeJS.ProcessEnv;

function git(cwd: string, ...args: string[]): string {
  return execFileSync(
    'git',
    ['-c', 'user.email=t@homelab', '-c', 'user.name=t', '-c', 'safe.directory=*', ...args],
    { cwd, encoding: 'utf8' },
  ).trim();
}

/** Every path under base with its mode, size, mtime and content. */
function snapshot(base: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    const abs = join(base, rel);
    const st = statSync(abs);
    out[rel || '.'] =
      `${st.mode.toString(8)} ${st.uid} ${st.size} ${st.mtimeMs} ${st.isFile() ? readFileSync(abs, 'latin1') : ''}`;
    if (st.isDirectory()) for (const e of readdirSync(abs)) walk(rel ? `${rel}/${e}` : e);
  };
  walk('');
  return out;
}

async function node(): Promise<NodeSpec> {
  const { inventory, problems } = await loadInventory(saturn);
  expect(problems).toEqual([]);
  const n = inventory?.nodes.find((x) => x.name === NAME);
  if (!n) throw new Error(`node ${NAME} missing`);
  return n;
}

beforeAll(async () => {
  if (!ok) return;
  lab = await startSshd();
  root = join(lab.makeDir(NAME), 'homelab'); // the node's /opt/homelab: does not exist yet
  remote = join(lab.makeDir('git'), 'homelab.git');
  port = await freePort();

  // SATURN: a copy of the example homelab with this project's scripts, pointed at the bare remote,
  // reaching nodes over the loopback sshd.
  saturn = mkdtempSync(join(tmpdir(), 'homelab-onboard-'));
  env = {
    ...process.env,
    HOMELAB_STATE_DIR: `${saturn}-state`,
    HOMELAB_SSH_CONTROL_DIR: mkdtempSync('/tmp/hlc-'),
  };
  for (const d of ['inventory', 'hosts', 'scripts'])
    cpSync(join(REPO_ROOT, d), join(saturn, d), { recursive: true });
  const topoPath = join(saturn, 'inventory/topology.yaml');
  const doc = parseDocument(readFileSync(topoPath, 'utf8'));
  doc.setIn(['git', 'remote'], remote);
  doc.setIn(
    ['defaults'],
    doc.createNode({
      transport: 'ssh',
      user: lab.user,
      root,
      ssh: {
        port: lab.port,
        identityFile: lab.keyFile,
        knownHostsFile: lab.knownHostsFile,
        connectTimeout: 5,
      },
    }),
  );
  writeFileSync(topoPath, doc.toString());
  git(saturn, 'init', '-q', '-b', 'main');
  git(saturn, 'add', '-A');
  git(saturn, 'commit', '-qm', 'the example homelab');
  git(saturn, 'init', '-q', '--bare', '-b', 'main', remote);
  git(saturn, 'remote', 'add', 'origin', remote);
  git(saturn, 'push', '-q', 'origin', 'main');
}, 120_000);

afterAll(async () => {
  if (!ok) return;
  spawnSync('docker', ['compose', '-p', `${NAME}_web`, 'down', '--remove-orphans', '-t', '0'], {
    stdio: 'ignore',
    timeout: 60_000,
  });
  if (env?.HOMELAB_SSH_CONTROL_DIR) {
    // Close the shared ssh connections the commands left open (ControlPersist), then their folder.
    for (const sock of readdirSync(env.HOMELAB_SSH_CONTROL_DIR))
      spawnSync('ssh', ['-O', 'exit', '-S', join(env.HOMELAB_SSH_CONTROL_DIR, sock), 'x'], {
        stdio: 'ignore',
        timeout: 5000,
      });
    rmSync(env.HOMELAB_SSH_CONTROL_DIR, { recursive: true, force: true });
  }
  await lab?.stop();
  if (saturn)
    for (const d of [saturn, `${saturn}-state`]) rmSync(d, { recursive: true, force: true });
}, 120_000);

describe.skipIf(!ok)('onboarding a node: add, bootstrap over sshd, prepare, deploy, verify', () => {
  let sha = '';

  it('node add writes the entry (every other byte kept), the starter and the manifest; the operator commits and pushes', async () => {
    const before = readFileSync(join(saturn, 'inventory/topology.yaml'), 'utf8');
    const r = await runCli(
      [
        'node',
        'add',
        NAME,
        '--address',
        '127.0.0.1',
        '--role',
        'worker',
        '--tags',
        'lab',
        '--wave',
        '2',
        '--service',
        'web',
        '--port',
        String(port),
      ],
      { cwd: saturn, env },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`homelab node bootstrap ${NAME}`);
    const after = readFileSync(join(saturn, 'inventory/topology.yaml'), 'utf8');
    const entry = `\n  ${NAME}:\n    address: 127.0.0.1\n    role: worker\n    tags: [lab]\n    wave: 2\n    services:\n      - web\n`;
    expect(after.replace(entry, '')).toBe(before);
    expect(after).toContain(entry);
    expect((await runCli(['validate'], { cwd: saturn })).code).toBe(0);

    git(saturn, 'add', 'inventory/topology.yaml', `hosts/${NAME}`);
    git(saturn, 'commit', '-qm', `Add node ${NAME}`);
    git(saturn, 'push', '-q', 'origin', 'main');
    sha = git(saturn, 'rev-parse', 'HEAD');
    lab.grant(remote); // the node's login user reads the remote
  });

  it('node bootstrap prepares the fresh node over ssh and reports each step', async () => {
    const r = await runCli(['node', 'bootstrap', NAME], { cwd: saturn, env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `Bootstrapping ${NAME} (ssh ${lab.user}@127.0.0.1, root ${root}) from ${remote}`,
    );
    expect(r.stdout).toMatch(/✓ docker +docker engine /);
    expect(r.stdout).toMatch(/✓ compose +docker compose 2\./);
    expect(r.stdout).toMatch(/! tailscale +warning: tailscale is not installed/);
    expect(r.stdout).toMatch(
      new RegExp(
        `✓ repo +cloned ${remote} \\(main at ${sha.slice(0, 7)}\\) into ${root}/repo +\\(changed\\)`,
      ),
    );
    expect(r.stdout).toMatch(
      new RegExp(`✓ config web +created ${root}/config/web with a README +\\(changed\\)`),
    );
    expect(r.stdout).toContain(`${NAME} is bootstrapped`);
    expect(r.stdout).toContain(`homelab run prepare --node ${NAME}`);

    for (const d of ['repo', 'state/deploy', 'logs/deploy', 'config/web'])
      expect(statSync(join(root, d)).uid).toBe(lab.uid);
    expect(git(join(root, 'repo'), 'rev-parse', 'HEAD')).toBe(sha);
  });

  it('takes the node through prepare, deploy and verify with `homelab run`, and the starter service answers', async () => {
    const spec = await node();
    expect(spec.root).toBe(root);
    for (const name of ['prepare', 'deploy', 'verify']) {
      const r = await runCli(['run', name, '--node', NAME, '--yes'], { cwd: saturn, env });
      expect(r.code, `${name}:\n${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`${name}: ${name} ok \\(`));
    }
    expect(git(join(root, 'repo'), 'rev-parse', 'HEAD')).toBe(sha);
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(res.status).toBe(200);
    expect((await res.text()).trim()).toBe(`web on ${NAME}`);
  });

  it('a second bootstrap changes nothing and says so', async () => {
    const before = snapshot(root);
    const r = await runCli(['node', 'bootstrap', NAME], { cwd: saturn, env });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('(changed)');
    expect(r.stdout).toMatch(/✓ layout +unchanged: /);
    expect(r.stdout).toMatch(/✓ repo +unchanged: /);
    expect(r.stdout).toMatch(/✓ config web +unchanged: /);
    expect(r.stdout).toContain(`Nothing changed: ${NAME} was already bootstrapped.`);
    expect(snapshot(root)).toEqual(before);
  });
});
