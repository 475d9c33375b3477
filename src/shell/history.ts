// Reads the nodes' history (`deploy.sh history` over each node's connection) and a run's log
// (`deploy.sh attach --run ID`). Every text from a node is screen-safe (toScreen) on arrival.
import { deployScriptPath } from '../core/inventory/model.js';
import { parseNodeLine } from '../core/protocol/parse.js';
import { screenSafeEvent } from '../core/protocol/screen-safe.js';
import { toScreen } from '../core/recover/redact.js';
import type { HistoryEntry, NodeHistory } from '../core/status/history.js';
import { mapLimit } from './fanout.js';
import type { Control } from './control/types.js';

const HISTORY_TIMEOUT_MS = 20_000;

export async function readNodeHistory(
  control: Control,
  node: string,
  signal?: AbortSignal,
): Promise<NodeHistory> {
  const spec = control.inventory.nodes.find((n) => n.name === node);
  if (!spec) return { node, entries: [], error: `no node "${node}" in inventory/topology.yaml` };
  const entries: HistoryEntry[] = [];
  const stderr: string[] = [];
  const result = await control
    .nodeRunner(node)
    .run([deployScriptPath(spec), 'history', '--root', spec.root, '--node', spec.name], {
      onStdout: (text) => {
        const line = parseNodeLine(text);
        if (line.kind !== 'event' || line.event.type !== 'history') return;
        const ev = screenSafeEvent(line.event);
        if (ev.type !== 'history') return;
        const { type: _t, ts: _ts, ...entry } = ev;
        entries.push({ ...entry, node: spec.name });
      },
      onStderr: (text) => stderr.push(toScreen(text)),
      timeoutMs: spec.ssh.connectTimeout * 1000 + HISTORY_TIMEOUT_MS,
      ...(signal ? { signal } : {}),
    });
  if (result.unreachable) return { node, entries, error: result.unreachable.message };
  if (result.timedOut) return { node, entries, error: 'deploy.sh history did not answer in time' };
  if (result.exitCode !== 0) {
    const last = stderr.filter(Boolean).at(-1) ?? `exit ${result.exitCode ?? 'none'}`;
    // An older deploy.sh has no history command: say how to get one.
    const why = /unknown stage 'history'/.test(last)
      ? `its deploy.sh has no history (update scripts: homelab scripts update, commit, then prepare ${node})`
      : last;
    return { node, entries, error: why };
  }
  return { node, entries, error: '' };
}

/** Every named node's history (all when none named), in parallel. */
export function readFleetHistory(
  control: Control,
  only: readonly string[] = [],
  signal?: AbortSignal,
): Promise<NodeHistory[]> {
  const nodes = control.inventory.nodes.filter((n) => only.length === 0 || only.includes(n.name));
  return mapLimit(nodes, 16, (spec) => readNodeHistory(control, spec.name, signal));
}

/** A run's whole log (`deploy.sh attach --run ID`), screen-safe, one string per line. */
export async function readRunLog(
  control: Control,
  node: string,
  run: string,
  signal?: AbortSignal,
): Promise<{ readonly lines: readonly string[]; readonly error: string }> {
  const spec = control.inventory.nodes.find((n) => n.name === node);
  if (!spec) return { lines: [], error: `no node "${node}"` };
  if (!/^[A-Za-z0-9._-]+$/.test(run)) return { lines: [], error: `"${run}" is not a run id` };
  const lines: string[] = [];
  const stderr: string[] = [];
  const result = await control
    .nodeRunner(node)
    .run(
      [deployScriptPath(spec), 'attach', '--root', spec.root, '--node', spec.name, '--run', run],
      {
        onStdout: (text) => lines.push(toScreen(text)),
        onStderr: (text) => stderr.push(toScreen(text)),
        timeoutMs: spec.ssh.connectTimeout * 1000 + HISTORY_TIMEOUT_MS,
        ...(signal ? { signal } : {}),
      },
    );
  if (result.unreachable) return { lines, error: result.unreachable.message };
  const gone = stderr.find((l) => /no run .*to attach to/.test(l));
  if (gone) return { lines, error: `${gone.replace(/^deploy\.sh: /, '')} (its log was pruned)` };
  return { lines, error: '' };
}
