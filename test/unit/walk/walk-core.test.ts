// The fleet walk's pure core: planning (selection, waves in order, who has work, which run a node
// gets) and the wave reducer (concurrency, canary first, the first failure stops new starts while
// the running nodes finish). Table tests over the real functions.
import { describe, expect, test } from 'vitest';
import type { NodeProbe } from '../../../src/core/node/types.js';
import type { NodeStatusRecord } from '../../../src/core/protocol/events.js';
import { nextStageStep, planWalk, waveStage, type WalkNode } from '../../../src/core/walk/plan.js';
import {
  reduceWave,
  startable,
  startWave,
  summarizeWave,
  waveOver,
  type WaveRun,
} from '../../../src/core/walk/wave.js';
import { parseTopology } from '../../../src/core/inventory/parse.js';
import { formatProblem } from '../../../src/core/problem.js';

const HEAD = 'c0ffee1'.padEnd(40, '0');
const OLD = 'deadbee'.padEnd(40, '0');

function status(over: Partial<NodeStatusRecord> = {}): NodeStatusRecord {
  return {
    node: 'n',
    bootstrapped: true,
    repoCommit: HEAD,
    stage: 'verify',
    stageStatus: 'ok',
    run: 'r',
    target: HEAD,
    deployed: HEAD,
    knownGood: HEAD,
    lock: null,
    services: [],
    ...over,
  };
}
const probe = (node: string, s: NodeStatusRecord): NodeProbe => ({
  node,
  reachable: true,
  status: { ...s, node },
  probedAt: 0,
  latencyMs: 1,
});
const dead = (node: string): NodeProbe => ({
  node,
  reachable: false,
  reason: 'timeout',
  message: 'timed out',
  probedAt: 0,
  latencyMs: 1,
});
const node = (name: string, wave: number, p?: NodeProbe, tags: string[] = []): WalkNode => ({
  name,
  wave,
  tags,
  ...(p ? { probe: p } : {}),
});

describe('planWalk', () => {
  const behind = status({ target: OLD, deployed: OLD, repoCommit: OLD });
  const nodes = [
    node('c', 2, probe('c', behind), ['media']),
    node('a', 0, probe('a', status())),
    node('b', 0, probe('b', behind), ['media']),
    node('d', 1, dead('d')),
    node('e', 1, probe('e', status({ stage: 'prepare', stageStatus: 'failed' }))),
  ];
  test('waves in order; up to date apart; unreachable nodes have work (the walk says why)', () => {
    expect(planWalk(nodes, HEAD, {}).waves).toEqual([
      { wave: 0, todo: ['b'], upToDate: ['a'] },
      { wave: 1, todo: ['d', 'e'], upToDate: [] },
      { wave: 2, todo: ['c'], upToDate: [] },
    ]);
  });
  test.each([
    [{ waves: [1] }, ['d', 'e']],
    [{ nodes: ['a', 'c'] }, ['c', 'a']],
    [{ tags: ['media'] }, ['c', 'b']],
    [{ waves: [0], tags: ['media'] }, ['b']],
    [{ nodes: ['zzz'] }, []],
  ])('selection %j', (sel, selected) => {
    expect(planWalk(nodes, HEAD, sel).selected).toEqual(selected);
  });
});

describe('waveStage: one run per node', () => {
  test.each([
    ['verified at HEAD', status(), null],
    ['behind', status({ target: OLD, deployed: OLD }), 'up'],
    ['never deployed', status({ stage: '', stageStatus: '', target: '', deployed: '' }), 'up'],
    ['prepared at HEAD', status({ stage: 'prepare', deployed: OLD }), 'resume'],
    ['deploy failed at HEAD', status({ stage: 'deploy', stageStatus: 'failed' }), 'resume'],
    [
      'failed at an older target',
      status({ stage: 'deploy', stageStatus: 'failed', target: OLD }),
      'up',
    ],
    ['not bootstrapped', status({ bootstrapped: false }), 'up'],
  ] as const)('%s', (_, s, want) => {
    expect(waveStage(probe('n', s), HEAD)).toBe(want);
  });
  test('unreachable: up (its runStage says unreachable)', () => {
    expect(waveStage(dead('n'), HEAD)).toBe('up');
  });
});

describe('nextStageStep: stage by stage', () => {
  test('the earliest stage first, with every node whose next stage it is', () => {
    const probes = [
      { node: 'a', probe: probe('a', status({ stage: 'prepare', deployed: OLD })) },
      { node: 'b', probe: probe('b', status({ target: OLD, deployed: OLD })) },
      { node: 'c', probe: probe('c', status({ target: OLD, deployed: OLD })) },
    ];
    expect(nextStageStep(probes, HEAD)).toEqual({ stage: 'prepare', nodes: ['b', 'c'] });
    expect(nextStageStep(probes.slice(0, 1), HEAD)).toEqual({ stage: 'deploy', nodes: ['a'] });
    expect(
      nextStageStep([{ node: 'x', probe: probe('x', status({ stageStatus: 'failed' })) }], HEAD),
    ).toEqual({ stage: 'resume', nodes: ['x'] });
    expect(nextStageStep([{ node: 'y', probe: probe('y', status()) }], HEAD)).toBeNull();
  });
});

