// The guided recover view on a real node over sshd (real deploy.sh, Docker, Git): it opens on a
// failed node, shows why, builds and copies the prompt, rolls back to the known-good commit, and
// resumes after a fix to a healthy node. What the screen shows never holds a secret.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openControl } from '../../../src/shell/control/control.js';
import type { Control } from '../../../src/shell/control/types.js';
import { createRunner } from '../../../src/shell/transport/runner.js';
import type { NodeRunner } from '../../../src/shell/transport/types.js';
import { RecoverSession } from '../../../src/tui/recover/session.js';
import { RecoverPanel } from '../../../src/tui/recover/view.js';
import { createLabHomelab, type LabHomelab } from '../../support/lab-homelab.js';
import { requireLab } from '../../support/lab.js';
import { writeFileSync } from 'node:fs';

const ok = requireLab('docker', 'sshd');
const id = Math.random().toString(36).slice(2, 7);
const NODE = `rs${id}`;
const SECRET = `screen-secret-${id}-K9`;

let lastFrame = (): string => '';

async function until(what: string, cond: () => boolean, ms = 90_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}; the screen shows:\n${lastFrame()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!ok)('guided recover session on a real node', () => {
  let hl: LabHomelab;
  let control: Control;
  let runner: NodeRunner;
  let state: string;
  let good = '';
  let bad = '';
  const written: string[] = [];
  const env = (): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    HOMELAB_STATE_DIR: state,
  });

  const stage = async (s: 'prepare' | 'deploy' | 'verify') =>
    (await control.runStage({ node: NODE, stage: s })).result;

  beforeAll(async () => {
    state = mkdtempSync(join(tmpdir(), 'homelab-recover-view-'));
    hl = await createLabHomelab({
      nodes: [{ name: NODE, services: [{ name: 'web', secrets: ['WEB_TOKEN'] }] }],
      connectTimeout: 3,
    });
    hl.bootstrap(NODE);
    hl.writeEnv(NODE, 'web', `WEB_TOKEN=${SECRET}\n`);
    control = await openControl({ repoDir: hl.repoDir, env: env() });
    runner = createRunner(control.inventory.nodes[0]!, { env: env() });
    for (const s of ['prepare', 'deploy', 'verify'] as const) expect(await stage(s)).toBe('ok');
    const probe = await control.probe(NODE);
    good = probe.reachable ? probe.status.knownGood : '';
    expect(good).toMatch(/^[0-9a-f]{40}$/);
    // A bad commit: the service now crashes on start, printing its token on the way out.
    const compose = join(hl.repoDir, 'hosts', NODE, 'web', 'docker-compose.yml');
    writeFileSync(
      compose,
      readFileSync(compose, 'utf8').replace(
        /command: \[.*\]/,
        'command: ["sh", "-c", "echo starting with $$WEB_TOKEN; echo fatal: config v2 unreadable; exit 2"]',
      ),
    );
    bad = hl.commit('web: config v2');
    expect(await stage('prepare')).toBe('ok');
    const d = await stage('deploy');
    if (d === 'ok') expect(await stage('verify')).toBe('failed');
  }, 240_000);

  afterAll(async () => {
    await runner?.close();
    await control?.close();
    await hl?.cleanup();
    rmSync(state, { recursive: true, force: true });
  });

  it('shows why the node failed, builds and copies the prompt, then rolls back to known-good', async () => {
    const session = new RecoverSession(
      { control, runner, env: env(), now: () => new Date(), writeTerminal: (d) => written.push(d) },
      { node: NODE },
    );
    const view = render(<RecoverPanel session={session} width={130} height={45} />);
    const frame = (): string => view.lastFrame() ?? '';
    lastFrame = frame;
    try {
      await session.start();
      await until('findings', () => frame().includes('service.exited (web)'));
      expect(frame()).toMatch(new RegExp(`Recover ${NODE} · worker — ✗ (deploy|verify) failed`));
      expect(frame()).toContain('exited with code 2');
      expect(frame()).toContain('fatal: config v2 unreadable');
      expect(frame()).toContain(`known-good ${good.slice(0, 8)} "lab homelab`);
      expect(frame()).not.toContain(SECRET);

      session.key('p');
      await until('prompt pane', () => frame().includes('saved: '));
      expect(frame()).toContain('copied to the clipboard (OSC 52)');
      const osc = written.find((w) => w.startsWith('\x1b]52;c;'));
      expect(osc).toBeDefined();
      const copied = Buffer.from((osc as string).slice(7, -1), 'base64').toString('utf8');
      expect(copied).toContain(`# Recover node \`${NODE}\``);
      expect(copied).toContain('starting with [REDACTED]');
      expect(copied).not.toContain(SECRET);
      const path = session.getState().prompt?.path ?? '';
      expect(path.startsWith(join(state, 'recover'))).toBe(true);
      expect(readFileSync(path, 'utf8')).toBe(copied);
      expect(frame()).not.toContain(SECRET);

      // The full log, read on the node and redacted there.
      session.key('esc');
      session.key('l');
      await until('full log', () => frame().includes('full log (redacted)'));
      await until('log lines', () =>
        session
          .getState()
          .log.some((l) => l.startsWith('== ') && l.includes('/logs/deploy/deploy_')),
      );
      expect(session.getState().log.join('\n')).toMatch(/"stage":"(deploy|verify)"/);
      expect(session.getState().log.join('\n')).not.toMatch(
        /@homelab\/1 run \{[^}]*"stage":"diagnose"/,
      );
      expect(session.getState().log.join('\n')).not.toContain(SECRET);
      session.key('esc');
      await until('back to the findings', () => frame().includes(`target ${bad.slice(0, 8)}`));
      // The question before a rollback is the app's one confirmation (tested with the app); the
      // view alone runs what it is given.
      session.key('b');
      await until('rollback to start', () => session.getState().busy === 'rollback');
      await until(
        'rollback and re-diagnose to end',
        () =>
          !session.getState().busy &&
          !session.getState().diagnosing &&
          session
            .getState()
            .findings.some((f) => f.id === 'service.running' && f.service === 'web'),
        180_000,
      );
      expect(frame()).toContain(`rollback ok on ${NODE}`);
      expect(frame()).toContain(`Recover ${NODE} · worker — no failed stage`);
      expect(frame()).not.toMatch(/✗ service\./);
      const after = await control.probe(NODE);
      expect(after.reachable && after.status.deployed).toBe(good);
      expect(after.reachable && after.status.services[0]?.health).toBe('healthy');
      expect(frame()).not.toContain(SECRET);
    } finally {
      view.unmount();
      session.close();
    }
  }, 300_000);

  it('after a missing secret, resume brings the node back once the secret is set', async () => {
    // Deploy SATURN's HEAD again but without the secret: prepare refuses it.
    const fixed = join(hl.repoDir, 'hosts', NODE, 'web', 'docker-compose.yml');
    writeFileSync(
      fixed,
      readFileSync(fixed, 'utf8').replace(
        /command: \[.*\]/,
        'command: ["sh", "-c", "mkdir -p /w; echo ok > /w/index.html; exec httpd -f -p 127.0.0.1:' +
          hl.ports.get(`${NODE}/web`) +
          ' -h /w"]',
      ),
    );
    hl.commit('web: fixed');
    hl.writeEnv(NODE, 'web', 'OTHER=1\n');
    expect(await stage('prepare')).toBe('failed');

    const session = new RecoverSession(
      { control, runner, env: env(), now: () => new Date(), writeTerminal: (d) => written.push(d) },
      { node: NODE },
    );
    const view = render(<RecoverPanel session={session} width={130} height={45} />);
    const frame = (): string => view.lastFrame() ?? '';
    lastFrame = frame;
    try {
      await session.start();
      await until('missing key finding', () => frame().includes('secret.key-missing (web)'));
      expect(frame()).toMatch(
        new RegExp(`Recover ${NODE} · worker — ✗ prepare failed at step secrets`),
      );
      hl.writeEnv(NODE, 'web', `WEB_TOKEN=${SECRET}\n`);
      session.key('r');
      await until('resume to start', () => session.getState().busy === 'resume');
      await until(
        'resume and re-diagnose to end',
        () =>
          !session.getState().busy &&
          !session.getState().diagnosing &&
          session
            .getState()
            .findings.some((f) => f.id === 'service.running' && f.service === 'web'),
        180_000,
      );
      expect(frame()).toContain(`resume ok on ${NODE}`);
      expect(frame()).toContain(`Recover ${NODE} · worker — no failed stage`);
      const after = await control.probe(NODE);
      expect(after.reachable && after.status.stageStatus).toBe('ok');
      expect(after.reachable && after.status.services[0]?.health).toBe('healthy');
      expect(frame()).not.toContain(SECRET);
    } finally {
      view.unmount();
      session.close();
    }
  }, 300_000);
});
