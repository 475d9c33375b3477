// Probes nodes in parallel and summarizes them against SATURN's HEAD.
import { summarizeNode, type NodeSummary } from '../../core/status/summary.js';
import type { NodeProbe } from '../../core/node/types.js';
import type { Control } from './types.js';

export interface StatusReport {
  readonly homelab: string;
  readonly branch: string;
  readonly head: string;
  readonly dirty: readonly string[];
  readonly nodes: readonly NodeSummary[];
}

export function probeOutcome(probe: NodeProbe) {
  return probe.reachable
    ? { reachable: true, status: probe.status }
    : {
        reachable: false,
        reason: probe.reason,
        message: probe.message,
        ...(probe.checkUrl ? { checkUrl: probe.checkUrl } : {}),
      };
}

export async function collectStatus(
  control: Control,
  only: readonly string[] = [],
): Promise<StatusReport> {
  const specs = control.inventory.nodes.filter((n) => only.length === 0 || only.includes(n.name));
  // The whole homelab goes through probeAll's bounded fan-out; a few named nodes are probed directly.
  const probing =
    only.length === 0 ? control.probeAll() : Promise.all(specs.map((s) => control.probe(s.name)));
  const [info, probes] = await Promise.all([control.repoInfo(), probing]);
  // Behind counts the commits that change what that node runs, so it is asked per node.
  const behind = (node: string, commit: string): Promise<number | null> =>
    control.commitsBehind(node, commit);
  const nodes = await Promise.all(
    specs.map(async (spec, i) => {
      const probe = probes[i]!;
      const deployed = probe.reachable ? probe.status.deployed : '';
      return summarizeNode(
        spec,
        probeOutcome(probe),
        info.head,
        deployed ? await behind(spec.name, deployed) : null,
      );
    }),
  );
  return {
    homelab: control.inventory.homelab,
    branch: info.branch,
    head: info.head,
    dirty: info.dirty,
    nodes,
  };
}
