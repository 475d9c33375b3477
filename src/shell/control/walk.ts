// The fleet walk's driver: the one implementation behind `homelab deploy` and the TUI's D. Waves in
// order; in each, one confirmation and one run per node (`up`, or `resume` when the node already
// works towards HEAD), the nodes at once up to the topology's concurrency, a canary first when
// asked; or each stage confirmed and run on the wave's nodes together. The first failure stops new
// starts; the running ones finish and are reported. Decisions are core/walk's; this file runs them
// through the Control (planStage, then runStage pinned to the confirmed commit).
import type { NodeProbe, StageOutcome } from '../../core/node/types.js';
import type { NodeLine, Stage } from '../../core/protocol/events.js';
import {
  nextStageStep,
  planWalk,
  waveStage,
  withWork,
  type Granularity,
  type WalkSelection,
} from '../../core/walk/plan.js';
import {
  reduceWave,
  startable,
  startWave,
  summarizeWave,
  waveOver,
  type WaveRun,
} from '../../core/walk/wave.js';
import type { Control, StagePlan } from './types.js';

/** What the operator is asked before a step of the walk runs anything. */
export interface WalkQuestion {
  readonly wave: number;
  /** `up`/`resume` mixed in a wave-at-once step: `stage` is then the one most nodes run. */
  readonly granularity: Granularity;
  readonly stage: Stage;
  /** Node -> the stage it will run. */
  readonly stages: Readonly<Record<string, Stage>>;
  readonly nodes: readonly string[];
  /** The plan of each node: the commit it is pinned to, the services it touches. */
  readonly plans: readonly StagePlan[];
}

export type WalkEvent =
  | { readonly type: 'probe'; readonly probe: NodeProbe }
  | {
      readonly type: 'wave';
      readonly wave: number;
      readonly todo: readonly string[];
      readonly upToDate: readonly string[];
    }
  | { readonly type: 'node-start'; readonly node: string; readonly stage: Stage; commit: string }
  | { readonly type: 'node-stage'; readonly node: string; readonly stage: Stage }
  | { readonly type: 'node-line'; readonly node: string; readonly line: NodeLine }
  | { readonly type: 'node-end'; readonly node: string; readonly outcome: StageOutcome }
  | { readonly type: 'refused'; readonly node: string; readonly why: string }
  | { readonly type: 'declined'; readonly wave: number; readonly stage: Stage };

/** How the walk ended. `ok`: every selected node verified at HEAD. */
export interface WalkResult {
  readonly ok: boolean;
  readonly head: string;
  /** Nodes that were verified at HEAD before the walk (nothing ran there). */
  readonly upToDate: readonly string[];
  /** Nodes whose run(s) this walk ended ok. */
  readonly deployed: readonly string[];
  readonly failed: ReadonlyArray<{ readonly node: string; readonly message: string }>;
  /** Selected nodes that never started (the walk stopped before them). */
  readonly notStarted: readonly string[];
  /** The operator said no (nothing ran from that question on). */
  readonly declined: boolean;
  /** Refused before anything ran (uncommitted changes, push first, a node that would refuse). */
  readonly refused?: { readonly node: string; readonly why: string };
  /** The wave the walk stopped in (failure, refusal or no). */
  readonly stoppedWave?: number;
}

/** How a node's run is started: the Control's runStage, or a caller's wrapper around it (the TUI). */
export type RunNode = (
  node: string,
  stage: Stage,
  commit: string,
  onLine: (line: NodeLine) => void,
) => Promise<StageOutcome>;

export interface WalkOptions {
  readonly control: Control;
  readonly selection?: WalkSelection;
  readonly granularity: Granularity;
  /** Asked before each step; false stops the walk with nothing more run. */
  readonly confirm: (q: WalkQuestion) => Promise<boolean>;
  readonly onEvent?: (ev: WalkEvent) => void;
  /** Defaults to control.runStage. */
  readonly run?: RunNode;
  /** Probes already read (the TUI's), else the walk probes every selected node once. */
  readonly probes?: readonly NodeProbe[];
  /** Start at this wave (the TUI's "continue the walk" after a recovered node). */
  readonly fromWave?: number;
  /**
   * The work instead of what HEAD asks (an images update: the nodes with updatable services): the
   * nodes to run, each with its stage; the selected nodes not in it have nothing to do.
   */
  readonly work?: ReadonlyMap<string, Stage>;
  readonly signal?: AbortSignal;
}

/** A stage-by-stage walk runs at most this many steps in one wave (guards loops). */
const MAX_STEPS_PER_WAVE = 8;

