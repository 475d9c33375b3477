// The operations SATURN performs on the homelab: one implementation (control.ts), used by the
// plain subcommands and by the TUI alike.
import type { Inventory } from '../../core/inventory/model.js';
import type { NodeLine, NodeStatusRecord, Stage } from '../../core/protocol/events.js';
import type { NodeRunner, UnreachableReason } from '../transport/types.js';

export type NodeProbe =
  | {
      readonly node: string;
      readonly reachable: true;
      readonly status: NodeStatusRecord;
      readonly probedAt: number;
      readonly latencyMs: number;
    }
  | {
      readonly node: string;
      readonly reachable: false;
      readonly reason: UnreachableReason;
      readonly message: string;
      readonly probedAt: number;
      readonly latencyMs: number;
    };

export interface RepoInfo {
  /** SATURN's checked-out branch ('' when detached). */
  readonly branch: string;
  readonly head: string;
  readonly headSubject: string;
  /** Uncommitted paths under inventory/ or hosts/ (a stage refuses to run while any exist). */
  readonly dirty: readonly string[];
}

export type StageResult =
  'ok' | 'failed' | 'interrupted' | 'unreachable' | 'cancelled' | 'locked' | 'refused';

export interface StageOutcome {
  readonly node: string;
  readonly stage: Stage;
  readonly commit: string;
  readonly result: StageResult;
  readonly exitCode: number | null;
  /** Human explanation when result is not ok (unreachable reason, lock holder, refusal). */
  readonly message: string;
  readonly durationMs: number;
}

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
