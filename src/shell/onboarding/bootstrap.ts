// `homelab node bootstrap <name>`: runs scripts/bootstrap/bootstrap-node.sh on the node over its
// transport. The repo does not exist on the node yet, so the script travels on stdin
// (`bash -s -- ARGS`), preceded by the one library it uses, scripts/deploy/lib/protocol.sh.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Inventory, NodeSpec } from '../../core/inventory/model.js';
import { createRunner } from '../transport/runner.js';
import type { NodeRunner, UnreachableReason } from '../transport/types.js';

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

export type BootstrapResult = 'ok' | 'failed' | 'needs-install' | 'unreachable' | 'cancelled';

export interface BootstrapOutcome {
  readonly node: string;
  readonly result: BootstrapResult;
  readonly exitCode: number | null;
  readonly steps: readonly BootstrapStep[];
  /** True when no step changed anything (a second run). */
  readonly unchanged: boolean;
  /** Packages the node lacks (result needs-install). */
  readonly missing: string;
  readonly unreachable?: { readonly reason: UnreachableReason; readonly message: string };
  /** The node's stderr lines (errors and warnings of the script; never secrets). */
  readonly stderr: readonly string[];
  readonly durationMs: number;
}

export interface BootstrapOptions {
  /** Install missing packages (the operator confirmed). */
  readonly yes?: boolean;
  readonly onStep?: (step: BootstrapStep) => void;
  /** Human log lines of the script (everything on stdout that is not a protocol record). */
  readonly onLog?: (line: string) => void;
  readonly onStderr?: (line: string) => void;
  readonly signal?: AbortSignal;
  /** A runner to reuse (tests, the TUI); default: a new one for the node, closed at the end. */
  readonly runner?: NodeRunner;
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
  if (r.stage !== 'bootstrap' || typeof r.step !== 'string' || typeof r.status !== 'string' || !STATUSES.has(r.status)) return undefined;
  return {
    step: r.step,
    status: r.status as BootstrapStep['status'],
    detail: typeof r.detail === 'string' ? r.detail : '',
    changed: r.changed === true,
    ...(typeof r.service === 'string' ? { service: r.service } : {}),
  };
}

/** The remote argv: `bash -s -- --node ... ` (the script arrives on stdin). */
export function bootstrapArgv(inventory: Inventory, node: NodeSpec, yes: boolean): string[] {
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
    '--root',
    node.root,
    '--repo',
    node.repo,
    '--transport',
    node.transport,
    ...(yes ? ['--yes'] : []),
  ];
}

/** protocol.sh followed by bootstrap-node.sh, as one script for `bash -s`. */
export async function bootstrapScript(repoDir: string): Promise<string> {
  const read = (rel: string): Promise<string> =>
    readFile(join(repoDir, rel), 'utf8').catch(() => {
      throw new Error(`${rel} is missing from ${repoDir}: the homelab repo must carry the project's scripts/`);
    });
  const [lib, script] = await Promise.all([read(PROTOCOL_LIB), read(BOOTSTRAP_SCRIPT)]);
  return `${lib.endsWith('\n') ? lib : `${lib}\n`}${script}`;
}

export async function bootstrapNode(
  repoDir: string,
  inventory: Inventory,
  node: NodeSpec,
  options: BootstrapOptions = {},
): Promise<BootstrapOutcome> {
  const started = Date.now();
  const input = await bootstrapScript(repoDir);
  const runner = options.runner ?? createRunner(node);
  const steps: BootstrapStep[] = [];
  const stderr: string[] = [];
  try {
    const res = await runner.run(bootstrapArgv(inventory, node, options.yes === true), {
      input,
      ...(options.signal ? { signal: options.signal } : {}),
      onStdout: (line) => {
        const step = parseBootstrapStep(line);
        if (step) {
          steps.push(step);
          options.onStep?.(step);
        } else if (!line.startsWith('@homelab/')) {
          options.onLog?.(line);
        }
      },
      onStderr: (line) => {
        stderr.push(line);
        options.onStderr?.(line);
      },
    });
    const missingStep = steps.find((s) => s.step === 'packages' && s.status === 'fail');
    const result: BootstrapResult = res.cancelled
      ? 'cancelled'
      : res.unreachable
        ? 'unreachable'
        : res.exitCode === BOOTSTRAP_EXIT.ok
          ? 'ok'
          : res.exitCode === BOOTSTRAP_EXIT.needsInstall
            ? 'needs-install'
            : 'failed';
    return {
      node: node.name,
      result,
      exitCode: res.exitCode,
      steps,
      unchanged: result === 'ok' && steps.every((s) => !s.changed),
      missing: missingStep ? /missing: ([^;]*)/.exec(missingStep.detail)?.[1] ?? '' : '',
      ...(res.unreachable ? { unreachable: res.unreachable } : {}),
      stderr,
      durationMs: Date.now() - started,
    };
  } finally {
    if (!options.runner) await runner.close();
  }
}
