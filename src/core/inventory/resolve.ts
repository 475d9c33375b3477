// Applies the defaults to a topology that passed the schema: the resolved Inventory everything
// downstream reads.
import type { Check, Inventory, NodeSpec, ServiceSpec, SshOptions } from './model.js';
import type { RawCheck, RawNode, RawService, RawSsh, RawTopology } from './schema.js';
import { parseTcpTarget } from './schema.js';

export const DEFAULTS = {
  transport: 'tailscale-ssh',
  user: 'homelab',
  root: '/opt/homelab',
  connectTimeout: 5,
  role: 'worker',
  wave: 0,
  branch: 'main',
  httpStatus: 200,
} as const;

function resolveSsh(base: RawSsh | undefined, own: RawSsh | undefined): SshOptions {
  const merged = { ...base, ...own };
  return {
    ...(merged.port !== undefined ? { port: merged.port } : {}),
    ...(merged.identityFile !== undefined ? { identityFile: merged.identityFile } : {}),
    ...(merged.knownHostsFile !== undefined ? { knownHostsFile: merged.knownHostsFile } : {}),
    connectTimeout: merged.connectTimeout ?? DEFAULTS.connectTimeout,
  };
}

function resolveCheck(c: RawCheck): Check {
  if (c.http !== undefined)
    return { kind: 'http', url: c.http, status: c.status ?? DEFAULTS.httpStatus };
  const t = parseTcpTarget(c.tcp ?? '');
  if (!t) throw new Error(`unvalidated tcp check ${String(c.tcp)}`);
  return { kind: 'tcp', host: t.host, port: t.port };
}

function resolveService(s: RawService): ServiceSpec {
  return {
    name: s.name,
    secrets: s.secrets ?? [],
    checks: (s.checks ?? []).map(resolveCheck),
    override: s.override ?? 'optional',
    ...(s.confirm === 'required' ? { confirm: 'required' as const } : {}),
  };
}

function resolveNode(name: string, n: RawNode, t: RawTopology): NodeSpec {
  const d = t.defaults;
  const root = n.root ?? d?.root ?? DEFAULTS.root;
  return {
    name,
    address: n.address,
    role: n.role ?? DEFAULTS.role,
    tags: n.tags ?? [],
    transport: n.transport ?? d?.transport ?? DEFAULTS.transport,
    user: n.user ?? d?.user ?? DEFAULTS.user,
    root,
    repo: n.repo ?? (n.root === undefined ? d?.repo : undefined) ?? `${root}/repo`,
    wave: n.wave ?? DEFAULTS.wave,
    ssh: resolveSsh(d?.ssh, n.ssh),
    services: (n.services ?? []).map(resolveService),
    ...(n.confirm === 'required' || n.services?.some((s) => s.confirm === 'required')
      ? { confirm: 'required' as const }
      : {}),
    ...(n.confirmTimeout !== undefined ? { confirmTimeout: n.confirmTimeout } : {}),
  };
}

export function resolveInventory(t: RawTopology): Inventory {
  return {
    homelab: t.homelab,
    git: { remote: t.git.remote, branch: t.git.branch ?? DEFAULTS.branch },
    nodes: Object.entries(t.nodes).map(([name, n]) => resolveNode(name, n, t)),
    ...(t.ai ? { ai: { command: t.ai.command } } : {}),
    ...(t.notify ? { notify: { ...t.notify } } : {}),
    ...(t.deploy ? { deploy: { ...t.deploy } } : {}),
  };
}
