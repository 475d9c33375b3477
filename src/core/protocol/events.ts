// Records of the node protocol (docs/protocol.md), as SATURN sees them after parsing.

export const PROTOCOL_VERSION = 1;

export const STAGES = [
  'prepare',
  'deploy',
  'verify',
  'diagnose',
  'rollback',
  'resume',
  'up',
] as const;
export type Stage = (typeof STAGES)[number];

/** Stages that change a node (and so ask for confirmation first). */
export const CHANGING_STAGES: readonly Stage[] = ['prepare', 'deploy', 'rollback', 'resume', 'up'];

export type StageStatus = 'running' | 'ok' | 'failed' | 'interrupted';
export type StepStatus = 'start' | 'ok' | 'skip' | 'fail';
export type Severity = 'ok' | 'warn' | 'fail';

export interface RunEvent {
  readonly type: 'run';
  readonly ts: number;
  readonly run: string;
  readonly stage: Stage;
  readonly node: string;
  readonly commit: string;
  readonly log: string;
  readonly pid: number;
}
export interface StageStartEvent {
  readonly type: 'stage-start';
  readonly ts: number;
  readonly stage: Stage;
}
export interface StepEvent {
  readonly type: 'step';
  readonly ts: number;
  readonly stage: Stage;
  readonly step: string;
  readonly status: StepStatus;
  readonly service?: string;
  readonly detail?: string;
  readonly durationMs?: number;
}
export interface CheckEvent {
  readonly type: 'check';
  readonly ts: number;
  readonly service: string;
  readonly check: string;
  readonly target: string;
  readonly status: 'ok' | 'fail';
  readonly detail: string;
}
export interface FindingEvent {
  readonly type: 'finding';
  readonly ts: number;
  readonly id: string;
  readonly severity: Severity;
  readonly summary: string;
  readonly evidence: string;
  readonly hint: string;
  readonly service?: string;
}
export interface StageEndEvent {
  readonly type: 'stage-end';
  readonly ts: number;
  readonly stage: Stage;
  readonly result: 'ok' | 'failed';
  readonly durationMs: number;
  readonly error?: string;
}
export interface RunEndEvent {
  readonly type: 'run-end';
  readonly ts: number;
  readonly run: string;
  readonly result: 'ok' | 'failed' | 'interrupted';
  readonly exit: number;
}
/** One stage a node recorded in its history (`deploy.sh history`). */
export interface HistoryEvent {
  readonly type: 'history';
  readonly ts: number;
  readonly node: string;
  /** ISO-8601 UTC time the stage ended. */
  readonly when: string;
  readonly run: string;
  readonly stage: string;
  /** ok, failed or interrupted. */
  readonly result: string;
  readonly commit: string;
  /** The stage's duration; null in lines older nodes wrote. */
  readonly durationMs: number | null;
  /** Who started it on SATURN ('' when unknown). */
  readonly by: string;
}
/** One container's image (`deploy.sh images`): what runs against what its tag points to now. */
export interface ImageEvent {
  readonly type: 'image';
  readonly ts: number;
  readonly service: string;
  /** The compose service inside the project ('' when no container runs). */
  readonly containerService: string;
  /** The image as the compose file names it (a repo@digest after a rollback). */
  readonly ref: string;
  /** repo@sha256:… the container runs ('' for an image built or imported on the node). */
  readonly digest: string;
  readonly id: string;
  /** When the running image was built (RFC 3339). */
  readonly created: string;
  /** The manifest digest the tag points to in the registry now ('' when not asked or unknown). */
  readonly remoteDigest: string;
  readonly remoteId: string;
  readonly status: 'current' | 'updatable' | 'pinned' | 'local' | 'unknown' | 'missing';
  readonly detail: string;
}
/** One running container's CPU and memory (`docker stats --no-stream`). */
export interface ContainerResources {
  /** The node's service (its compose project without the `<node>_` prefix). */
  readonly service: string;
  readonly container: string;
  /** Percent of one core (over 100 on a busy multi-core node); null when docker said none. */
  readonly cpuPercent: number | null;
  /** Bytes in use and the limit (docker's figures, `1.5MiB` read as bytes); null when unreadable. */
  readonly memBytes: number | null;
  readonly memLimitBytes: number | null;
  readonly memPercent: number | null;
}
/** A filesystem's usage (`df -Pk`): docker's data root or the node's root. */
export interface DiskUsage {
  readonly what: 'docker' | 'root';
  readonly path: string;
  readonly sizeKb: number;
  readonly usedKb: number;
  readonly availKb: number;
}
/** `deploy.sh resources`: read-only, asked apart from the status record (docker stats costs 1-2 s). */
export interface ResourcesEvent {
  readonly type: 'resources';
  readonly ts: number;
  readonly node: string;
  readonly containers: readonly ContainerResources[];
  readonly disks: readonly DiskUsage[];
  /** What could not be read ('' when all was). */
  readonly error: string;
}
/** The answer of `deploy.sh confirm --run ID` (magic rollback). */
export interface ConfirmEvent {
  readonly type: 'confirm';
  readonly ts: number;
  /** The verify run that waits. */
  readonly run: string;
  readonly node: string;
  readonly commit: string;
  /** `confirmed`: the commit is the node's known-good now; `refused`: too late, or nothing waits. */
  readonly result: 'confirmed' | 'refused';
  readonly detail: string;
}
export interface StatusEvent {
  readonly type: 'status';
  readonly ts: number;
  readonly status: NodeStatusRecord;
}

