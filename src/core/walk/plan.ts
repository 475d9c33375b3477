// The fleet walk, planned: which nodes the operator selected, which of them have work at SATURN's
// HEAD, grouped by wave in order, and which stage each node runs next. Pure: the probes are read
// by the caller (one status call per node), and nothing here runs anything.
import type { NodeProbe } from '../node/types.js';
import type { Stage } from '../protocol/events.js';
import { nextStage } from '../stage/machine.js';
import { sameCommit } from '../stage/pin.js';

/** What the walk knows of a node before it starts: its place in the topology and its probe. */
export interface WalkNode {
  readonly name: string;
  readonly wave: number;
  readonly tags: readonly string[];
  readonly probe?: NodeProbe;
}

/** `homelab deploy --wave N --node NAME --tag T`: every given filter must match (none: all nodes). */
export interface WalkSelection {
  readonly waves?: readonly number[];
  readonly nodes?: readonly string[];
  readonly tags?: readonly string[];
}

/**
 * One confirmation and one run per node (`wave`), or each stage confirmed, one run per stage
 * (`stage`): the operator picks the granularity.
 */
export type Granularity = 'wave' | 'stage';

export interface WavePlan {
  readonly wave: number;
  /** Selected nodes with work at HEAD (or unreachable: the walk must say so), in topology order. */
  readonly todo: readonly string[];
  /** Selected nodes verified at HEAD already: nothing runs there. */
  readonly upToDate: readonly string[];
}

export interface WalkPlan {
  readonly waves: readonly WavePlan[];
  /** Every selected node, in topology order. */
  readonly selected: readonly string[];
}

export function selects(sel: WalkSelection, node: WalkNode): boolean {
  if (sel.waves?.length && !sel.waves.includes(node.wave)) return false;
  if (sel.nodes?.length && !sel.nodes.includes(node.name)) return false;
  if (sel.tags?.length && !sel.tags.some((t) => node.tags.includes(t))) return false;
  return true;
}

/** True when the node has nothing to do at `head` (reachable and verified there). */
export function upToDate(node: WalkNode, head: string): boolean {
  const probe = node.probe;
  if (!probe?.reachable) return false;
  return nextStage(probe.status, head) === null;
}

/** The selected nodes by wave, waves in order, each with the nodes that have work. */
export function planWalk(nodes: readonly WalkNode[], head: string, sel: WalkSelection): WalkPlan {
  const chosen = nodes.filter((n) => selects(sel, n));
  const waves = [...new Set(chosen.map((n) => n.wave))].sort((a, b) => a - b);
  return {
    selected: chosen.map((n) => n.name),
    waves: waves.map((wave) => {
      const of = chosen.filter((n) => n.wave === wave);
      return {
        wave,
        todo: of.filter((n) => !upToDate(n, head)).map((n) => n.name),
        upToDate: of.filter((n) => upToDate(n, head)).map((n) => n.name),
      };
    }),
  };
}

/**
 * The one run a node gets in a wave-at-once walk: `resume` when the node already works towards
 * HEAD (it finishes what is left: deploy and verify after a prepare, the failed stage and the
 * rest), else `up` (prepare, deploy and verify of HEAD in one run). null: nothing to do.
 */
export function waveStage(probe: NodeProbe | undefined, head: string): Stage | null {
  if (!probe?.reachable || !probe.status.bootstrapped) return 'up';
  const next = nextStage(probe.status, head);
  if (next === null) return null;
  const { target, stage } = probe.status;
  if (stage !== '' && sameCommit(target, head)) return 'resume';
  return 'up';
}

/** Order in which a stage-by-stage walk confirms the stages of a wave's nodes. */
const STAGE_ORDER: readonly Stage[] = ['resume', 'prepare', 'deploy', 'verify'];

/**
 * The next step of a stage-by-stage walk: the earliest next stage among the wave's nodes and the
 * nodes whose next stage it is (they run it together, after one confirmation). null: every node is
 * done.
 */
export function nextStageStep(
  probes: ReadonlyArray<{ readonly node: string; readonly probe: NodeProbe | undefined }>,
  head: string,
): { readonly stage: Stage; readonly nodes: readonly string[] } | null {
  const next = probes.map(({ node, probe }) => ({
    node,
    stage: probe?.reachable ? nextStage(probe.status, head) : 'prepare',
  }));
  for (const stage of STAGE_ORDER) {
    const nodes = next.filter((n) => n.stage === stage).map((n) => n.node);
    if (nodes.length > 0) return { stage, nodes };
  }
  return null;
}

/**
 * The plan with the caller's work instead of HEAD's (an images update): in each wave, the nodes in
 * `work` are to do, the other selected nodes have nothing to do. Without `work`, the plan as it is.
 */
export function withWork(plan: WalkPlan, work: ReadonlyMap<string, unknown> | undefined): WalkPlan {
  if (!work) return plan;
  return {
    selected: plan.selected,
    waves: plan.waves.map((w) => {
      const all = plan.selected.filter((n) => w.todo.includes(n) || w.upToDate.includes(n));
      return {
        wave: w.wave,
        todo: all.filter((n) => work.has(n)),
        upToDate: all.filter((n) => !work.has(n)),
      };
    }),
  };
}
