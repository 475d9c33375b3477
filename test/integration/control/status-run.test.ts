// `homelab status` and `homelab run` on SATURN, end to end: a real homelab repo, nodes behind real
// sshd servers on loopback, the real deploy.sh on each node and the real Docker engine.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';
import { createLabHomelab, type LabHomelab } from '../../support/lab-homelab.js';
import { requireLab } from '../../support/lab.js';

const ok = requireLab('docker', 'sshd');
const id = Math.random().toString(36).slice(2, 7);
const A = `sa${id}`;
const B = `sb${id}`;
const DEAD = `sd${id}`;
const SECRET = `s3cret-${id}-value`;

interface StatusJson {
  head: string;
  nodes: Array<{
    node: string;
    reachable: boolean;
    reason: string | null;
    bootstrapped: boolean;
    health: string;
    stage: string;
    stageStatus: string;
    behind: number | null;
    deployed: string;
    services: Array<{ name: string; state: string; health: string }>;
  }>;
}

describe.skipIf(!ok)('homelab status and run over sshd', () => {
  let hl: LabHomelab;
  const cli = (args: string[], answers?: string[]) =>
    runCli(args, {
      cwd: hl.repoDir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      ...(answers ? { answers } : {}),
    });
  const status = async (): Promise<StatusJson> =>
    JSON.parse((await cli(['status', '--json'])).stdout) as StatusJson;
  const node = (s: StatusJson, name: string) => s.nodes.find((n) => n.node === name)!;

  beforeAll(async () => {
    hl = await createLabHomelab({
      nodes: [
        { name: A, services: ['web', { name: 'api', secrets: ['API_TOKEN'] }] },
        { name: B, services: ['web'] },
      ],
      deadNodes: [DEAD],
      connectTimeout: 2,
    });
  });
  afterAll(async () => {
    await hl?.cleanup();
  });

  it('reports reachable-but-not-bootstrapped and unreachable nodes, the dead one within its timeout', async () => {
    const t0 = Date.now();
    const res = await cli(['status', '--json']);
    const took = Date.now() - t0;
    expect(res.code).toBe(1);
    const s = JSON.parse(res.stdout) as StatusJson;
    expect(node(s, A)).toMatchObject({
      reachable: true,
      bootstrapped: false,
      health: 'not-bootstrapped',
    });
    expect(node(s, DEAD)).toMatchObject({ reachable: false, health: 'unreachable' });
    expect(node(s, DEAD).reason).toMatch(/no-route|refused|timeout/);
    expect(took).toBeLessThan(2_000 + 3_000);
    const table = await cli(['status']);
    expect(table.stdout).toMatch(new RegExp(`${DEAD}\\s+0\\s+worker\\s+unreachable`));
    expect(table.stdout).toContain(`homelab node bootstrap ${A}`);
  });

  it('refuses to run a changing stage without a terminal or --yes, and nothing reaches the node', async () => {
    hl.bootstrap(A);
    hl.bootstrap(B);
    const res = await cli(['run', 'prepare', '--node', A]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('pass --yes');
    expect(existsSync(join(hl.rootOf(A), 'state', 'deploy', 'current_stage'))).toBe(false);
  });

  it('asks first, names node, stage, commit and services, and a "no" runs nothing', async () => {
    const res = await cli(['run', 'prepare', '--node', A], ['n']);
    expect(res.stdout).toMatch(
      new RegExp(`prepare ${A} at [0-9a-f]{7} "lab homelab" — services: web, api\\.`),
    );
    expect(res.stdout).toContain('Nothing was run.');
    expect(res.code).toBe(1);
    expect(existsSync(join(hl.rootOf(A), 'state', 'deploy', 'current_stage'))).toBe(false);
  });

  it('stops prepare on a missing secret, naming the .env file, and the exit code says failed', async () => {
    const res = await cli(['run', 'prepare', '--node', A, '--yes']);
    expect(res.code).toBe(1);
    expect(res.stdout + res.stderr).toContain(join(hl.rootOf(A), 'config', 'api', '.env'));
    expect(res.stderr).toMatch(/prepare failed/);
  });

  it('takes a node through prepare, deploy and verify; status then says healthy and up to date', async () => {
    hl.writeEnv(A, 'api', `API_TOKEN=${SECRET}\n`);
    for (const stage of ['prepare', 'deploy', 'verify']) {
      const res = await cli(['run', stage, '--node', A, '--yes']);
      expect(res.stderr, `${stage}: ${res.stdout}\n${res.stderr}`).toContain(`${stage} ok on ${A}`);
      expect(res.code).toBe(0);
      expect(res.stdout + res.stderr).not.toContain(SECRET);
    }
    const body = await fetch(`http://127.0.0.1:${hl.ports.get(`${A}/web`)}/`).then((r) => r.text());
    expect(body).toBe(`${A}/web\n`);
    const s = await status();
    expect(node(s, A)).toMatchObject({
      reachable: true,
      bootstrapped: true,
      health: 'healthy',
      stage: 'verify',
      stageStatus: 'ok',
      behind: 0,
      deployed: s.head,
    });
    expect(
      node(s, A)
        .services.map((x) => `${x.name}:${x.state}:${x.health}`)
        .sort(),
    ).toEqual(['api:running:healthy', 'web:running:healthy']);
  });

  it('counts commits behind after SATURN moves on', async () => {
    writeFileSync(join(hl.repoDir, 'hosts', A, 'web', 'www', 'index.html'), 'v2\n');
    hl.commit('web: v2');
    const s = await status();
    expect(node(s, A).behind).toBe(1);
    expect((await cli(['status'])).stdout).toMatch(new RegExp(`${A}.*1 behind`));
  });

  it('refuses while SATURN has uncommitted changes under hosts/, listing them, and runs nothing', async () => {
    const stateBefore = readFileSync(
      join(hl.rootOf(A), 'state', 'deploy', 'current_stage'),
      'utf8',
    );
    writeFileSync(join(hl.repoDir, 'hosts', A, 'web', 'www', 'index.html'), 'uncommitted\n');
    const res = await cli(['run', 'prepare', '--node', A, '--yes']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`hosts/${A}/web/www/index.html`);
    expect(res.stderr).toContain('commit them first');
    expect(readFileSync(join(hl.rootOf(A), 'state', 'deploy', 'current_stage'), 'utf8')).toBe(
      stateBefore,
    );
    hl.commit('web: v3');
  });

  it('runs nothing on any node from an invalid inventory, and names file, line and field', async () => {
    const topo = join(hl.repoDir, 'inventory', 'topology.yaml');
    const good = readFileSync(topo, 'utf8');
    const sshdLog = hl.labs.get(B)!.logFile;
    const logBefore = readFileSync(sshdLog, 'utf8');
    appendFileSync(topo, 'servises: []\n');
    try {
      for (const args of [['status'], ['run', 'verify', '--node', B, '--yes']]) {
        const res = await cli(args);
        expect(res.code).toBe(1);
        expect(res.stderr).toMatch(
          /inventory\/topology\.yaml:\d+:1: servises: unknown key "servises"/,
        );
        expect(res.stderr).toContain('nothing was run on any node');
      }
      expect(readFileSync(sshdLog, 'utf8')).toBe(logBefore);
    } finally {
      writeFileSync(topo, good);
    }
  });
});
