// Redaction with the node's own .env values, without those values ever reaching SATURN: SATURN sends
// the text (from its Git repo) to the node's `diagnose.sh redact` filter and gets it back redacted.
import type { NodeSpec } from '../../core/inventory/model.js';
import type { NodeRunner } from '../transport/types.js';

export interface NodeRedaction {
  /** The parts, redacted on the node; the originals when the node could not be asked (ok false). */
  readonly parts: readonly string[];
  readonly ok: boolean;
  readonly message: string;
}

export function diagnoseScriptPath(node: NodeSpec): string {
  return `${node.repo}/scripts/deploy/lib/diagnose.sh`;
}

/** One round trip for all parts: they travel joined by a separator line the node cannot produce. */
export async function redactOnNode(
  runner: NodeRunner,
  node: NodeSpec,
  parts: readonly string[],
  timeoutMs = 30_000,
): Promise<NodeRedaction> {
  if (parts.length === 0) return { parts, ok: true, message: '' };
  const sep = `@@homelab-redact-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}@@`;
  const input = parts.join(`\n${sep}\n`);
  const out: string[] = [];
  const err: string[] = [];
  const result = await runner.run(
    ['bash', diagnoseScriptPath(node), 'redact', '--root', node.root],
    {
      input,
      timeoutMs,
      onStdout: (l) => out.push(l),
      onStderr: (l) => err.push(l),
    },
  );
  if (result.exitCode !== 0 || result.unreachable) {
    const why =
      result.unreachable?.message ??
      (result.timedOut
        ? 'timed out'
        : err.slice(-2).join(' ') || `exit ${result.exitCode ?? 'none'}`);
    return { parts, ok: false, message: `could not redact on ${node.name}: ${why}` };
  }
  const back = out.join('\n').replace(/\n$/, '').split(`\n${sep}\n`);
  if (back.length !== parts.length)
    return {
      parts,
      ok: false,
      message: `could not redact on ${node.name}: the filter returned ${back.length} parts for ${parts.length}`,
    };
  return { parts: back, ok: true, message: '' };
}
