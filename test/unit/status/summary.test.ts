import { describe, expect, it } from 'vitest';
import type { NodeSpec } from '../../../src/core/inventory/model.js';
import type { NodeStatusRecord } from '../../../src/core/protocol/events.js';
import { commitPosition, summarizeNode } from '../../../src/core/status/summary.js';
import { renderStatusTable } from '../../../src/core/status/table.js';

const HEAD = 'c0ffee0'.padEnd(40, '1');
const spec = (name: string, wave = 0): NodeSpec => ({
  name,
  address: name,
  role: 'worker',
  tags: [],
  transport: 'ssh',
  user: 'homelab',
  root: '/opt/homelab',
  repo: '/opt/homelab/repo',
  wave,
  ssh: { connectTimeout: 5 },
  services: [],
});
const status = (over: Partial<NodeStatusRecord>): NodeStatusRecord => ({
  node: 'x',
  bootstrapped: true,
  repoCommit: HEAD,
  stage: 'verify',
  stageStatus: 'ok',
  run: 'r',
  target: HEAD,
  deployed: HEAD,
  knownGood: HEAD,
  lock: null,
  services: [
    { name: 'web', project: 'x_web', state: 'running', health: 'healthy', containers: [] },
  ],
  ...over,
});

describe('commitPosition', () => {
  it.each([
    [{ deployed: '', behind: null }, 'not deployed'],
    [{ deployed: HEAD, behind: 0 }, 'up to date'],
    [{ deployed: HEAD, behind: 3 }, '3 behind'],
    [{ deployed: HEAD, behind: null }, 'unknown commit'],
  ] as const)('%o -> %s', (s, text) => expect(commitPosition(s)).toBe(text));
});

describe('the status table', () => {
  it('shows each node as an operator reads it: health, stage, position, services, or why it is unreachable', () => {
    const rows = [
      summarizeNode(
        spec('mercury'),
        { reachable: true, status: status({ node: 'mercury' }) },
        HEAD,
        0,
      ),
      summarizeNode(
        spec('venus', 1),
        {
          reachable: true,
          status: status({
            node: 'venus',
            stage: 'deploy',
            stageStatus: 'failed',
            lock: { pid: 42, user: 'homelab', stage: 'deploy', commit: HEAD, since: 1 },
          }),
        },
        HEAD,
        2,
      ),
      summarizeNode(
        spec('pluto', 1),
        {
          reachable: true,
          status: status({
            node: 'pluto',
            bootstrapped: false,
            repoCommit: '',
            stage: '',
            stageStatus: '',
            target: '',
            deployed: '',
            knownGood: '',
            services: [],
          }),
        },
        HEAD,
        null,
      ),
      summarizeNode(
        spec('mars', 2),
        {
          reachable: false,
          reason: 'timeout',
          message: 'ssh: connect to host mars port 22: Connection timed out',
        },
        HEAD,
        null,
      ),
    ];
    const text = renderStatusTable('mesh-lab · main @ c0ffee0', rows);
    expect(text.split('\n')).toEqual([
      'mesh-lab · main @ c0ffee0',
      '',
      'NODE     WAVE  ROLE    HEALTH            STAGE                             DEPLOYED  POSITION    SERVICES',
      'mercury  0     worker  healthy           verify ok                         c0ffee0   up to date  web:healthy',
      'venus    1     worker  healthy           deploy failed (locked by pid 42)  c0ffee0   2 behind    web:healthy',
      'pluto    1     worker  not-bootstrapped  -                                 -         -           run `homelab node bootstrap pluto`',
      'mars     2     worker  unreachable       -                                 -         -           timeout: ssh: connect to host mars port 22: Connection timed out',
      '',
    ]);
  });

  it('only asks for the next stage of nodes it can reach', () => {
    expect(
      summarizeNode(
        spec('mars'),
        { reachable: false, reason: 'no-route', message: 'x' },
        HEAD,
        null,
      ).next,
    ).toBeNull();
    expect(
      summarizeNode(
        spec('venus'),
        { reachable: true, status: status({ stageStatus: 'failed' }) },
        HEAD,
        0,
      ).next,
    ).toBe('resume');
  });
});
