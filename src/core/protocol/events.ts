// Records of the node protocol (docs/protocol.md), as SATURN sees them after parsing.

export const PROTOCOL_VERSION = 1;

export const STAGES = ['prepare', 'deploy', 'verify', 'diagnose', 'rollback', 'resume'] as const;
export type Stage = (typeof STAGES)[number];

/** Stages that change a node (and so ask for confirmation first). */
export const CHANGING_STAGES: readonly Stage[] = ['prepare', 'deploy', 'rollback', 'resume'];

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
  | StatusEvent;

/** A line of deploy.sh output: a protocol record, or a human log line. */
export type NodeLine =
  | { readonly kind: 'event'; readonly event: NodeEvent }
  | { readonly kind: 'log'; readonly text: string };

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
}

export interface LockHolder {
  readonly pid: number;
  readonly user: string;
  readonly stage: string;
  readonly commit: string;
  readonly since: number;
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
}
