// Magic rollback end to end over a real sshd: a node with `confirm: required` records a verified
// commit as known-good only once SATURN confirms over a NEW connection. A commit whose verify
// passes but after which SATURN cannot connect anew (the test stops the node's sshd listener right
// after verify; the connection SATURN already had keeps working, so only a fresh connection can
// tell) is rolled back by the node within the timeout, and SATURN shows "rolled back by itself"
// with the log once it reaches the node again. Real sshd, git, deploy.sh and Docker; every wait
// polls the node's state.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestPath, renderManifest } from '../../../src/core/inventory/manifest.js';
import { parseTopology } from '../../../src/core/inventory/parse.js';
import { summarizeNode, confirmText } from '../../../src/core/status/summary.js';
import type { NodeLine } from '../../../src/core/protocol/events.js';
import { openControl } from '../../../src/shell/control/control.js';
import { runCli } from '../../support/cli.js';
import { createLabHomelab, type LabHomelab } from '../../support/lab-homelab.js';
import { requireLab } from '../../support/lab.js';
import { kv, until } from '../../support/magic-rollback-wait.js';
import { REPO_ROOT } from '../../support/node-fixture.js';

const ok = requireLab('docker', 'sshd');
const NODE = `mc${Math.random().toString(36).slice(2, 7)}`;
const TIMEOUT_S = 5;

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Adds `confirm: required` and `confirmTimeout` to the node, with its manifest, and commits. */
function requireConfirm(hl: LabHomelab, node: string, seconds: number): string {
  const file = join(hl.repoDir, 'inventory', 'topology.yaml');
  const text = readFileSync(file, 'utf8').replace(
    `  ${node}:\n`,
    `  ${node}:\n    confirm: required\n    confirmTimeout: ${seconds}\n`,
  );
  writeFileSync(file, text);
  const inv = parseTopology(text).inventory;
  const spec = inv?.nodes.find((n) => n.name === node);
  if (!inv || !spec) throw new Error('topology with confirm did not parse');
  writeFileSync(join(hl.repoDir, manifestPath(node)), renderManifest(inv, spec));
  return hl.commit(`${node}: confirm required`);
}

