// Reads a node's resources (`deploy.sh resources` over the node's connection: docker stats
// --no-stream and df, about 1-2 s, so never part of the status probe). Every text from a node is
// screen-safe (toScreen) on arrival.
import { deployScriptPath } from '../core/inventory/model.js';
import type { ResourcesEvent } from '../core/protocol/events.js';
import { parseNodeLine } from '../core/protocol/parse.js';
import { screenSafeEvent } from '../core/protocol/screen-safe.js';
import { toScreen } from '../core/recover/redact.js';
import type { NodeResources } from '../core/status/resources.js';
import { mapLimit } from './fanout.js';
import type { Control } from './control/types.js';

const RESOURCES_TIMEOUT_MS = 30_000;

export async function readNodeResources(
  control: Control,
  node: string,
  signal?: AbortSignal,
): Promise<NodeResources> {
  const spec = control.inventory.nodes.find((n) => n.name === node);
  if (!spec)
    return { node, resources: null, error: `no node "${node}" in inventory/topology.yaml` };
  let resources: ResourcesEvent | null = null;
  const stderr: string[] = [];
  const result = await control
    .nodeRunner(node)
    .run([deployScriptPath(spec), 'resources', '--root', spec.root, '--node', spec.name], {
      onStdout: (text) => {
        const line = parseNodeLine(text);
        if (line.kind !== 'event' || line.event.type !== 'resources') return;
        const ev = screenSafeEvent(line.event);
        if (ev.type === 'resources') resources = ev;
      },
      onStderr: (text) => stderr.push(toScreen(text)),
      timeoutMs: spec.ssh.connectTimeout * 1000 + RESOURCES_TIMEOUT_MS,
      ...(signal ? { signal } : {}),
    });
  if (result.unreachable) return { node, resources, error: result.unreachable.message };
  if (result.timedOut)
    return { node, resources, error: 'deploy.sh resources did not answer in time' };
  if (result.exitCode !== 0 || !resources) {
    const last = stderr.filter(Boolean).at(-1) ?? `exit ${result.exitCode ?? 'none'}`;
    const why = /unknown stage 'resources'/.test(last)
      ? `its deploy.sh has no resources command (update scripts: homelab scripts update, commit, then prepare ${node})`
      : last.replace(/^deploy\.sh: /, '');
    return { node, resources, error: why };
  }
  return { node, resources, error: '' };
}

/** Every named node's resources (all when none named), in parallel. */
export function readFleetResources(
  control: Control,
  only: readonly string[] = [],
  signal?: AbortSignal,
): Promise<NodeResources[]> {
  const nodes = control.inventory.nodes.filter((n) => only.length === 0 || only.includes(n.name));
  return mapLimit(nodes, 16, (spec) => readNodeResources(control, spec.name, signal));
}
