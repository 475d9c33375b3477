// One node's status as SATURN reports it: the inventory entry, the node's status record (or why it
// could not be read) and where its deployed commit stands against SATURN's HEAD. Pure.
import type { NodeSpec } from '../inventory/model.js';
import type {
  ConfirmState,
  DriftItem,
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
  /** With reason needs-check: the Tailscale SSH check's URL. */
  readonly checkUrl?: string;
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
  /** The URL of the Tailscale SSH check the node is held for (reason needs-check). */
  readonly checkUrl?: string;
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
  /** What runs that the deployed commit does not say, each with its fix ([] when none or unknown). */
  readonly drift?: readonly DriftItem[];
  /** Magic rollback: what the node says about its last confirmation (confirmText says it). */
  readonly confirm?: ConfirmState | null;
  /** The node's last run (the watchdog's rollback names itself `wd-<run>`). */
  readonly run?: string;
  /** The node scripts' version its status record names (null: before scripts/VERSION; absent: not said). */
  readonly scriptsVersion?: number | null;
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
    ...(!probe.reachable && probe.checkUrl ? { checkUrl: probe.checkUrl } : {}),
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
    drift: status?.drift ?? [],
    confirm: status?.confirm ?? null,
    run: status?.run ?? '',
    ...(status?.scriptsVersion !== undefined ? { scriptsVersion: status.scriptsVersion } : {}),
  };
}

/**
 * Magic rollback, in words, or undefined when there is nothing to say: while the node waits for
 * SATURN; while and after it rolled back by itself (as long as that rollback is its last run).
 */
export function confirmText(
  s: Pick<NodeSummary, 'confirm' | 'run'> & { readonly node?: string },
): string | undefined {
  const c = s.confirm;
  if (!c) return undefined;
  const within = `SATURN could not confirm within ${c.timeout} s`;
  switch (c.state) {
    case 'waiting':
      return c.watchdogAlive
        ? `waits for SATURN to confirm ${shortSha(c.commit)} (run ${c.run}) within ${c.timeout} s, else it rolls back by itself`
        : `waited for SATURN to confirm ${shortSha(c.commit)} (run ${c.run}), but its watchdog is gone: run verify again, or roll back`;
    case 'rolling-back':
      return `rolling back by itself to ${shortSha(c.previous)}: ${within} (run ${c.rollbackRun})`;
    case 'rolled-back': {
      if (s.run && s.run !== c.rollbackRun) return undefined;
      const how =
        c.rollbackResult === 'ok'
          ? `back at ${shortSha(c.previous)}`
          : `the rollback ${c.rollbackResult || 'did not finish'}: homelab recover ${s.node ?? '<node>'}`;
      return `rolled back by itself: ${within} (${shortSha(c.commit)}; ${how}; log: ${c.rollbackLog || 'none'})`;
    }
    case 'confirmed':
      return undefined;
  }
}

/** `web: container x runs compose config …: changed by hand` (no service for the checkout). */
export function driftText(d: DriftItem): string {
  return d.service ? `${d.service}: ${d.detail}` : d.detail;
}

/** The nodes with drift. */
export function drifted<T extends Pick<NodeSummary, 'drift'>>(nodes: readonly T[]): T[] {
  return nodes.filter((n) => (n.drift ?? []).length > 0);
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
