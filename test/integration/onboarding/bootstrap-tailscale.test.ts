// Bootstrap over the tailscale-ssh transport: SATURN's `tailscale ssh` is the test shim
// (test/support/tailscale-shim) in front of a loopback sshd, and the node's own `tailscale status`
// is a stand-in that reports the node up (Tailscale cannot be installed on this machine).
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Inventory, NodeSpec } from '../../../src/core/inventory/model.js';
import { bootstrapNode } from '../../../src/shell/onboarding/bootstrap.js';
import { requireLab } from '../../support/lab.js';
import { startSshd } from '../../support/sshd.js';
import type { SshdLab } from '../../support/sshd.js';
import { tailscaleShim } from '../../support/tailscale-shim.js';
import type { TailscaleShim } from '../../support/tailscale-shim.js';

const ok = requireLab('docker', 'sshd');
const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');
const NAME = `ts${Math.random().toString(36).slice(2, 8)}`;

let lab: SshdLab;
let shim: TailscaleShim;
let dir: string;
let inventory: Inventory;
let node: NodeSpec;
let controlDir: string;

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'user.email=t@homelab', '-c', 'user.name=t', ...args], {
    cwd,
    stdio: 'ignore',
  });
}

beforeAll(async () => {
  if (!ok) return;
  dir = mkdtempSync(join(tmpdir(), 'homelab-ts-bootstrap-'));
  // The node's `tailscale`: only `status` is asked, and the node is up.
  const nodeBin = join(dir, 'node-bin');
  mkdirSync(nodeBin);
  writeFileSync(
    join(nodeBin, 'tailscale'),
    '#!/bin/sh\n[ "$1" = status ] && { echo "100.64.0.9 node up"; exit 0; }\nexit 1\n',
  );
  chmodSync(join(nodeBin, 'tailscale'), 0o755);
  chmodSync(dir, 0o755);
  lab = await startSshd({ setEnv: { PATH: `${nodeBin}:/usr/local/bin:/usr/bin:/bin` } });
  shim = tailscaleShim(lab);
  controlDir = mkdtempSync('/tmp/hlt-');

  const work = join(dir, 'saturn');
  const remote = join(lab.makeDir('git'), 'homelab.git');
  mkdirSync(join(work, 'hosts', NAME), { recursive: true });
  writeFileSync(
    join(work, 'hosts', NAME, 'node.manifest'),
    `manifest\t1\nhomelab\tlab\nnode\t${NAME}\nrole\tw\ntags\t\nwave\t0\nservice\tweb\nsecret\tweb\tTOKEN\n`,
  );
  git(dir, 'init', '-q', '-b', 'main', work);
  git(work, 'add', '-A');
  git(work, 'commit', '-qm', 'init');
  git(dir, 'init', '-q', '--bare', '-b', 'main', remote);
  git(work, 'push', '-q', remote, 'main');
  lab.grant(remote);

  const root = join(lab.makeDir(NAME), 'homelab');
  node = lab.node(NAME, { transport: 'tailscale-ssh', root, repo: `${root}/repo` });
  inventory = { homelab: 'lab', git: { remote, branch: 'main' }, nodes: [node] };
}, 60_000);

afterAll(async () => {
  if (!ok) return;
  await lab?.stop();
  for (const d of [dir, controlDir]) if (d) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!ok)('homelab node bootstrap over tailscale-ssh', () => {
  it('reaches the node through `tailscale ssh`, finds Tailscale up there, and bootstraps it', async () => {
    const out = await bootstrapNode(REPO_ROOT, inventory, node, {
      env: { ...shim.env, HOMELAB_SSH_CONTROL_DIR: controlDir },
    });
    expect(out.stderr).toEqual([]);
    expect(out.result).toBe('ok');
    expect(out.steps.find((s) => s.step === 'tailscale')).toMatchObject({
      status: 'ok',
      detail: 'tailscale is up',
    });
    expect(out.steps.find((s) => s.step === 'config')?.detail).toContain(
      `secrets to place in ${node.root}/config/web/.env: TOKEN`,
    );
    expect(readFileSync(shim.logFile, 'utf8')).toContain(`tailscale ssh ${lab.user}@127.0.0.1`);

    const again = await bootstrapNode(REPO_ROOT, inventory, node, {
      env: { ...shim.env, HOMELAB_SSH_CONTROL_DIR: controlDir },
    });
    expect(again.result).toBe('ok');
    expect(again.unchanged).toBe(true);
  });
});
