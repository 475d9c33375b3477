// The tailscale-ssh transport end to end: `tailscale ssh user@host <ssh options> -- cmd` through the
// test shim (test/support/tailscale-shim/tailscale), which execs the real ssh against a loopback
// sshd exactly as the real `tailscale ssh` execs the system ssh.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeSpec } from '../../../src/core/inventory/model.js';
import { createRunner } from '../../../src/shell/transport/runner.js';
import type { NodeRunner } from '../../../src/shell/transport/types.js';
import { requireLab } from '../../support/lab.js';
import { startSshd, type SshdLab } from '../../support/sshd.js';
import { tailscaleShim, type TailscaleShim } from '../../support/tailscale-shim.js';
import { collect, hex, HEX_ARGS, NASTY_ARGS } from './helpers.js';

const ok = requireLab('sshd');

describe.skipIf(!ok)('tailscale-ssh transport (through the tailscale shim)', () => {
  let lab: SshdLab;
  let shim: TailscaleShim;
  let node: NodeSpec;
  let runner: NodeRunner;
  let controlDir: string;

  beforeAll(async () => {
    lab = await startSshd();
    shim = tailscaleShim(lab);
    // A MagicDNS-style name and no ssh key or known_hosts: tailscale brings its own.
    node = lab.node('solaria', {
      transport: 'tailscale-ssh',
      address: 'solaria',
      ssh: { connectTimeout: 5 },
    });
    controlDir = mkdtempSync('/tmp/hl-ts-');
    runner = createRunner(node, { controlDir, env: shim.env });
  });

  afterAll(async () => {
    await runner?.close();
    await lab?.stop();
    if (controlDir) rmSync(controlDir, { recursive: true, force: true });
  });

  it('delivers every argument byte for byte', async () => {
    const { result, out, err } = await collect(runner, [...HEX_ARGS, ...NASTY_ARGS]);
    expect(err).toEqual([]);
    expect(result).toMatchObject({ exitCode: 0, cancelled: false });
    expect(out).toEqual(NASTY_ARGS.map(hex));
  });

  it('calls `tailscale ssh user@host` with every ssh option after the destination, and reuses one connection', async () => {
    await collect(runner, ['echo', 'one']);
    await collect(runner, ['echo', 'two']);
    const calls = readFileSync(shim.logFile, 'utf8').trim().split('\n');
    expect(calls.length).toBeGreaterThanOrEqual(3);
    for (const call of calls)
      expect(call.startsWith(`tailscale ssh ${lab.user}@solaria -o BatchMode=yes `)).toBe(true);
    // The first call opened the master; the commands then went over it.
    expect(calls[0]).toContain('ControlMaster=yes');
    expect(calls[0]).toMatch(/ -N -f$/);
    expect(calls.slice(1).every((c) => c.includes('ControlMaster=auto') && / -- /.test(c))).toBe(
      true,
    );
    const logins = readFileSync(lab.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('Accepted publickey'));
    expect(logins).toHaveLength(1);
  });

  it('reports a missing tailscale binary as transport-missing', async () => {
    const dir = mkdtempSync('/tmp/hl-ts-');
    const r = createRunner(node, { controlDir: dir, env: { PATH: '/nonexistent' } });
    try {
      const { result } = await collect(r, ['true']);
      expect(result.exitCode).toBeNull();
      expect(result.unreachable?.reason).toBe('transport-missing');
      expect(result.unreachable?.message).toMatch(/tailscale is not installed/);
    } finally {
      await r.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a stopped tailscaled on SATURN as transport-missing, with how to start it', async () => {
    const dir = mkdtempSync('/tmp/hl-ts-');
    const r = createRunner(node, {
      controlDir: dir,
      env: { ...shim.env, HOMELAB_SHIM_TAILSCALED: 'down' },
    });
    try {
      const { result } = await collect(r, ['true']);
      expect(result.exitCode).toBeNull();
      expect(result.unreachable?.reason).toBe('transport-missing');
      expect(result.unreachable?.message).toContain('sudo systemctl start tailscaled');
    } finally {
      await r.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a refused login through tailscale as auth-refused', async () => {
    const dir = mkdtempSync('/tmp/hl-ts-');
    const r = createRunner(node, {
      controlDir: dir,
      env: { ...shim.env, HOMELAB_SHIM_KEY: lab.otherKeyFile },
    });
    try {
      const { result } = await collect(r, ['true']);
      expect(result.unreachable?.reason).toBe('auth-refused');
    } finally {
      await r.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
