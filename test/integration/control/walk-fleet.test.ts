// The fleet walk end to end (issue 13): five nodes in one wave, each behind its own real sshd on
// loopback, the real deploy.sh and the real Docker engine. `homelab deploy` and the TUI's walk
// (TuiController.deployAll, headless) drive the same engine (src/shell/control/walk.ts).
//
// One homelab, in order: the wave deploys in parallel (the node logs' runs overlap); an unchanged
// fleet runs nothing; a failure stops new starts after the running node finishes, naming it; the
// CLI and the TUI walk give the same result on the same state (a canary that fails); the operator
// recovers the failed node and the TUI offers to go on; per-stage confirmation asks each stage and
// declining runs nothing.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeEvent } from '../../../src/core/protocol/events.js';
import { openControl } from '../../../src/shell/control/control.js';
import type { Control } from '../../../src/shell/control/types.js';
import { TuiController } from '../../../src/tui/controller.js';
import { LogStore } from '../../../src/tui/log-store.js';
import { initialState } from '../../../src/tui/state/reducer.js';
import { createAppStore, type AppStore } from '../../../src/tui/state/store.js';
import { runCli } from '../../support/cli.js';
import { createLabHomelab, type LabHomelab } from '../../support/lab-homelab.js';
import { requireLab } from '../../support/lab.js';
import { eventsOf } from '../../support/node-fixture.js';

const ok = requireLab('docker', 'sshd');
const id = Math.random().toString(36).slice(2, 6);
const NODES = ['a', 'b', 'c', 'd', 'e'].map((n) => `w${n}${id}`);
const [A, B] = NODES as [string, string];

interface Run {
  readonly stage: string;
  readonly start: number;
  readonly end: number;
  readonly exit: number | undefined;
  readonly stages: readonly string[];
}

