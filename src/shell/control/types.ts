// The operations SATURN performs on the homelab: one implementation (control.ts), used by the
// plain subcommands and by the TUI alike.
import type { Inventory } from '../../core/inventory/model.js';
import type { NodeProbe, RepoInfo, StageOutcome } from '../../core/node/types.js';
import type { NodeLine, Stage } from '../../core/protocol/events.js';
import type { NodeRunner } from '../transport/types.js';

export interface StageRequest {
  readonly node: string;
  readonly stage: Stage;
  /** Every line of the node's output as it arrives: protocol records parsed, log lines as text. */
  readonly onLine?: (line: NodeLine) => void;
  readonly signal?: AbortSignal;
}

export interface Control {
  readonly inventory: Inventory;
  /** Absolute path of SATURN's homelab repo. */
  readonly repoDir: string;
  repoInfo(): Promise<RepoInfo>;
  /** `deploy.sh status` on one node; never throws, a dead node costs at most the connect timeout. */
  probe(node: string, signal?: AbortSignal): Promise<NodeProbe>;
  /** Probes every node in parallel (bounded); onProbe fires as each one answers. */
  probeAll(onProbe?: (probe: NodeProbe) => void, signal?: AbortSignal): Promise<NodeProbe[]>;
  /** How many commits `commit` is behind SATURN's HEAD; null when unknown to SATURN's repo. */
  commitsBehind(commit: string): Promise<number | null>;
  /** Services of the node whose hosts/<node>/<service>/ changed between `from` and HEAD (all when from is ''). */
  changedServices(node: string, from: string): Promise<string[]>;
  /**
   * The node's one connection, for commands other than stages (the recover view's redaction and
   * full log). Owned by the Control: close() closes it; callers never do.
   */
  nodeRunner(node: string): NodeRunner;
  /** Runs a stage on a node at SATURN's HEAD, streaming its output. Never throws for node failures. */
  runStage(request: StageRequest): Promise<StageOutcome>;
  close(): Promise<void>;
}
