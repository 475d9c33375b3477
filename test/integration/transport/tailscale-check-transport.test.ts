// Tailscale SSH check mode and host key checking through `tailscale ssh`, end to end: the real
// runner and Control, the `tailscale` stand-in (test/support/tailscale-shim/tailscale) in front of a
// real sshd on loopback. In check mode the stand-in prints the check banner and holds the
// connection (as a Tailscale SSH server does, up to 30 minutes) until the test "passes the check".
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeSpec } from '../../../src/core/inventory/model.js';
import type { NodeProbe } from '../../../src/core/node/types.js';
import { openControl } from '../../../src/shell/control/control.js';
import type { Control } from '../../../src/shell/control/types.js';
import { CheckGate } from '../../../src/shell/transport/check-gate.js';
import { createRunner } from '../../../src/shell/transport/runner.js';
import { requireLab } from '../../support/lab.js';
import { startSshd, type SshdLab } from '../../support/sshd.js';
import {
  checkNode,
  holds,
  maxConcurrentHolds,
  passCheck,
  tailscaleHomelab,
  tailscaleShim,
} from '../../support/tailscale-shim.js';

const ok = requireLab('sshd');
const URL_SHAPE = /^https:\/\/login\.tailscale\.com\/a\/[0-9a-f]{16}$/;

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!ok)('Tailscale SSH check mode through the tailscale stand-in', () => {
  let lab: SshdLab;
  let dir: string;

  beforeAll(async () => {
    lab = await startSshd();
    dir = mkdtempSync('/tmp/hl-tsc-');
    // The login user looks for deploy.sh under it: missing (not bootstrapped), not forbidden.
    chmodSync(dir, 0o755);
  });

  afterAll(async () => {
    await lab?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a node in check mode reports needs-check with the URL within 2 s; passing the check lets the held connection through', async () => {
    const checkDir = join(dir, 'check-one');
    const shim = tailscaleShim(lab, { checkDir });
    const node: NodeSpec = lab.node('tscone', {
      transport: 'tailscale-ssh',
      address: 'tscone',
      ssh: { connectTimeout: 5 },
    });
    checkNode(checkDir, 'tscone');
    const controlDir = mkdtempSync('/tmp/hl-tsc-c-');
    const runner = createRunner(node, { controlDir, env: shim.env, checkGate: new CheckGate() });
    try {
      const started = Date.now();
      const r = await runner.run(['echo', 'hi'], { timeoutMs: 20_000 });
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(r.exitCode).toBeNull();
      expect(r.unreachable?.reason).toBe('needs-check');
      expect(r.unreachable?.checkUrl).toMatch(URL_SHAPE);
      expect(r.unreachable?.message).toContain(r.unreachable?.checkUrl);
      // Asked again while held: the same URL, and no second connection.
      const again = await runner.run(['echo', 'hi'], { timeoutMs: 20_000 });
      expect(again.unreachable?.checkUrl).toBe(r.unreachable?.checkUrl);
      expect(holds(checkDir)).toHaveLength(1);
      expect(holds(checkDir)[0]?.end).toBe(Infinity);
      // The operator passes the check: the held connection goes on and becomes the master.
      passCheck(checkDir, 'tscone');
      const out: string[] = [];
      await until('the held connection to open', async () => {
        const x = await runner.run(['echo', 'hi'], { onStdout: (l) => out.push(l) });
        return x.exitCode === 0 ? x : undefined;
      });
      expect(out).toContain('hi');
      expect(holds(checkDir)).toHaveLength(1);
      expect(holds(checkDir)[0]?.end).not.toBe(Infinity);
    } finally {
      await runner.close();
      rmSync(controlDir, { recursive: true, force: true });
    }
  });

  describe('several nodes of one tailnet in check mode (through the Control)', () => {
    const id = randomBytes(2).toString('hex');
    const names = [`tsa${id}`, `tsb${id}`, `tsc${id}`];
    let control: Control;
    let checkDir: string;

    beforeAll(async () => {
      const sub = join(dir, 'several');
      mkdirSync(sub, { recursive: true });
      checkDir = join(sub, 'check');
      const shim = tailscaleShim(lab, { checkDir });
      for (const n of names) checkNode(checkDir, n);
      const repoDir = tailscaleHomelab(sub, lab.user, names);
      const controlDir = mkdtempSync('/tmp/hl-tsc-c-');
      control = await openControl({
        repoDir,
        env: { ...process.env, ...shim.env, HOMELAB_SSH_CONTROL_DIR: controlDir },
      });
    });

    afterAll(async () => {
      await control?.close();
    });

    const byNode = (probes: readonly NodeProbe[]): Map<string, NodeProbe> =>
      new Map(probes.map((p) => [p.node, p]));

    it('one check at a time: one node shows its URL, the others wait without connecting; done retries it', async () => {
      const started = Date.now();
      const first = byNode(await control.probeAll());
      expect(Date.now() - started).toBeLessThan(5_000);
      const asking = [...first.values()].filter(
        (p) => !p.reachable && p.reason === 'needs-check' && p.checkUrl,
      );
      expect(asking).toHaveLength(1);
      const holder = asking[0]!.node;
      for (const n of names.filter((x) => x !== holder)) {
        const p = first.get(n);
        expect(p?.reachable).toBe(false);
        if (p?.reachable !== false) continue;
        expect(p.reason).toBe('needs-check');
        expect(p.checkUrl).toBeUndefined();
        expect(p.message).toContain(`waiting for the Tailscale SSH check of ${holder}`);
      }
      expect(holds(checkDir).map((h) => h.host)).toEqual([holder]);

      // "Done" while the policy still wants the check: the held connection is stopped and a new
      // one asks again (a new URL), still the only one.
      const url = asking[0]!.reachable ? '' : asking[0]!.checkUrl;
      const again = await control.checkDone(holder);
      expect(again.reachable).toBe(false);
      if (!again.reachable) {
        expect(again.reason).toBe('needs-check');
        expect(again.checkUrl).toMatch(URL_SHAPE);
        expect(again.checkUrl).not.toBe(url);
      }
      expect(holds(checkDir)).toHaveLength(2);
      expect(maxConcurrentHolds(holds(checkDir)), JSON.stringify(holds(checkDir))).toBe(1);

      // Each node in turn: pass its check, say done, the node answers; the next one asks.
      let current = holder;
      const passed: string[] = [];
      for (let i = 0; i < names.length; i++) {
        passCheck(checkDir, current);
        const probe = await control.checkDone(current);
        expect(probe.reachable, JSON.stringify(probe)).toBe(true);
        passed.push(current);
        const next = byNode(await control.probeAll());
        for (const n of passed) expect(next.get(n)?.reachable).toBe(true);
        const asks = [...next.values()].filter((p) => !p.reachable && p.checkUrl);
        expect(asks.length).toBe(i === names.length - 1 ? 0 : 1);
        if (asks[0]) current = asks[0].node;
      }
      expect(new Set(passed)).toEqual(new Set(names));
      expect(maxConcurrentHolds(holds(checkDir))).toBe(1);
      expect(new Set(holds(checkDir).map((h) => h.host))).toEqual(new Set(names));
    });
  });

  it('a node running plain OpenSSH, reached through tailscale ssh, says to use transport ssh', async () => {
    const shim = tailscaleShim(lab, {
      tailnet: { magicDns: 'tail-lab.ts.net', peers: ['solaria'] },
    });
    const controlDir = mkdtempSync('/tmp/hl-tsc-c-');
    const gate = new CheckGate();
    const peer = createRunner(
      lab.node('solaria', { transport: 'tailscale-ssh', address: 'solaria' }),
      { controlDir, env: shim.env, checkGate: gate },
    );
    const plain = createRunner(
      lab.node('pluto', { transport: 'tailscale-ssh', address: 'pluto' }),
      { controlDir, env: shim.env, checkGate: gate },
    );
    try {
      // A Tailscale SSH peer: its key is in the tailnet's known_hosts under `solaria.tail-lab.ts.net.`.
      const good = await peer.run(['true']);
      expect(good.exitCode, JSON.stringify(good)).toBe(0);
      const r = await plain.run(['true']);
      expect(r.exitCode).toBeNull();
      expect(r.unreachable?.reason).toBe('host-key-unknown');
      expect(r.unreachable?.message).toContain('pluto.tail-lab.ts.net.');
      expect(r.unreachable?.message).toContain(
        'this node does not run Tailscale SSH: use `transport: ssh` to its tailnet address',
      );
    } finally {
      await peer.close();
      await plain.close();
      rmSync(controlDir, { recursive: true, force: true });
    }
  });
});