describe.skipIf(!ok)('the fleet walk over sshd: a wave in parallel, one run per node', () => {
  let hl: LabHomelab;
  const env = { PATH: process.env.PATH, HOME: process.env.HOME };
  const cli = (args: string[], answers?: string[]) =>
    runCli(args, { cwd: hl.repoDir, env, ...(answers ? { answers } : {}) });

  /** The runs a node's logs hold, oldest first (one log per run). */
  const runsOf = (node: string): Run[] => {
    const dir = join(hl.rootOf(node), 'logs', 'deploy');
    return readdirSync(dir)
      .filter((f) => f.startsWith('deploy_') && f.endsWith('.log'))
      .sort()
      .map((f) => {
        const evs: NodeEvent[] = eventsOf(readFileSync(join(dir, f), 'utf8'));
        const run = evs.find((e) => e.type === 'run');
        const end = evs.find((e) => e.type === 'run-end');
        return {
          stage: run?.type === 'run' ? run.stage : '?',
          start: run?.ts ?? 0,
          end: end?.ts ?? Infinity,
          exit: end?.type === 'run-end' ? end.exit : undefined,
          stages: evs.flatMap((e) => (e.type === 'stage-start' ? [e.stage] : [])),
        };
      })
      .filter((r) => r.stage !== '?');
  };
  const counts = (): number[] => NODES.map((n) => runsOf(n).length);
  /** Changes every node's page: each node has work at the new HEAD. */
  const changeAll = (why: string): string => {
    for (const n of NODES)
      writeFileSync(join(hl.repoDir, 'hosts', n, 'web', 'www', 'index.html'), `${n} ${why}\n`);
    return hl.commit(why);
  };
  const setDeploy = (yaml: string): void => {
    const file = join(hl.repoDir, 'inventory', 'topology.yaml');
    const text = readFileSync(file, 'utf8').replace(/\ndeploy:\n(?: {2}.*\n)*/, '\n');
    writeFileSync(file, `${text}${yaml ? `deploy:\n${yaml}` : ''}`);
  };

  /** A headless TUI: the real controller and store over a real Control, answering each question. */
  async function tui(answer: (title: string) => boolean) {
    const control: Control = await openControl({ repoDir: hl.repoDir, env });
    const store: AppStore = createAppStore(
      initialState({ homelab: control.inventory.homelab, nodes: control.inventory.nodes }),
    );
    const logs = new LogStore(500, 10);
    const controller = new TuiController(control, store, logs, { refreshMs: 0 });
    const asked: string[] = [];
    const unsubscribe = store.subscribe(() => {
      const mode = store.getState().mode;
      if (mode.kind !== 'confirm') return;
      const title = mode.request.title;
      if (asked.at(-1) === title && store.getState().mode === mode) return;
      asked.push(title);
      queueMicrotask(() => controller.answer(answer(title)));
    });
    const close = async (): Promise<void> => {
      unsubscribe();
      await controller.stop();
      logs.dispose();
      await control.close();
    };
    return { controller, store, asked, close };
  }

  beforeAll(async () => {
    hl = await createLabHomelab({
      nodes: NODES.map((name) => ({
        name,
        wave: 0,
        services: name === A ? [{ name: 'web', secrets: ['WEB_TOKEN'] }] : ['web'],
      })),
      connectTimeout: 5,
    });
    for (const n of NODES) hl.bootstrap(n);
    hl.writeEnv(A, 'web', 'WEB_TOKEN=walk-token\n');
  }, 120_000);
  afterAll(async () => {
    await hl?.cleanup();
  });

  it('deploys a wave of 5 nodes at once: one up run each, their runs overlap in the node logs', async () => {
    const r = await cli(['deploy', '--yes']);
    expect(r.stderr).toContain(`wave 0: to deploy ${NODES.join(', ')}`);
    expect(r.stderr).toMatch(/deployed 5 nodes at [0-9a-f]{7}/);
    expect(r.code).toBe(0);
    const runs = NODES.map((n) => runsOf(n));
    for (const list of runs) {
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({
        stage: 'up',
        exit: 0,
        stages: ['prepare', 'deploy', 'verify'],
      });
    }
    // Every run started before any of them ended: they ran at the same time.
    const lastStart = Math.max(...runs.map((l) => l[0]!.start));
    const firstEnd = Math.min(...runs.map((l) => l[0]!.end));
    expect(lastStart).toBeLessThan(firstEnd);
    const s = JSON.parse((await cli(['status', '--json'])).stdout) as {
      nodes: Array<{ node: string; health: string; stage: string; stageStatus: string }>;
    };
    for (const n of s.nodes)
      expect(n).toMatchObject({ health: 'healthy', stage: 'verify', stageStatus: 'ok' });
  }, 120_000);

  it('an unchanged fleet runs nothing: one status call per node, exit 0', async () => {
    const before = counts();
    const r = await cli(['deploy', '--yes']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('every selected node is up to date');
    expect(r.stderr).toContain(`up to date ${NODES.join(', ')}`);
    expect(counts()).toEqual(before);
  }, 60_000);

  it('a failure stops new starts; the running node finishes and is reported; the walk names it', async () => {
    // Two at a time; A's secret is gone, so its prepare fails while B runs.
    setDeploy('  concurrency: 2\n');
    hl.writeEnv(A, 'web', 'OTHER=1\n');
    changeAll('v2');
    const before = counts();
    const r = await cli(['deploy', '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`${A}: ✗ up failed: .*missing WEB_TOKEN`));
    expect(r.stderr).toMatch(new RegExp(`${B}: ✓ up ok`));
    expect(r.stderr).toContain(`deploy stopped in wave 0: ${A} failed`);
    expect(r.stderr).toContain(`not started: ${NODES.slice(2).join(', ')}`);
    const after = counts();
    expect(after.map((c, i) => c - before[i]!)).toEqual([1, 1, 0, 0, 0]);
    expect(runsOf(B).at(-1)).toMatchObject({ stage: 'up', exit: 0 });
    expect(runsOf(A).at(-1)).toMatchObject({ stage: 'up', exit: 1, stages: ['prepare'] });
  }, 120_000);

  it('the CLI and the TUI walk give the same result (a failing canary); recovered, the TUI walk goes on', async () => {
    setDeploy('  canary: true\n');
    hl.commit('canary');
    const before = counts();
    const r = await cli(['deploy', '--yes']);
    expect(r.code).toBe(1);
    const t = await tui(() => true);
    try {
      const result = await t.controller.deployAll(true);
      expect(t.asked).toEqual(['Deploy wave 0 (5 nodes)?']);
      // Both: A (the canary) failed, nothing else started.
      expect(result).toMatchObject({ ok: false, deployed: [], notStarted: NODES.slice(1) });
      expect(result?.failed.map((f) => f.node)).toEqual([A]);
      expect(r.stderr).toContain(`deploy stopped in wave 0: ${A} failed`);
      expect(r.stderr).toContain(`not started: ${NODES.slice(1).join(', ')}`);
      expect(t.store.getState().notice?.text).toContain(`deploy walk stopped at ${A}:`);
      expect(t.store.getState().selected).toBe(A);
      expect(counts().map((c, i) => c - before[i]!)).toEqual([2, 0, 0, 0, 0]);

      // The operator fixes the cause and resumes A (as the recover view's r does): the walk offers
      // to go on from wave 0, and does.
      hl.writeEnv(A, 'web', 'WEB_TOKEN=walk-token\n');
      const resumed = await t.controller.requestStage(A, 'resume');
      expect(resumed).toMatchObject({ result: 'ok' });
      const end = Date.now() + 90_000;
      while (!t.store.getState().notice?.text.includes('every node is up to date')) {
        if (Date.now() > end) throw new Error(`walk did not go on: ${t.asked.join(' | ')}`);
        await new Promise((res) => setTimeout(res, 100));
      }
      expect(t.asked).toEqual([
        'Deploy wave 0 (5 nodes)?',
        `Run resume on ${A}?`,
        `${A} is recovered: continue the deploy walk from wave 0?`,
        'Deploy wave 0 (4 nodes)?',
      ]);
    } finally {
      await t.close();
    }
    expect(counts().map((c, i) => c - before[i]!)).toEqual([3, 1, 1, 1, 1]);
    const s = JSON.parse((await cli(['status', '--json'])).stdout) as {
      nodes: Array<{ node: string; behind: number | null; stageStatus: string; health: string }>;
    };
    for (const n of s.nodes)
      expect(n).toMatchObject({ behind: 0, stageStatus: 'ok', health: 'healthy' });
  }, 180_000);

  it('per-stage: each stage confirmed for the wave, one run per stage; declining runs nothing', async () => {
    setDeploy('');
    changeAll('v3');
    const before = counts();
    const no = await cli(['deploy', '--per-stage'], ['n']);
    expect(no.code).toBe(1);
    expect(no.stdout).toContain('Run prepare on wave 0 (5 nodes) at');
    expect(no.stderr).toContain('declined, nothing ran');
    expect(counts()).toEqual(before);

    // Two of the nodes, selected by name: each stage asked for both, both run it together.
    const two = NODES.slice(1, 3);
    const yes = await cli(
      ['deploy', '--per-stage', ...two.flatMap((n) => ['--node', n])],
      ['y', 'y', 'y'],
    );
    expect(yes.stderr).toMatch(/deployed 2 nodes/);
    expect(yes.code).toBe(0);
    expect(yes.stdout.match(/Run \w+ on wave 0 \(2 nodes\)/g)).toEqual([
      'Run prepare on wave 0 (2 nodes)',
      'Run deploy on wave 0 (2 nodes)',
      'Run verify on wave 0 (2 nodes)',
    ]);
    expect(counts().map((c, i) => c - before[i]!)).toEqual([0, 3, 3, 0, 0]);
    for (const n of two)
      expect(
        runsOf(n)
          .slice(-3)
          .map((r) => [r.stage, r.exit]),
      ).toEqual([
        ['prepare', 0],
        ['deploy', 0],
        ['verify', 0],
      ]);
  }, 180_000);
});
