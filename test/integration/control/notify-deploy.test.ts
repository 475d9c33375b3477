// Notifications on the real stack: a deploy that fails on a real node (real deploy.sh, real Docker:
// the container's command does not exist) sends exactly one event to a real HTTP server on
// 127.0.0.1 (node:http), with node, stage, commit, result, who and the first finding, and neither
// the .env secret the failing command holds nor a token-shaped text; a successful stage sends
// nothing. A notifier that fails (a closed port, a command that exits 1, one that hangs past its
// timeout) never changes the stage's outcome and never holds it up.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openControl } from '../../../src/shell/control/control.js';
import type { Control } from '../../../src/shell/control/types.js';
import { freePort } from '../../../src/shell/free-port.js';
import {
  startHttpReceiver,
  type HttpReceiver,
  type Received,
} from '../../support/http-receiver.js';
import { createLabHomelab, type LabHomelab } from '../../support/lab-homelab.js';
import { requireLab } from '../../support/lab.js';

const ok = requireLab('docker');
const NODE = `nt${Math.random().toString(36).slice(2, 7)}`;
const SECRET = `s3cr3t-${Math.random().toString(36).slice(2, 12)}-value`;
const TOKEN = `ghp_${'A1b2C3d4E5'.repeat(3)}abcdef`;

describe.skipIf(!ok)('notify: a failing deploy reaches a local HTTP server, once, redacted', () => {
  let hl: LabHomelab;
  let receiver: HttpReceiver | undefined;
  let url = '';
  let got: Received[] = [];
  const topology = (): string => join(hl.repoDir, 'inventory', 'topology.yaml');
  const open = (onWarning?: (l: string) => void): Promise<Control> =>
    openControl({
      repoDir: hl.repoDir,
      env: { ...process.env, HOMELAB_OPERATOR: "alice o'brien;$(id)" },
      ...(onWarning ? { onWarning } : {}),
    });

  beforeAll(async () => {
    receiver = await startHttpReceiver();
    got = receiver.got;
    url = receiver.url('/homelab-topic');
    hl = await createLabHomelab({
      nodes: [{ name: NODE, services: [{ name: 'web', secrets: ['WEB_TOKEN', 'GH_TOKEN'] }] }],
      transport: 'local',
    });
    hl.bootstrap(NODE);
    hl.writeEnv(NODE, 'web', `WEB_TOKEN=${SECRET}\nGH_TOKEN=${TOKEN}\n`);
    appendFileSync(topology(), `notify:\n  url: ${url}\n  timeoutSeconds: 5\n`);
    // The container's command is a file that does not exist, named after the two secrets of its
    // .env (one token-shaped): `docker compose up` fails with an error that holds both.
    const compose = join(hl.repoDir, 'hosts', NODE, 'web', 'docker-compose.yml');
    writeFileSync(
      compose,
      readFileSync(compose, 'utf8').replace(
        /command: .*/,
        'command: ["/missing/${GH_TOKEN}/${WEB_TOKEN}"]',
      ),
    );
    hl.commit('web: a command that does not exist; notify');
  }, 120_000);

  afterAll(async () => {
    await hl?.cleanup();
    await receiver?.close();
  });

  it('prepare ok sends nothing; the failed deploy sends one event with the fields and no secret', async () => {
    const control = await open();
    try {
      const prepared = await control.runStage({ node: NODE, stage: 'prepare' });
      expect(prepared.result, prepared.message).toBe('ok');
      const deployed = await control.runStage({ node: NODE, stage: 'deploy' });
      expect(deployed.result).toBe('failed');
      await control.close();
      expect(got).toHaveLength(1);
      const [one] = got;
      expect(one?.method).toBe('POST');
      expect(one?.type).toBe('application/json');
      expect(one?.body).not.toContain(SECRET);
      expect(one?.body).not.toContain(TOKEN);
      const ev = JSON.parse(one?.body ?? '{}') as Record<string, unknown>;
      expect(ev).toMatchObject({
        event: 'stage-failed',
        homelab: 'lab',
        node: NODE,
        stage: 'deploy',
        commit: deployed.commit,
        result: 'failed',
        // The operator's name as the node records it: only safe characters.
        who: 'alice_o_brien___id_',
      });
      expect(deployed.commit).toMatch(/^[0-9a-f]{40}$/);
      expect(String(ev.finding)).toMatch(/compose-up web|docker compose up/);
      expect(String(ev.finding)).toContain('[REDACTED]');
      expect(String(ev.at)).toMatch(/^\d{4}-\d\d-\d\dT/);
    } finally {
      await control.close();
    }
  }, 120_000);

  it('a failing notifier (closed port, exit 1, a hang past its timeout) never changes or holds up the outcome', async () => {
    const closed = await freePort();
    const text = readFileSync(topology(), 'utf8').replace(
      /notify:[\s\S]*$/,
      `notify:\n  url: http://127.0.0.1:${closed}/nobody\n  command: [sh, -c, "cat >/dev/null; sleep 30"]\n  timeoutSeconds: 1\n`,
    );
    writeFileSync(topology(), text);
    hl.commit('notify: nobody listens');
    const warnings: string[] = [];
    const control = await open((l) => warnings.push(l));
    const t0 = Date.now();
    try {
      expect((await control.runStage({ node: NODE, stage: 'prepare' })).result).toBe('ok');
      const res = await control.runStage({ node: NODE, stage: 'deploy' });
      expect(res.result).toBe('failed');
      const closeStart = Date.now();
      await control.close();
      expect(Date.now() - closeStart).toBeLessThan(5_000);
      expect(warnings.some((w) => /POST http:\/\/127\.0\.0\.1:\d+\/… failed/.test(w))).toBe(true);
      expect(warnings.some((w) => /did not finish within 1 s \(killed\)/.test(w))).toBe(true);
      expect(warnings.join('\n')).not.toContain('/nobody');
      expect(Date.now() - t0).toBeLessThan(60_000);
    } finally {
      await control.close();
    }
    writeFileSync(
      topology(),
      text.replace(/command: .*\n/, 'command: [sh, -c, "exit 1"]\n').replace(/\n {2}url: .*/, ''),
    );
    hl.commit('notify: a command that fails');
    const w2: string[] = [];
    const c2 = await open((l) => w2.push(l));
    try {
      expect((await c2.runStage({ node: NODE, stage: 'prepare' })).result).toBe('ok');
      const res = await c2.runStage({ node: NODE, stage: 'deploy' });
      expect(res.result).toBe('failed');
      await c2.close();
      expect(w2).toEqual(['notify: sh exited 1']);
    } finally {
      await c2.close();
    }
  }, 120_000);
});