describe.skipIf(!ok)('magic rollback through Control over real sshd', () => {
  let hl: LabHomelab;
  let c1 = '';
  const state = (name: string): string => {
    try {
      return readFileSync(join(hl.rootOf(NODE), 'state', 'deploy', name), 'utf8');
    } catch {
      return '';
    }
  };
  const served = (): Promise<string> =>
    fetch(`http://127.0.0.1:${hl.ports.get(`${NODE}/web`)}/`).then((r) => r.text());

  beforeAll(async () => {
    hl = await createLabHomelab({ nodes: [{ name: NODE, services: ['web'] }] });
    c1 = requireConfirm(hl, NODE, TIMEOUT_S);
    hl.bootstrap(NODE);
  }, 120_000);
  afterAll(async () => {
    await hl?.cleanup();
  });

  it('a good commit is confirmed right after verify and recorded as known-good', async () => {
    const control = await openControl({ repoDir: hl.repoDir });
    try {
      for (const stage of ['prepare', 'deploy'] as const) {
        const r = await control.runStage({ node: NODE, stage });
        expect(r.result, r.message).toBe('ok');
      }
      const lines: string[] = [];
      const v = await control.runStage({
        node: NODE,
        stage: 'verify',
        onLine: (l) => lines.push(l.kind === 'log' ? l.text : l.event.type),
      });
      expect(v.result, v.message).toBe('ok');
      expect(lines.some((l) => l.includes(`confirming ${c1.slice(0, 7)} on ${NODE}`))).toBe(true);
      expect(state('known_good').trim()).toBe(c1);
      expect(kv(state('confirm'))).toMatchObject({ state: 'confirmed', commit: c1 });
    } finally {
      await control.close();
    }
  }, 180_000);

  it('SATURN cannot connect anew after verify: the node rolls back by itself, SATURN says so', async () => {
    writeFileSync(
      join(hl.repoDir, 'hosts', NODE, 'web', 'www', 'index.html'),
      'v2 cuts SATURN off\n',
    );
    const c2 = hl.commit('web: v2');
    const lab = hl.labs.get(NODE);
    if (!lab) throw new Error('no sshd');
    const control = await openControl({ repoDir: hl.repoDir });
    const listener = Number(readFileSync(join(lab.dir, 'sshd.pid'), 'utf8').trim());
    let stopped = false;
    try {
      for (const stage of ['prepare', 'deploy'] as const) {
        const r = await control.runStage({ node: NODE, stage });
        expect(r.result, r.message).toBe('ok');
      }
      expect(await served()).toBe('v2 cuts SATURN off\n');
      const onLine = (l: NodeLine): void => {
        // Right after verify armed the watchdog: no new connection gets in any more; the
        // connection SATURN already has (and the run's follower on it) goes on.
        if (
          !stopped &&
          l.kind === 'event' &&
          l.event.type === 'step' &&
          l.event.step === 'confirm'
        ) {
          stopped = true;
          process.kill(listener, 'SIGTERM');
        }
      };
      const v = await control.runStage({ node: NODE, stage: 'verify', onLine });
      expect(stopped).toBe(true);
      expect(v.result).toBe('failed');
      expect(v.message).toContain('SATURN could not confirm over a new connection');
      expect(v.message).toContain('rolls back to its known-good by itself');
      // Not known-good: that waited for the confirmation.
      expect(state('known_good').trim()).toBe(c1);

      const done = await until('the node to roll back by itself', 90_000, () =>
        kv(state('confirm')).state === 'rolled-back' ? kv(state('confirm')) : undefined,
      );
      expect(done).toMatchObject({ commit: c2, previous: c1, rollback_result: 'ok' });
      expect(state('known_good').trim()).toBe(c1);
      expect(await served()).toBe(`${NODE}/web\n`);
    } finally {
      await control.close();
      if (stopped) {
        // The node's network is back: the same sshd again.
        execFileSync('/usr/sbin/sshd', ['-f', join(lab.dir, 'sshd_config'), '-E', lab.logFile]);
      }
    }
    const port = lab.port;
    for (let i = 0; i < 100 && !(await portOpen(port)); i++)
      await new Promise((r) => setTimeout(r, 100));

    // SATURN reaches the node again and says what happened, with the log.
    const again = await openControl({ repoDir: hl.repoDir });
    try {
      const probe = await again.probe(NODE);
      expect(probe.reachable).toBe(true);
      const spec = again.inventory.nodes.find((n) => n.name === NODE);
      if (!spec || !probe.reachable) throw new Error('unreachable');
      const text = confirmText(summarizeNode(spec, probe, '', null)) ?? '';
      expect(text).toContain(
        `rolled back by itself: SATURN could not confirm within ${TIMEOUT_S} s`,
      );
      expect(text).toContain(`log: ${probe.status.confirm?.rollbackLog ?? '?'}`);
      expect(probe.status.confirm?.rollbackLog).toMatch(/\/logs\/deploy\/deploy_.*\.log$/);
    } finally {
      await again.close();
    }
    const st = await runCli(['status'], {
      cwd: hl.repoDir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    expect(st.stdout).toContain(
      `${NODE}: rolled back by itself: SATURN could not confirm within ${TIMEOUT_S} s`,
    );
  }, 240_000);

  // SATURN (the CLI, a process of its own) SIGKILLed while the node waits for its confirmation:
  // the node's watchdog, in its own session, still rolls back by itself. Killed later, while it
  // opens the confirming connection, the node ends either confirmed or rolled back, never both.
  it.each([
    ['the wait is armed', /› confirm: waiting/, true],
    ['SATURN opens the confirming connection', /homelab: confirming/, false],
  ] as const)(
    'SIGKILL of SATURN when %s',
    async (_what, killAt, mustRollBack) => {
      if (!state('known_good').trim()) {
        // Run alone (-t): the node needs a known-good to roll back to first.
        const first = await openControl({ repoDir: hl.repoDir });
        try {
          for (const stage of ['prepare', 'deploy', 'verify'] as const)
            expect((await first.runStage({ node: NODE, stage })).result).toBe('ok');
        } finally {
          await first.close();
        }
      }
      const before = state('known_good').trim();
      writeFileSync(
        join(hl.repoDir, 'hosts', NODE, 'web', 'www', 'index.html'),
        `${killAt.source}\n`,
      );
      const cn = hl.commit(`web: ${killAt.source}`);
      const control = await openControl({ repoDir: hl.repoDir });
      try {
        for (const stage of ['prepare', 'deploy'] as const) {
          const r = await control.runStage({ node: NODE, stage });
          expect(r.result, r.message).toBe('ok');
        }
      } finally {
        await control.close();
      }
      const saturn = spawn(
        join(REPO_ROOT, 'node_modules', '.bin', 'tsx'),
        [
          join(REPO_ROOT, 'test', 'support', 'magic-rollback-saturn.ts'),
          'run',
          'verify',
          '--node',
          NODE,
          '--yes',
        ],
        {
          cwd: hl.repoDir,
          env: { PATH: process.env.PATH, HOME: process.env.HOME },
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
        },
      );
      let seen = '';
      let killed = false;
      const watch = (d: Buffer): void => {
        seen += d.toString();
        if (!killed && killAt.test(seen) && saturn.pid) {
          killed = true;
          process.kill(-saturn.pid, 'SIGKILL');
        }
      };
      saturn.stdout.on('data', watch);
      saturn.stderr.on('data', watch);
      const exit = await new Promise<NodeJS.Signals | number | null>((resolve) =>
        saturn.on('close', (code, sig) => resolve(sig ?? code)),
      );
      expect(killed, seen).toBe(true);
      expect(exit).toBe('SIGKILL');
      const end = await until('the node to settle', 90_000, () => {
        const c = kv(state('confirm'));
        if (c.commit !== cn) return undefined;
        if (c.state === 'rolled-back') return c;
        const alive = /^\d+$/.test(c.watchdog_pid ?? '') && existsSync(`/proc/${c.watchdog_pid}`);
        return c.state === 'confirmed' && !alive ? c : undefined;
      });
      if (mustRollBack || end.state === 'rolled-back') {
        expect(end).toMatchObject({
          state: 'rolled-back',
          rollback_result: 'ok',
          previous: before,
        });
        expect(state('known_good').trim()).toBe(before);
        expect(await served()).not.toBe(`${killAt.source}\n`);
      } else {
        expect(state('known_good').trim()).toBe(cn);
        expect(await served()).toBe(`${killAt.source}\n`);
      }
    },
    240_000,
  );
});