export async function walkFleet(opts: WalkOptions): Promise<WalkResult> {
  const result = await walk(opts);
  // The topology's notify: hears how every walk ended (never throws, never waits).
  opts.control.notifyWalkEnd?.(result);
  return result;
}

async function walk(opts: WalkOptions): Promise<WalkResult> {
  const { control } = opts;
  const emit = (ev: WalkEvent): void => opts.onEvent?.(ev);
  const run: RunNode =
    opts.run ??
    ((node, stage, commit, onLine) =>
      control.runStage({
        node,
        stage,
        ...(commit ? { commit } : {}),
        onLine,
        ...(opts.signal ? { signal: opts.signal } : {}),
      }));
  // SATURN's HEAD is read while the nodes are probed: neither waits for the other.
  const reading = control.repoInfo();
  const specs = control.inventory.nodes;
  const probes = new Map<string, NodeProbe>();
  for (const p of opts.probes ?? []) probes.set(p.node, p);
  const sel = opts.selection ?? {};
  // One status call per selected node, all at once: an unchanged fleet costs nothing more.
  const wanted = planWalk(
    specs.map((s) => ({ name: s.name, wave: s.wave, tags: s.tags })),
    '',
    sel,
  ).selected;
  const [{ head }] = await Promise.all([
    reading,
    ...wanted
      .filter((n) => !probes.has(n))
      .map(async (n) => {
        const p = await control.probe(n, opts.signal);
        probes.set(n, p);
        emit({ type: 'probe', probe: p });
      }),
  ]);
  const planned = planWalk(
    specs.map((s) => {
      const probe = probes.get(s.name);
      return { name: s.name, wave: s.wave, tags: s.tags, ...(probe ? { probe } : {}) };
    }),
    head,
    sel,
  );
  // An images update names its own work (the nodes with updatable services), else HEAD's.
  const plan = withWork(planned, opts.work);
  const upToDate = plan.waves.flatMap((w) => w.upToDate);
  const deployed: string[] = [];
  const failed: Array<{ node: string; message: string }> = [];
  const pace = control.inventory.deploy ?? {};
  const waveOpts = {
    ...(pace.concurrency ? { concurrency: pace.concurrency } : {}),
    ...(pace.canary ? { canary: true } : {}),
  };
  const end = (
    extra: Partial<Pick<WalkResult, 'declined' | 'refused' | 'stoppedWave'>> = {},
  ): WalkResult => {
    const done = new Set([...upToDate, ...deployed, ...failed.map((f) => f.node)]);
    return {
      ok:
        failed.length === 0 &&
        !extra.declined &&
        !extra.refused &&
        plan.selected.every((n) => done.has(n)),
      head,
      upToDate,
      deployed,
      failed,
      notStarted: plan.selected.filter((n) => !done.has(n)),
      declined: extra.declined ?? false,
      ...extra,
    };
  };

  type Stop = Partial<Pick<WalkResult, 'declined' | 'refused' | 'stoppedWave'>>;
  /** Asks, then runs one step: `stages` per node. Returns why the walk stops, or null. */
  const step = async (
    wave: number,
    granularity: Granularity,
    stages: ReadonlyMap<string, Stage>,
  ): Promise<{ readonly stop: Stop | null; readonly ok: readonly string[] }> => {
    const nodes = [...stages.keys()];
    const plans = await Promise.all(
      nodes.map(async (n) => {
        const stage = stages.get(n) ?? 'up';
        const p = await control.planStage(n, stage, opts.signal);
        const probe = probes.get(n);
        if (p.refusal || !probe?.reachable || stage !== 'up') return p;
        // `up` reads no status: the services it touches are those changed since what the node runs.
        const services = await control
          .changedServices(n, probe.status.deployed)
          .catch(() => p.services);
        return { ...p, services, deployed: probe.status.deployed };
      }),
    );
    const refused = plans.find((p) => p.refusal !== '');
    if (refused) {
      emit({ type: 'refused', node: refused.node, why: refused.refusal });
      return {
        stop: { refused: { node: refused.node, why: refused.refusal }, stoppedWave: wave },
        ok: [],
      };
    }
    const counts = new Map<Stage, number>();
    for (const s of stages.values()) counts.set(s, (counts.get(s) ?? 0) + 1);
    const main = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'up';
    const yes = await opts.confirm({
      wave,
      granularity,
      stage: main,
      stages: Object.fromEntries(stages),
      nodes,
      plans,
    });
    if (!yes) {
      emit({ type: 'declined', wave, stage: main });
      return { stop: { declined: true, stoppedWave: wave }, ok: [] };
    }
    const commits = new Map(plans.map((p) => [p.node, p.commit]));
    let state: WaveRun = startWave(wave, nodes, waveOpts);
    const update = (ev: Parameters<typeof reduceWave>[1]): void => {
      state = reduceWave(state, ev);
    };
    await new Promise<void>((resolve) => {
      const pump = (): void => {
        for (const node of startable(state)) {
          const stage = stages.get(node) ?? 'up';
          const commit = commits.get(node) ?? head;
          update({ type: 'started', node, stage });
          emit({ type: 'node-start', node, stage, commit });
          void run(node, stage, commit, (line) => {
            if (line.kind === 'event' && line.event.type === 'stage-start') {
              update({ type: 'stage', node, stage: line.event.stage });
              emit({ type: 'node-stage', node, stage: line.event.stage });
            }
            emit({ type: 'node-line', node, line });
          })
            .catch((err: unknown): StageOutcome => ({
              node,
              stage,
              commit,
              result: 'failed',
              exitCode: null,
              message: (err as Error).message,
              durationMs: 0,
            }))
            .then((outcome) => {
              if (outcome.result === 'ok')
                update({ type: 'ok', node, durationMs: outcome.durationMs });
              else
                update({
                  type: 'failed',
                  node,
                  result: outcome.result,
                  message: outcome.message || `${stage} ${outcome.result}`,
                });
              emit({ type: 'node-end', node, outcome });
              if (waveOver(state)) resolve();
              else pump();
            });
        }
        if (waveOver(state)) resolve();
      };
      pump();
    });
    const summary = summarizeWave(state);
    failed.push(...summary.failed);
    return { stop: summary.failed.length > 0 ? { stoppedWave: wave } : null, ok: summary.ok };
  };

  for (const wave of plan.waves) {
    if (opts.fromWave !== undefined && wave.wave < opts.fromWave) continue;
    emit({ type: 'wave', wave: wave.wave, todo: wave.todo, upToDate: wave.upToDate });
    if (wave.todo.length === 0) continue;
    if (opts.granularity === 'wave') {
      const stages = new Map<string, Stage>();
      for (const n of wave.todo)
        stages.set(n, opts.work?.get(n) ?? waveStage(probes.get(n), head) ?? 'up');
      const { stop, ok } = await step(wave.wave, 'wave', stages);
      deployed.push(...ok);
      if (stop) return end(stop);
      continue;
    }
    // Stage by stage: the earliest next stage among the wave's nodes, confirmed, run on them all;
    // then their states are read again and the next stage follows.
    let left = [...wave.todo];
    for (let i = 0; i < MAX_STEPS_PER_WAVE && left.length > 0; i++) {
      const next = nextStageStep(
        left.map((n) => ({ node: n, probe: probes.get(n) })),
        head,
      );
      if (next === null) {
        deployed.push(...left);
        left = [];
        break;
      }
      const stages = new Map<string, Stage>(next.nodes.map((n) => [n, next.stage]));
      const { stop } = await step(wave.wave, 'stage', stages);
      if (stop) return end(stop);
      // Read the stepped nodes again: their next stage comes from the node, not from a guess.
      await Promise.all(
        next.nodes.map(async (n) => {
          const p = await control.probe(n, opts.signal);
          probes.set(n, p);
          emit({ type: 'probe', probe: p });
        }),
      );
    }
    if (left.length > 0) {
      for (const n of left)
        failed.push({ node: n, message: 'too many stages in a row; look at the node' });
      return end({ stoppedWave: wave.wave });
    }
  }
  return end();
}

const short = (sha: string): string => (sha ? sha.slice(0, 7) : '-');

/** The question of a walk step in words: the wave, the commit, per node its run and its services. */
export function describeWalkQuestion(q: WalkQuestion): { title: string; lines: string[] } {
  const first = q.plans[0];
  const at = first ? `${short(first.commit)}${first.subject ? ` "${first.subject}"` : ''}` : '';
  const n = `${q.nodes.length} node${q.nodes.length === 1 ? '' : 's'}`;
  const title =
    q.granularity === 'wave'
      ? `Deploy wave ${q.wave} (${n}) at ${at}: one run each, prepare -> deploy -> verify?`
      : `Run ${q.stage} on wave ${q.wave} (${n}) at ${at}?`;
  const lines = q.plans.map((p) => {
    const touched = p.services.length > 0 ? p.services.join(', ') : 'no service changes';
    return `  ${p.node}: ${q.stages[p.node] ?? q.stage} — services: ${touched}`;
  });
  return { title, lines };
}