export type NodeEvent =
  | RunEvent
  | StageStartEvent
  | StepEvent
  | CheckEvent
  | FindingEvent
  | StageEndEvent
  | RunEndEvent
  | ConfirmEvent
  | HistoryEvent
  | ImageEvent
  | ResourcesEvent
  | StatusEvent;

/** A line of deploy.sh output: a protocol record, or a human log line. */
export type NodeLine =
  | { readonly kind: 'event'; readonly event: NodeEvent }
  | { readonly kind: 'log'; readonly text: string };

/** One compose service's image as verify recorded it for the known-good commit. */
export interface ServiceImage {
  readonly service: string;
  readonly image: string;
  /** repo@sha256:… ('' for an image built or imported on the node). */
  readonly digest: string;
  readonly created: string;
}
export interface ContainerStatus {
  readonly name: string;
  readonly state: string;
  readonly health: string;
}

export interface ServiceStatus {
  readonly name: string;
  readonly project: string;
  readonly state: 'running' | 'partial' | 'stopped' | 'missing';
  readonly health: 'healthy' | 'unhealthy' | 'starting' | 'none';
  readonly containers: readonly ContainerStatus[];
  /** The images verify recorded with the known-good commit (empty before the first one). */
  readonly images?: readonly ServiceImage[];
}

export interface LockHolder {
  readonly pid: number;
  readonly user: string;
  readonly stage: string;
  readonly commit: string;
  readonly since: number;
}

/** What runs on a node and is not what its deployed commit says (`deploy.sh status`'s drift). */
export interface DriftItem {
  /** The service ('' for the checkout). */
  readonly service: string;
  readonly kind: 'config' | 'container' | 'missing' | 'extra' | 'checkout';
  readonly detail: string;
  /** What to do about it. */
  readonly fix: string;
}

/** A node's magic-rollback state (docs/protocol.md, `confirm` in the status record). */
export interface ConfirmState {
  /** waiting (for SATURN), confirmed, rolling-back (by itself), rolled-back. */
  readonly state: 'waiting' | 'confirmed' | 'rolling-back' | 'rolled-back';
  /** The verify run that armed the watchdog. */
  readonly run: string;
  /** The commit that waited for the confirmation. */
  readonly commit: string;
  /** The known-good before it (what a rollback goes back to). */
  readonly previous: string;
  /** Seconds SATURN had to confirm. */
  readonly timeout: number;
  /** Epoch seconds of the deadline. */
  readonly deadline: number;
  readonly watchdogAlive: boolean;
  /** The watchdog's rollback run, its log on the node, and `ok` or `failed (exit N)`. */
  readonly rollbackRun: string;
  readonly rollbackLog: string;
  readonly rollbackResult: string;
}

/** The record `deploy.sh status` prints. */
export interface NodeStatusRecord {
  readonly node: string;
  readonly bootstrapped: boolean;
  readonly repoCommit: string;
  readonly stage: Stage | '';
  readonly stageStatus: StageStatus | '';
  readonly run: string;
  readonly target: string;
  readonly deployed: string;
  readonly knownGood: string;
  readonly lock: LockHolder | null;
  readonly services: readonly ServiceStatus[];
  /** The stage the last run was started with (`resume` when it resumed); absent from older nodes. */
  readonly runStage?: string;
  /** Why the last stage failed or was interrupted ('' when it did not). */
  readonly error?: string;
  /** `unavailable` when the node's `docker ps` failed (services then read `missing`). */
  readonly docker?: 'ok' | 'unavailable';
  /** Path of the last run's log on the node. */
  readonly log?: string;
  /** Magic rollback: null (or absent) when no verify ever waited for SATURN's confirmation. */
  readonly confirm?: ConfirmState | null;
  /** Drift: absent from older nodes, [] when none. */
  readonly drift?: readonly DriftItem[];
  /**
   * The node scripts' version (scripts/VERSION beside the deploy.sh that answered): null for
   * scripts from before scripts/VERSION that still send the field, absent from older nodes.
   */
  readonly scriptsVersion?: number | null;
  /** The protocol version the node speaks (the N of `@homelab/N`); absent from older nodes. */
  readonly protocol?: number;
}
