import { describe, expect, test } from 'vitest';
import {
  initialState,
  reducer,
  selectedNode,
  visibleNodes,
  type Action,
  type AppState,
} from '../../../src/tui/state/reducer.js';
import { pipeline } from '../../../src/tui/views/format.js';
import { HEAD, NODES, REPO, mixedProbes } from './fixtures.js';

function apply(state: AppState, ...actions: Action[]): AppState {
  return actions.reduce(reducer, state);
}

const base = (): AppState =>
  apply(
    initialState({ homelab: 'mesh-lab', nodes: NODES }),
    { type: 'repo', repo: REPO },
    ...mixedProbes().map((probe): Action => ({ type: 'probe', probe })),
  );

describe('app reducer', () => {
  test('nodes are ordered by wave, then inventory order, and the first is selected', () => {
    const s = initialState({ homelab: 'x', nodes: [NODES[3]!, NODES[1]!, NODES[0]!, NODES[2]!] });
    expect(s.nodes.map((n) => n.spec.name)).toEqual(['gateway', 'saturn', 'solaria', 'vega']);
    expect(s.selected).toBe('gateway');
    expect(s.loading).toBe(true);
  });

  test.each([
    { moves: [1], want: 'saturn' },
    { moves: [1, 1, 1], want: 'vega' },
    { moves: [1, 1, 1, 1, 1], want: 'vega' },
    { moves: [-1], want: 'gateway' },
    { moves: [1, 1, -1], want: 'saturn' },
  ])('moving $moves selects $want and stops at the ends', ({ moves, want }) => {
    const s = apply(base(), ...moves.map((delta): Action => ({ type: 'move', delta })));
    expect(s.selected).toBe(want);
  });

  test('filtering matches name, role or tag, moves the selection onto a match and moves only among matches', () => {
    let s = apply(base(), { type: 'filter-type', text: 'gp' }, { type: 'filter-type', text: 'u' });
    expect(visibleNodes(s).map((n) => n.spec.name)).toEqual(['solaria']);
    expect(s.selected).toBe('solaria');
    s = apply(
      s,
      { type: 'filter-erase' },
      { type: 'filter-erase' },
      { type: 'filter-erase' },
      { type: 'filter-type', text: 'a' },
    );
    expect(visibleNodes(s).map((n) => n.spec.name)).toEqual([
      'gateway',
      'saturn',
      'solaria',
      'vega',
    ]);
    s = apply(base(), { type: 'filter-type', text: 'dns' }, { type: 'move', delta: 1 });
    expect(s.selected).toBe('gateway');
  });

  test('a stage run builds the pipeline from protocol events: steps, results and durations', () => {
    const s = apply(
      base(),
      { type: 'stage-start', node: 'gateway', stage: 'resume', commit: HEAD, at: 1000 },
      {
        type: 'node-event',
        node: 'gateway',
        event: {
          type: 'run',
          ts: 1,
          run: 'r9',
          stage: 'resume',
          node: 'gateway',
          commit: HEAD,
          log: '/opt/homelab/logs/deploy/deploy_1.log',
          pid: 42,
        },
      },
      {
        type: 'node-event',
        node: 'gateway',
        event: { type: 'stage-start', ts: 2, stage: 'prepare' },
      },
      {
        type: 'node-event',
        node: 'gateway',
        event: { type: 'step', ts: 3, stage: 'prepare', step: 'fetch', status: 'start' },
      },
      {
        type: 'node-event',
        node: 'gateway',
        event: {
          type: 'step',
          ts: 4,
          stage: 'prepare',
          step: 'fetch',
          status: 'ok',
          durationMs: 120,
        },
      },
      {
        type: 'node-event',
        node: 'gateway',
        event: { type: 'stage-end', ts: 5, stage: 'prepare', result: 'ok', durationMs: 1500 },
      },
      {
        type: 'node-event',
        node: 'gateway',
        event: { type: 'stage-start', ts: 6, stage: 'deploy' },
      },
    );
    const run = selectedNode(s)?.run;
    expect(run?.running).toBe(true);
    expect(run?.logPath).toBe('/opt/homelab/logs/deploy/deploy_1.log');
    expect(run?.stages).toEqual([
      { stage: 'prepare', status: 'ok', durationMs: 1500 },
      { stage: 'deploy', status: 'running' },
    ]);
    // The step's end replaced its start.
    expect(run?.steps).toEqual([
      { stage: 'prepare', step: 'fetch', status: 'ok', durationMs: 120 },
    ]);
  });

  test('a run that ends without its stage-end marks the open stage failed and keeps the outcome', () => {
    const s = apply(
      base(),
      { type: 'stage-start', node: 'gateway', stage: 'deploy', commit: HEAD, at: 0 },
      {
        type: 'node-event',
        node: 'gateway',
        event: { type: 'stage-start', ts: 1, stage: 'deploy' },
      },
      {
        type: 'stage-end',
        node: 'gateway',
        outcome: {
          node: 'gateway',
          stage: 'deploy',
          commit: HEAD,
          result: 'unreachable',
          exitCode: null,
          message: 'connection lost',
          durationMs: 900,
        },
      },
    );
    const run = selectedNode(s)?.run;
    expect(run?.running).toBe(false);
    expect(run?.stages).toEqual([{ stage: 'deploy', status: 'failed' }]);
    expect(run?.outcome).toEqual({
      result: 'unreachable',
      message: 'connection lost',
      exitCode: null,
      durationMs: 900,
    });
  });

  test('the step list stays bounded however many steps a run reports', () => {
    let s = apply(base(), {
      type: 'stage-start',
      node: 'gateway',
      stage: 'deploy',
      commit: HEAD,
      at: 0,
    });
    for (let i = 0; i < 500; i++)
      s = reducer(s, {
        type: 'node-event',
        node: 'gateway',
        event: { type: 'step', ts: i, stage: 'deploy', step: `s${i}`, status: 'ok' },
      });
    expect(selectedNode(s)?.run?.steps.length).toBe(200);
  });

  test('log scrolling stays between the live end and the oldest line', () => {
    let s = apply(base(), { type: 'scroll', delta: 10, max: 4 });
    expect(s.logScroll).toBe(4);
    s = apply(s, { type: 'scroll', delta: -100, max: 4 });
    expect(s.logScroll).toBe(0);
  });

  test('an event for a node without a run, or an unknown node, changes nothing', () => {
    const s = base();
    expect(
      reducer(s, {
        type: 'node-event',
        node: 'gateway',
        event: { type: 'stage-start', ts: 1, stage: 'deploy' },
      }),
    ).toBe(s);
    expect(reducer(s, { type: 'probe', probe: { ...mixedProbes()[0]!, node: 'nobody' } })).toBe(s);
  });

  test("the pipeline keeps each stage's result and duration across runs; a new prepare starts it afresh", () => {
    const stageRun = (
      stage: 'prepare' | 'deploy',
      result: 'ok' | 'failed',
      ms: number,
    ): Action[] => [
      { type: 'stage-start', node: 'gateway', stage, commit: HEAD, at: 0 },
      { type: 'node-event', node: 'gateway', event: { type: 'stage-start', ts: 1, stage } },
      {
        type: 'node-event',
        node: 'gateway',
        event: { type: 'stage-end', ts: 2, stage, result, durationMs: ms },
      },
      {
        type: 'stage-end',
        node: 'gateway',
        outcome: {
          node: 'gateway',
          stage,
          commit: HEAD,
          result,
          exitCode: result === 'ok' ? 0 : 1,
          message: '',
          durationMs: ms,
        },
      },
    ];
    let s = apply(
      base(),
      ...stageRun('prepare', 'ok', 1200),
      ...stageRun('deploy', 'failed', 3400),
    );
    expect(pipeline(selectedNode(s)!).slice(0, 2)).toEqual([
      { stage: 'prepare', mark: 'ok', durationMs: 1200 },
      { stage: 'deploy', mark: 'failed', durationMs: 3400 },
    ]);
    s = apply(
      s,
      { type: 'stage-start', node: 'gateway', stage: 'prepare', commit: HEAD, at: 0 },
      {
        type: 'node-event',
        node: 'gateway',
        event: { type: 'stage-start', ts: 3, stage: 'prepare' },
      },
    );
    expect(pipeline(selectedNode(s)!).map((c) => c.mark)).toEqual([
      'running',
      'pending',
      'pending',
    ]);
  });
});
