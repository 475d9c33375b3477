// Reads what each node's services run against their tags in the registry (`deploy.sh images`
// over the node's connection; the node asks the registry with its own docker login, no pull).
// Every text from a node is screen-safe (toScreen) on arrival.
import { deployScriptPath } from '../core/inventory/model.js';
import type { NodeImages } from '../core/images/updates.js';
import type { ImageEvent } from '../core/protocol/events.js';
import { parseNodeLine } from '../core/protocol/parse.js';
import { screenSafeEvent } from '../core/protocol/screen-safe.js';
import { toScreen } from '../core/recover/redact.js';
import { mapLimit } from './fanout.js';
import type { Control } from './control/types.js';

const IMAGES_TIMEOUT_MS = 60_000;

export async function readNodeImages(
  control: Control,
  node: string,
  signal?: AbortSignal,
): Promise<NodeImages> {
  const spec = control.inventory.nodes.find((n) => n.name === node);
  if (!spec) return { node, images: [], error: `no node "${node}" in inventory/topology.yaml` };
  const images: ImageEvent[] = [];
  const stderr: string[] = [];
  const result = await control
    .nodeRunner(node)
    .run([deployScriptPath(spec), 'images', '--root', spec.root, '--node', spec.name], {
      onStdout: (text) => {
        const line = parseNodeLine(text);
        if (line.kind !== 'event' || line.event.type !== 'image') return;
        const ev = screenSafeEvent(line.event);
        if (ev.type === 'image') images.push(ev);
      },
      onStderr: (text) => stderr.push(toScreen(text)),
      timeoutMs: spec.ssh.connectTimeout * 1000 + IMAGES_TIMEOUT_MS,
      ...(signal ? { signal } : {}),
    });
  if (result.unreachable) return { node, images, error: result.unreachable.message };
  if (result.timedOut) return { node, images, error: 'deploy.sh images did not answer in time' };
  if (result.exitCode !== 0) {
    const last = stderr.filter(Boolean).at(-1) ?? `exit ${result.exitCode ?? 'none'}`;
    const why = /unknown stage 'images'/.test(last)
      ? `its deploy.sh has no images command (update scripts: homelab scripts update, commit, then prepare ${node})`
      : last.replace(/^deploy\.sh: /, '');
    return { node, images, error: why };
  }
  return { node, images, error: '' };
}

/** Every named node's images (all when none named), in parallel. */
export function readFleetImages(
  control: Control,
  only: readonly string[] = [],
  signal?: AbortSignal,
): Promise<NodeImages[]> {
  const nodes = control.inventory.nodes.filter((n) => only.length === 0 || only.includes(n.name));
  return mapLimit(nodes, 16, (spec) => readNodeImages(control, spec.name, signal));
}
