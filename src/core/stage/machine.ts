// The stage machine: what a node's next stage is, and what the operator may do from here. Pure.
import type { NodeStatusRecord, Stage } from '../protocol/events.js';

export const PIPELINE: readonly Stage[] = ['prepare', 'deploy', 'verify'];

/**
 * The stage Enter advances a node to. A node that finished verify at SATURN's HEAD has nothing
 * to do (null); one that finished verify at an older commit starts over with prepare.
 * A failed or interrupted stage is resumed.
 */
export function nextStage(status: NodeStatusRecord | undefined, head: string): Stage | null {
  if (!status || !status.bootstrapped) return 'prepare';
  const { stage, stageStatus } = status;
  if (stage === '' || stageStatus === '') return 'prepare';
  if (stageStatus === 'running') return null;
  if (stageStatus === 'failed' || stageStatus === 'interrupted') return 'resume';
  if (status.target !== head) return 'prepare';
  switch (stage) {
    case 'prepare':
      return 'deploy';
    case 'deploy':
      return 'verify';
    case 'verify':
    case 'rollback':
      return status.deployed === head ? null : 'prepare';
    default:
      return 'prepare';
  }
}

export type Health =
  | 'healthy'
  | 'degraded'
  | 'unhealthy'
  | 'unreachable'
  | 'not-bootstrapped'
  | 'not-deployed'
  | 'unknown';

/**
 * Node health from its status record: every service healthy/running, some, or none. A node that
 * never deployed anything (a fresh one, or one whose first prepare failed) is not-deployed.
 * Health is what the services are doing, not how the last stage ended: a failed or interrupted
 * stage shows in the stage column, and a node whose every service is healthy is healthy.
 */
export function nodeHealth(status: NodeStatusRecord | undefined, reachable: boolean): Health {
  if (!reachable) return 'unreachable';
  if (!status) return 'unknown';
  if (!status.bootstrapped) return 'not-bootstrapped';
  const services = status.services;
  if (!status.deployed && services.every((s) => s.state === 'missing')) return 'not-deployed';
  if (services.length === 0) return status.stageStatus === 'failed' ? 'unhealthy' : 'healthy';
  const good = services.filter(
    (s) => s.state === 'running' && (s.health === 'healthy' || s.health === 'none'),
  ).length;
  if (good === services.length) return 'healthy';
  return good === 0 ? 'unhealthy' : 'degraded';
}
