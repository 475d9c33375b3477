// What travels to a node for `homelab node bootstrap`, and how its output reads: the script
// (scripts/deploy/lib/protocol.sh followed by scripts/bootstrap/bootstrap-node.sh, for `bash -s`),
// its arguments, its exit codes and its step records. No transport here.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import type { Inventory, NodeSpec } from '../../core/inventory/model.js';

export const BOOTSTRAP_SCRIPT = 'scripts/bootstrap/bootstrap-node.sh';
export const PROTOCOL_LIB = 'scripts/deploy/lib/protocol.sh';

/** bootstrap-node.sh exit codes. */
export const BOOTSTRAP_EXIT = { ok: 0, failed: 1, usage: 2, needsInstall: 10 } as const;

export interface BootstrapStep {
  readonly step: string;
  readonly status: 'start' | 'ok' | 'skip' | 'fail';
  readonly detail: string;
  /** True when the step changed the node. */
  readonly changed: boolean;
  readonly service?: string;
}

const STEP_PREFIX = '@homelab/1 step ';
const STATUSES = new Set(['start', 'ok', 'skip', 'fail']);

/** A `@homelab/1 step {...}` record of the bootstrap stage, or undefined for any other line. */
export function parseBootstrapStep(line: string): BootstrapStep | undefined {
  if (!line.startsWith(STEP_PREFIX)) return undefined;
  let rec: unknown;
  try {
    rec = JSON.parse(line.slice(STEP_PREFIX.length));
  } catch {
    return undefined;
  }
  if (typeof rec !== 'object' || rec === null) return undefined;
  const r = rec as Record<string, unknown>;
  if (
    r.stage !== 'bootstrap' ||
    typeof r.step !== 'string' ||
    typeof r.status !== 'string' ||
    !STATUSES.has(r.status)
  )
    return undefined;
  return {
    step: r.step,
    status: r.status as BootstrapStep['status'],
    detail: typeof r.detail === 'string' ? r.detail : '',
    changed: r.changed === true,
    ...(typeof r.service === 'string' ? { service: r.service } : {}),
  };
}

/**
 * The remote argv: `bash -s -- --node ... ` (the script arrives on stdin). `rootGiven` false (the
 * topology sets no root for the node, nor in its defaults): --root and --repo are left out and the
 * node's own HOMELAB_ROOT (else /opt/homelab) decides, as deploy.sh does.
 */
export function bootstrapArgv(
  inventory: Inventory,
  node: NodeSpec,
  yes: boolean,
  rootGiven = true,
): string[] {
  return [
    'bash',
    '-s',
    '--',
    '--node',
    node.name,
    '--remote',
    inventory.git.remote,
    '--branch',
    inventory.git.branch,
    ...(rootGiven ? ['--root', node.root, '--repo', node.repo] : []),
    '--transport',
    node.transport,
    ...(yes ? ['--yes'] : []),
  ];
}

/** protocol.sh followed by bootstrap-node.sh, as one script for `bash -s`. */
export async function bootstrapScript(repoDir: string): Promise<string> {
  const read = (rel: string): Promise<string> =>
    readFile(join(repoDir, rel), 'utf8').catch(() => {
      throw new Error(
        `${rel} is missing from ${repoDir}: the homelab repo must carry the project's scripts/`,
      );
    });
  const [lib, script] = await Promise.all([read(PROTOCOL_LIB), read(BOOTSTRAP_SCRIPT)]);
  return `${lib.endsWith('\n') ? lib : `${lib}\n`}${script}`;
}

/** Whether inventory/topology.yaml names the node's root (or repo) itself, or in its defaults. */
export function topologyNamesRoot(topologyText: string, node: string): boolean {
  const doc = parseDocument(topologyText, { uniqueKeys: false });
  return ['root', 'repo'].some(
    (k) => doc.getIn(['nodes', node, k]) !== undefined || doc.getIn(['defaults', k]) !== undefined,
  );
}
