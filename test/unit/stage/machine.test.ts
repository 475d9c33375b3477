import { describe, expect, it } from 'vitest';
import type { NodeStatusRecord, ServiceStatus } from '../../../src/core/protocol/events.js';
import { nextStage, nodeHealth } from '../../../src/core/stage/machine.js';

const HEAD = 'a'.repeat(40);
const OLD = 'b'.repeat(40);

function record(over: Partial<NodeStatusRecord> = {}): NodeStatusRecord {
  return {
    node: 'n',
    bootstrapped: true,
    repoCommit: '',
    stage: '',
    stageStatus: '',
    run: '',
    target: '',
    deployed: '',
    knownGood: '',
    lock: null,
    services: [],
    ...over,
  };
}

function svc(state: ServiceStatus['state'], health: ServiceStatus['health']): ServiceStatus {
  return { name: 's', project: 'n_s', state, health, containers: [] };
}

describe('nextStage: what Enter advances a node to', () => {
  it.each([
    ['unknown status', undefined, 'prepare'],
    ['not bootstrapped', record({ bootstrapped: false }), 'prepare'],
    ['never run', record(), 'prepare'],
    ['prepare ok at HEAD', record({ stage: 'prepare', stageStatus: 'ok', target: HEAD }), 'deploy'],
    ['deploy ok at HEAD', record({ stage: 'deploy', stageStatus: 'ok', target: HEAD }), 'verify'],
    [
      'verified at HEAD: nothing to do',
      record({ stage: 'verify', stageStatus: 'ok', target: HEAD, deployed: HEAD }),
      null,
    ],
    [
      'verified an older commit',
      record({ stage: 'verify', stageStatus: 'ok', target: OLD, deployed: OLD }),
      'prepare',
    ],
    [
      'prepared an older commit',
      record({ stage: 'prepare', stageStatus: 'ok', target: OLD }),
      'prepare',
    ],
    ['a stage failed', record({ stage: 'deploy', stageStatus: 'failed', target: HEAD }), 'resume'],
    [
      'a stage was killed',
      record({ stage: 'deploy', stageStatus: 'interrupted', target: HEAD }),
      'resume',
    ],
    ['a stage is running', record({ stage: 'deploy', stageStatus: 'running', target: HEAD }), null],
    [
      'rolled back to an older commit',
      record({ stage: 'rollback', stageStatus: 'ok', target: OLD, deployed: OLD }),
      'prepare',
    ],
  ] as const)('%s -> %s', (_what, status, expected) => {
    expect(nextStage(status, HEAD)).toBe(expected);
  });
});

describe('nodeHealth', () => {
  it.each([
    ['unreachable wins', record(), false, 'unreachable'],
    ['no status yet', undefined, true, 'unknown'],
    ['not bootstrapped', record({ bootstrapped: false }), true, 'not-bootstrapped'],
    ['never deployed', record({ services: [svc('missing', 'none')] }), true, 'not-deployed'],
    [
      'first prepare failed',
      record({ stage: 'prepare', stageStatus: 'failed', services: [svc('missing', 'none')] }),
      true,
      'not-deployed',
    ],
    [
      'all running and healthy',
      record({ deployed: HEAD, services: [svc('running', 'healthy'), svc('running', 'none')] }),
      true,
      'healthy',
    ],
    [
      'one unhealthy of two',
      record({
        deployed: HEAD,
        services: [svc('running', 'healthy'), svc('running', 'unhealthy')],
      }),
      true,
      'degraded',
    ],
    [
      'all stopped',
      record({ deployed: HEAD, services: [svc('stopped', 'none')] }),
      true,
      'unhealthy',
    ],
    // Issue 12: every service healthy used to read "degraded" because the last stage failed.
    [
      'every service healthy, the last stage failed',
      record({ deployed: HEAD, stageStatus: 'failed', services: [svc('running', 'healthy')] }),
      true,
      'healthy',
    ],
    [
      'every service healthy, the last stage interrupted',
      record({
        deployed: HEAD,
        stage: 'deploy',
        stageStatus: 'interrupted',
        services: [svc('running', 'healthy'), svc('running', 'none')],
      }),
      true,
      'healthy',
    ],
    [
      'one service starting',
      record({ deployed: HEAD, services: [svc('running', 'healthy'), svc('running', 'starting')] }),
      true,
      'degraded',
    ],
    [
      'deployed, then every container removed',
      record({ deployed: HEAD, services: [svc('missing', 'none')] }),
      true,
      'unhealthy',
    ],
  ] as const)('%s', (_what, status, reachable, expected) => {
    expect(nodeHealth(status, reachable)).toBe(expected);
  });
});
