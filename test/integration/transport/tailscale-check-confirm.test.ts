// Magic rollback's confirming connection (the fresh runner: ControlMaster=no, ControlPath=none)
// through the tailnet's check gate, with the `tailscale` stand-in in front of a real sshd: it
// opens like every other connection of a check-mode tailnet. A node in check mode at confirm time
// is reported needs-check with its URL and is the tailnet's one check; while another node holds a
// check, the confirmation does not connect at all; a check passed while the confirmation is held
// lets the command run.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeSpec } from '../../../src/core/inventory/model.js';
import { CheckGate } from '../../../src/shell/transport/check-gate.js';
import { createRunner } from '../../../src/shell/transport/runner.js';
import { until } from '../../support/magic-rollback-wait.js';
import { requireLab } from '../../support/lab.js';
import { startSshd, type SshdLab } from '../../support/sshd.js';
import {
  checkNode,
  holds,
  maxConcurrentHolds,
  passCheck,
  tailscaleShim,
} from '../../support/tailscale-shim.js';

const ok = requireLab('sshd');

describe.skipIf(!ok)('the confirming connection goes through the check gate', () => {
  let lab: SshdLab;
  let dir: string;
  const id = randomBytes(2).toString('hex');
  const [a, b] = [`tcfa${id}`, `tcfb${id}`];

  beforeAll(async () => {
    lab = await startSshd();
    dir = mkdtempSync('/tmp/hl-tcf-');
    chmodSync(dir, 0o755);
  });
  afterAll(async () => {
    await lab?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const spec = (name: string): NodeSpec =>
    lab.node(name, { transport: 'tailscale-ssh', address: name, ssh: { connectTimeout: 5 } });

  it('needs-check with the URL at once, the one check of the tailnet; blocked behind another check; passes once the check does', async () => {
    const checkDir = join(dir, 'check');
    const shim = tailscaleShim(lab, { checkDir });
    const gate = new CheckGate();
    checkNode(checkDir, a);
    checkNode(checkDir, b);
    const freshA = createRunner(spec(a), { env: shim.env, fresh: true, checkGate: gate });
    const freshB = createRunner(spec(b), { env: shim.env, fresh: true, checkGate: gate });

    // a's confirmation meets a check: the banner reaches the caller's stderr at once, the gate
    // holds a's check, and the command waits for it (here: until its own deadline).
    const seen: string[] = [];
    const started = Date.now();
    const heldRun = freshA.run(['echo', 'confirmed'], {
      timeoutMs: 4_000,
      onStderr: (l) => seen.push(l),
    });
    await until('the check banner', 15_000, () =>
      seen.some((l) => l.includes('login.tailscale.com')) ? true : undefined,
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    await until('the gate to hold a', 15_000, () =>
      gate.current()?.node === a ? true : undefined,
    );

    // b's confirmation meanwhile: blocked, no connection of its own.
    const blocked = await freshB.run(['echo', 'confirmed'], { timeoutMs: 4_000 });
    expect(blocked.exitCode).toBeNull();
    expect(blocked.unreachable?.reason).toBe('needs-check');
    expect(blocked.unreachable?.message).toContain(`waiting for the Tailscale SSH check of ${a}`);
    expect(holds(checkDir).map((h) => h.host)).toEqual([a]);

    // Not passed in time: needs-check with the URL, and the gate is free again.
    const r = await heldRun;
    expect(r.exitCode).toBeNull();
    expect(r.unreachable?.reason).toBe('needs-check');
    expect(r.unreachable?.checkUrl).toMatch(/^https:\/\/login\.tailscale\.com\/a\/[0-9a-f]{16}$/);
    expect(gate.current()).toBeUndefined();

    // This time the operator passes a's check while it is held: the confirmation runs.
    const out: string[] = [];
    const again = freshA.run(['echo', 'confirmed'], {
      timeoutMs: 15_000,
      onStdout: (l) => out.push(l),
    });
    await until('a held again', 15_000, () => (gate.current()?.node === a ? true : undefined));
    passCheck(checkDir, a);
    const passed = await again;
    expect(passed.exitCode, JSON.stringify(passed)).toBe(0);
    expect(out).toEqual(['confirmed']);
    expect(gate.current()).toBeUndefined();

    // Then b's turn: its own check, one at a time.
    const bRun = await freshB.run(['true'], { timeoutMs: 3_000 });
    expect(bRun.unreachable?.reason).toBe('needs-check');
    expect(bRun.unreachable?.checkUrl).toBeDefined();
    expect(maxConcurrentHolds(holds(checkDir)), JSON.stringify(holds(checkDir))).toBe(1);
    passCheck(checkDir, b);
  }, 60_000);
});
