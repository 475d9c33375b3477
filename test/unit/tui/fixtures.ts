// Inventory entries, status records and probes for the TUI tests.
import type { NodeSpec } from '../../../src/core/inventory/model.js';
import type {
  ImageEvent,
  NodeStatusRecord,
  ServiceStatus,
} from '../../../src/core/protocol/events.js';
import type { NodeProbe, RepoInfo } from '../../../src/core/node/types.js';

export const HEAD = 'c0ffee1234567890c0ffee1234567890c0ffee12';
export const OLD = 'abcdef1234567890abcdef1234567890abcdef12';

export function spec(
  name: string,
  wave: number,
  services: string[],
  extra: Partial<NodeSpec> = {},
): NodeSpec {
  return {
    name,
    address: `${name}.tailnet`,
    role: 'server',
    tags: [],
    transport: 'tailscale-ssh',
    user: 'root',
    root: '/opt/homelab',
    repo: '/opt/homelab/repo',
    wave,
    ssh: { connectTimeout: 5 },
    services: services.map((s) => ({ name: s, secrets: [], checks: [], override: 'optional' })),
    ...extra,
  };
}

export function svc(
  name: string,
  node: string,
  state: ServiceStatus['state'] = 'running',
  health: ServiceStatus['health'] = 'healthy',
): ServiceStatus {
  return {
    name,
    project: `${node}_${name}`,
    state,
    health,
    containers:
      state === 'missing'
        ? []
        : [
            {
              name: `${node}_${name}-${name}-1`,
              state: state === 'running' ? 'running' : 'exited',
              health,
            },
          ],
  };
}

export function status(node: string, over: Partial<NodeStatusRecord> = {}): NodeStatusRecord {
  return {
    node,
    bootstrapped: true,
    repoCommit: HEAD,
    stage: 'verify',
    stageStatus: 'ok',
    run: 'r1',
    target: HEAD,
    deployed: HEAD,
    knownGood: HEAD,
    lock: null,
    services: [],
    ...over,
  };
}

export function up(node: string, st: NodeStatusRecord): NodeProbe {
  return { node, reachable: true, status: st, probedAt: 1, latencyMs: 12 };
}

export function down(node: string): NodeProbe {
  return {
    node,
    reachable: false,
    reason: 'timeout',
    message: 'no answer within 5s',
    probedAt: 1,
    latencyMs: 5000,
  };
}

export const REPO: RepoInfo = { branch: 'main', head: HEAD, headSubject: 'add grafana', dirty: [] };

export const NODES: NodeSpec[] = [
  spec('gateway', 0, ['caddy', 'adguard'], { role: 'edge', tags: ['dns'] }),
  spec('saturn', 1, ['gitea'], { role: 'control', transport: 'local' }),
  spec('solaria', 1, ['jellyfin', 'ollama'], { role: 'gpu', tags: ['gpu', 'media'] }),
  spec('vega', 2, ['grafana'], { role: 'monitor' }),
];

/** Probes for a homelab in mixed health: healthy, degraded + behind, failed, unreachable. */
export function mixedProbes(): NodeProbe[] {
  return [
    up(
      'gateway',
      status('gateway', { services: [svc('caddy', 'gateway'), svc('adguard', 'gateway')] }),
    ),
    up(
      'saturn',
      status('saturn', {
        deployed: OLD,
        target: OLD,
        knownGood: OLD,
        services: [svc('gitea', 'saturn', 'running', 'unhealthy')],
      }),
    ),
    up(
      'solaria',
      status('solaria', {
        stage: 'prepare',
        stageStatus: 'failed',
        deployed: OLD,
        knownGood: OLD,
        services: [svc('jellyfin', 'solaria'), svc('ollama', 'solaria', 'missing', 'none')],
      }),
    ),
    down('vega'),
  ];
}

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;

/** A service's image record from the registry lab: `updatable` when the tag points elsewhere. */
export function image(service: string, status: ImageEvent['status']): ImageEvent {
  return {
    type: 'image',
    ts: 1,
    service,
    containerService: service,
    ref: `127.0.0.1:5000/${service}:latest`,
    digest: `127.0.0.1:5000/${service}@${A}`,
    id: A,
    created: '2026-11-30T12:00:00Z',
    remoteDigest: status === 'updatable' ? B : A,
    remoteId: '',
    status,
    detail: '',
  };
}
