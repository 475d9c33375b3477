// One node's status as SATURN reports it: the inventory entry, the node's status record (or why it
// could not be read) and where its deployed commit stands against SATURN's HEAD. Pure.
import type { NodeSpec } from '../inventory/model.js';
import type {
  LockHolder,
  NodeStatusRecord,
  ServiceStatus,
  Stage,
  StageStatus,
} from '../protocol/events.js';
import { nextStage, nodeHealth, type Health } from '../stage/machine.js';

export interface ProbeOutcome {
  readonly reachable: boolean;
  readonly status?: NodeStatusRecord;
  /** Why the node could not be read (when not reachable). */
  readonly reason?: string;
  readonly message?: string;
}

export interface NodeSummary {
  readonly node: string;
  readonly wave: number;
  readonly role: string;
  readonly tags: readonly string[];
  readonly transport: string;
  readonly address: string;
  readonly reachable: boolean;
  readonly reason: string | null;
  readonly message: string | null;
  readonly bootstrapped: boolean;
  readonly health: Health;
  readonly stage: Stage | '';
  readonly stageStatus: StageStatus | '';
  readonly next: Stage | null;
  readonly deployed: string;
  readonly knownGood: string;
  readonly target: string;
  /** Commits the deployed commit is behind SATURN's HEAD; null when unknown or never deployed. */
  readonly behind: number | null;
  readonly lock: LockHolder | null;
  readonly services: readonly ServiceStatus[];
}

export function summarizeNode(
  spec: NodeSpec,
  probe: ProbeOutcome,
  head: string,
  behind: number | null,
): NodeSummary {
  const status = probe.reachable ? probe.status : undefined;
  return {
    node: spec.name,
    wave: spec.wave,
    role: spec.role,
    tags: spec.tags,
    transport: spec.transport,
    address: spec.address,
    reachable: probe.reachable,
    reason: probe.reachable ? null : (probe.reason ?? 'unknown'),
    message: probe.reachable ? null : (probe.message ?? ''),
    bootstrapped: status?.bootstrapped ?? false,
    health: nodeHealth(status, probe.reachable),
    stage: status?.stage ?? '',
    stageStatus: status?.stageStatus ?? '',
    next: probe.reachable ? nextStage(status, head) : null,
    deployed: status?.deployed ?? '',
    knownGood: status?.knownGood ?? '',
    target: status?.target ?? '',
    behind: status?.deployed ? behind : null,
    lock: status?.lock ?? null,
    services: status?.services ?? [],
  };
}

export function shortSha(sha: string): string {
  return sha ? sha.slice(0, 7) : '-';
}

/** "up to date", "3 behind", "not deployed", "unknown commit". */
export function commitPosition(s: Pick<NodeSummary, 'deployed' | 'behind'>): string {
  if (!s.deployed) return 'not deployed';
  if (s.behind === null) return 'unknown commit';
  return s.behind === 0 ? 'up to date' : `${s.behind} behind`;
}

export function stageLabel(s: Pick<NodeSummary, 'stage' | 'stageStatus'>): string {
  return s.stage ? `${s.stage} ${s.stageStatus}` : '-';
}
