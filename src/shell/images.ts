// Reads what each node's services run against their tags in the registry (`deploy.sh images`
// over the node's connection; the node asks the registry with its own docker login, no pull).
// Every text from a node is screen-safe (toScreen) on arrival.
import { deployScriptPath } from '../core/inventory/model.js';
import { updateChanges, type NodeImages, type UpdateWork } from '../core/images/updates.js';
import type { NodeProbe, StageOutcome } from '../core/node/types.js';
import type { ImageEvent, NodeLine } from '../core/protocol/events.js';
import { parseNodeLine } from '../core/protocol/parse.js';
import { screenSafeEvent } from '../core/protocol/screen-safe.js';
import { toScreen } from '../core/recover/redact.js';
import { mapLimit } from './fanout.js';
import type { Control } from './control/types.js';
import { walkFleet, type WalkEvent, type WalkQuestion, type WalkResult } from './control/walk.js';

const IMAGES_TIMEOUT_MS = 60_000;

export async function readNodeImages(
  control: Control,
  node: string,
  signal?: AbortSignal,
): Promise<NodeImages> {
  const spec = control.inventory.nodes.find((n) => n.name === node);
  if (!spec) return { node, images: [], error: `no node "${node}" in inventory/topology.yaml` };
  const images: ImageEvent[] = [];
  const stderr: string[] = [];
  const result = await control
    .nodeRunner(node)
    .run([deployScriptPath(spec), 'images', '--root', spec.root, '--node', spec.name], {
      onStdout: (text) => {
        const line = parseNodeLine(text);
        if (line.kind !== 'event' || line.event.type !== 'image') return;
        const ev = screenSafeEvent(line.event);
        if (ev.type === 'image') images.push(ev);
      },
      onStderr: (text) => stderr.push(toScreen(text)),
      timeoutMs: spec.ssh.connectTimeout * 1000 + IMAGES_TIMEOUT_MS,
      ...(signal ? { signal } : {}),
    });
  if (result.unreachable) return { node, images, error: result.unreachable.message };
  if (result.timedOut) return { node, images, error: 'deploy.sh images did not answer in time' };
  if (result.exitCode !== 0) {
    const last = stderr.filter(Boolean).at(-1) ?? `exit ${result.exitCode ?? 'none'}`;
    const why = /unknown stage 'images'/.test(last)
      ? `its deploy.sh has no images command (update scripts: homelab scripts update, commit, then prepare ${node})`
      : last.replace(/^deploy\.sh: /, '');
    return { node, images, error: why };
  }
  return { node, images, error: '' };
}

/** Every named node's images (all when none named), in parallel. */
export function readFleetImages(
  control: Control,
  only: readonly string[] = [],
  signal?: AbortSignal,
): Promise<NodeImages[]> {
  const nodes = control.inventory.nodes.filter((n) => only.length === 0 || only.includes(n.name));
  return mapLimit(nodes, 16, (spec) => readNodeImages(control, spec.name, signal));
}

/** One stage of an update run on a node (the Control's runStage, or the TUI's wrapper of it). */
export type RunUpdateStage = (request: {
  readonly node: string;
  readonly stage: 'deploy' | 'verify';
  readonly commit: string;
  readonly onLine: (line: NodeLine) => void;
  readonly updateImages?: readonly string[];
}) => Promise<StageOutcome>;

/** What the operator is asked before a wave's update: the walk's question and what changes. */
export interface UpdateQuestion extends WalkQuestion {
  /** Node -> one line per container that changes (updateChanges: service, tag, old -> new, age). */
  readonly changes: Readonly<Record<string, readonly string[]>>;
}

export interface UpdateWalkOptions {
  readonly control: Control;
  /** The images read (readFleetImages) and what they ask for (updateWork). */
  readonly found: readonly NodeImages[];
  readonly work: UpdateWork;
  readonly confirm: (q: UpdateQuestion) => Promise<boolean>;
  readonly run?: RunUpdateStage;
  readonly onEvent?: (ev: WalkEvent) => void;
  readonly probes?: readonly NodeProbe[];
  readonly now?: () => number;
  readonly signal?: AbortSignal;
}

export interface UpdateWalkResult extends WalkResult {
  /** Each node's last stage outcome (the failed one when it failed). */
  readonly outcomes: ReadonlyMap<string, StageOutcome>;
}

/**
 * An images update through the fleet walk (the engine of `homelab deploy` and the TUI's D): the
 * nodes with updatable services, wave by wave, one confirmation per wave showing what changes,
 * the wave's nodes at once; each node runs deploy --update (pull, recreate what moved) then
 * verify, which records the new digests (a rollback returns to the ones recorded before). The
 * first failure stops new starts.
 */
export async function walkUpdates(opts: UpdateWalkOptions): Promise<UpdateWalkResult> {
  const { control, work } = opts;
  const now = opts.now ?? Date.now;
  const images = new Map(opts.found.map((n) => [n.node, n.images]));
  const run: RunUpdateStage =
    opts.run ??
    ((req) =>
      control.runStage({
        ...req,
        ...(req.updateImages ? { updateImages: req.updateImages } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      }));
  const outcomes = new Map<string, StageOutcome>();
  const result = await walkFleet({
    control,
    granularity: 'wave',
    selection: { nodes: [...work.services.keys()] },
    work: new Map([...work.services.keys()].map((n) => [n, 'deploy' as const])),
    ...(opts.probes ? { probes: opts.probes } : {}),
    ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    confirm: (q) =>
      opts.confirm({
        ...q,
        changes: Object.fromEntries(
          q.nodes.map((n) => [
            n,
            updateChanges(images.get(n) ?? [], work.services.get(n) ?? [], now()),
          ]),
        ),
      }),
    run: async (node, _stage, commit, onLine) => {
      const services = work.services.get(node) ?? [];
      const deployed = await run({ node, stage: 'deploy', commit, onLine, updateImages: services });
      outcomes.set(node, deployed);
      if (deployed.result !== 'ok') return deployed;
      const verified = await run({ node, stage: 'verify', commit, onLine });
      outcomes.set(node, verified);
      return verified;
    },
  });
  return { ...result, outcomes };
}
