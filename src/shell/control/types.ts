// The operations SATURN performs on the homelab: one implementation (control.ts), used by the
// plain subcommands and by the TUI alike.
import type { Inventory } from '../../core/inventory/model.js';
import type { NodeProbe, RepoInfo, StageOutcome } from '../../core/node/types.js';
import type { NodeLine, Stage } from '../../core/protocol/events.js';
import type { NodeRunner } from '../transport/types.js';
import type { WalkEndNotice } from '../notify.js';

export interface StageRequest {
  readonly node: string;
  readonly stage: Stage;
  /**
   * The commit the operator confirmed (full sha). The stage runs exactly that commit or is refused
   * before anything runs (result `refused`). Absent: the stage's own default, the same one
   * planStage shows: SATURN's HEAD for prepare, deploy and verify; the node's target for resume;
   * the node's known-good for rollback.
   */
  readonly commit?: string;
  /**
   * Every line of the node's output as it arrives: protocol records parsed, log lines as text.
   * Screen-safe: terminal control sequences stripped and credentials redacted (every string of a
   * record too); print or draw them as they are.
   */
  readonly onLine?: (line: NodeLine) => void;
  readonly signal?: AbortSignal;
  /** deploy only: also pull these services' images and recreate what moved (`--update SVC`). */
  readonly updateImages?: readonly string[];
  /**
   * Magic rollback: verify (also in resume and up) records known-good only once SATURN confirms
   * over a new connection, else the node rolls back by itself (`deploy.sh verify --confirm`). A
   * node or service with `confirm: required` in the topology asks for it without this.
   */
  readonly confirm?: boolean;
}

/** What `deploy.sh confirm` answered (Control.confirm). */
export interface ConfirmOutcome {
  readonly node: string;
  /** The verify run that waited. */
  readonly run: string;
  /** confirmed: known-good recorded; refused: too late or nothing waits; unreachable: no answer. */
  readonly result: 'confirmed' | 'refused' | 'unreachable';
  readonly commit: string;
  readonly message: string;
}

/** What a stage would run, for the question before it: from planStage. */
export interface StagePlan {
  readonly node: string;
  readonly stage: Stage;
  /** The commit the stage would run ('' for diagnose, or a rollback with no known-good). */
  readonly commit: string;
  /** That commit's subject in SATURN's repo ('' when SATURN does not have it). */
  readonly subject: string;
  /** Services whose hosts/<node>/<service>/ differ between what the node runs and `commit`. */
  readonly services: readonly string[];
  /** The node's deployed commit ('' when none or unreachable). */
  readonly deployed: string;
  /** Why the stage would be refused before anything runs ('' when it may run). */
  readonly refusal: string;
  /** What the operator should know before confirming (e.g. the remote could not be asked). */
  readonly warnings?: readonly string[];
}

export interface Control {
  /** The inventory as last read (at open, or by reloadInventory). */
  readonly inventory: Inventory;
  /** Absolute path of SATURN's homelab repo. */
  readonly repoDir: string;
  repoInfo(): Promise<RepoInfo>;
  /**
   * Reads inventory/topology.yaml (and hosts/) again, for example after the TUI's add-node form
   * wrote a node: the new inventory replaces `inventory` when it is valid; an invalid one is
   * refused with InvalidInventoryError and the old one stays.
   */
  reloadInventory(): Promise<Inventory>;
  /**
   * Runs the inventory's last check once (the secret scan, deferred for the TUI's first frame:
   * ControlOptions.deferSecretScan) and resolves when the whole inventory is valid; rejects with
   * InvalidInventoryError when it is not. Until then every command on a node waits; after a
   * rejection every one is refused.
   */
  checkInventory?(): Promise<void>;
  /** `deploy.sh status` on one node; never throws, a dead node costs at most the connect timeout. */
  probe(node: string, signal?: AbortSignal): Promise<NodeProbe>;
  /**
   * The operator passed the node's Tailscale SSH check (probe said needs-check with a URL): the
   * connection held for the check is stopped and the node probed again.
   */
  checkDone(node: string): Promise<NodeProbe>;
  /** Probes every node in parallel (bounded); onProbe fires as each one answers. */
  probeAll(onProbe?: (probe: NodeProbe) => void, signal?: AbortSignal): Promise<NodeProbe[]>;
  /**
   * How many commits `commit` is behind SATURN's HEAD, counting only those that change what the
   * node runs (its hosts/<node>/ folder and scripts/); null when unknown to SATURN's repo.
   */
  commitsBehind(node: string, commit: string): Promise<number | null>;
  /** Services of the node whose hosts/<node>/<service>/ changed between `from` and HEAD (all when from is ''). */
  changedServices(node: string, from: string): Promise<string[]>;
  /**
   * The node's one connection, for commands other than stages (the recover view's redaction and
   * full log). Owned by the Control: close() closes it; callers never do.
   */
  nodeRunner(node: string): NodeRunner;
  /**
   * What runStage would do on the node now: the commit it pins (read from the node's status for
   * deploy, verify, resume and rollback), the services it touches, or why it would refuse. Pass
   * plan.commit as StageRequest.commit once the operator confirmed it.
   */
  planStage(node: string, stage: Stage, signal?: AbortSignal): Promise<StagePlan>;
  /**
   * Runs a stage on a node, pinned to the confirmed commit (`--ref`), streaming its output. The
   * outcome's commit is the one the node's run record names. A lost follower re-attaches to the
   * same run; the result is always the node's. Never throws for node failures.
   */
  runStage(request: StageRequest): Promise<StageOutcome>;
  /**
   * Confirms a verify run that waits for SATURN (magic rollback) over a NEW connection, never the
   * node's shared one: `deploy.sh confirm --run RUN`. runStage calls it right after such a verify;
   * never throws.
   */
  confirm(node: string, run: string, signal?: AbortSignal): Promise<ConfirmOutcome>;
  /**
   * Reports a finished fleet walk to the topology's `notify:` (src/shell/notify.ts); never throws,
   * never waits (close() waits for deliveries). Optional: test doubles may leave it out.
   */
  notifyWalkEnd?(walk: WalkEndNotice): void;
  close(): Promise<void>;
}