/** Drives a wave to its end: `fails` fail, the rest succeed, each run ending in start order. */
function drive(run: WaveRun, fails: readonly string[]): { order: string[][]; run: WaveRun } {
  const order: string[][] = [];
  let r = run;
  const running: string[] = [];
  for (let guard = 0; guard < 100 && !waveOver(r); guard++) {
    const starts = startable(r);
    if (starts.length > 0) order.push([...starts]);
    for (const n of starts) {
      r = reduceWave(r, { type: 'started', node: n, stage: 'up' });
      running.push(n);
    }
    const done = running.shift();
    if (!done) break;
    r = fails.includes(done)
      ? reduceWave(r, { type: 'failed', node: done, result: 'failed', message: `${done} broke` })
      : reduceWave(r, { type: 'ok', node: done, durationMs: 1 });
  }
  return { order, run: r };
}

describe('the wave reducer', () => {
  const five = ['a', 'b', 'c', 'd', 'e'];
  test('default: the whole wave at once', () => {
    expect(drive(startWave(0, five), []).order).toEqual([five]);
  });
  test.each([
    [1, [['a'], ['b'], ['c'], ['d'], ['e']]],
    [2, [['a', 'b'], ['c'], ['d'], ['e']]],
    [9, [five]],
  ])('concurrency %i', (concurrency, order) => {
    const { order: got, run } = drive(startWave(0, five, { concurrency }), []);
    expect(got).toEqual(order);
    expect(summarizeWave(run)).toEqual({ ok: five, failed: [], notStarted: [] });
  });
  test('canary: the first alone, then the rest up to the limit', () => {
    expect(drive(startWave(0, five, { canary: true, concurrency: 3 }), []).order).toEqual([
      ['a'],
      ['b', 'c', 'd'],
      ['e'],
    ]);
  });
  test('a failed canary: nothing else starts', () => {
    const { run } = drive(startWave(0, five, { canary: true }), ['a']);
    expect(summarizeWave(run)).toEqual({
      ok: [],
      failed: [{ node: 'a', message: 'a broke' }],
      notStarted: ['b', 'c', 'd', 'e'],
    });
  });
  test('the first failure stops new starts; the running node finishes and is reported', () => {
    // a and b run; a fails; b still ends (ok); c, d, e never start.
    const { run, order } = drive(startWave(0, five, { concurrency: 2 }), ['a']);
    expect(order).toEqual([['a', 'b']]);
    expect(summarizeWave(run)).toEqual({
      ok: ['b'],
      failed: [{ node: 'a', message: 'a broke' }],
      notStarted: ['c', 'd', 'e'],
    });
    expect(run.failedFirst).toBe('a');
  });
  test('two running nodes both failing are both reported; the first is named', () => {
    const { run } = drive(startWave(0, five, { concurrency: 2 }), ['a', 'b']);
    expect(summarizeWave(run).failed.map((f) => f.node)).toEqual(['a', 'b']);
    expect(run.failedFirst).toBe('a');
  });
  test('a canary alone in its wave is just the node', () => {
    expect(startWave(0, ['a'], { canary: true }).canary).toBeUndefined();
  });
});

describe('topology deploy: block', () => {
  const base =
    'homelab: lab\ngit:\n  remote: ssh://git@saturn/srv/homelab.git\nnodes:\n  a:\n    address: a\n';
  test('concurrency and canary are read', () => {
    const r = parseTopology(`${base}deploy:\n  concurrency: 3\n  canary: true\n`);
    expect(r.problems).toEqual([]);
    expect(r.inventory?.deploy).toEqual({ concurrency: 3, canary: true });
  });
  test.each([
    ['  concurrency: 0\n', 'deploy.concurrency: 0 is too small: must be at least 1'],
    ['  concurrency: two\n', 'deploy.concurrency: expected a number'],
    ['  canary: yes please\n', 'deploy.canary: expected true or false'],
    [
      '  paralel: 2\n',
      'deploy.paralel: unknown key "paralel" (valid keys here: concurrency, canary)',
    ],
  ])('bad value %j: file, line, field and the fix', (line, message) => {
    const r = parseTopology(`${base}deploy:\n${line}`, 'inventory/topology.yaml');
    expect(r.inventory).toBeUndefined();
    expect(r.problems.map(formatProblem)[0]).toMatch(/^inventory\/topology\.yaml:8:\d+: /);
    expect(r.problems.map(formatProblem)[0]).toContain(message);
  });
});
