// `homelab node bootstrap <name>`: runs scripts/bootstrap/bootstrap-node.sh on the node over its
// transport. The repo does not exist on the node yet, so the script travels on stdin
// (`bash -s -- ARGS`), preceded by the one library it uses, scripts/deploy/lib/protocol.sh.
import type { Inventory, NodeSpec } from '../../core/inventory/model.js';
import type { BootstrapStep } from './bootstrap-script.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TOPOLOGY_FILE } from '../../core/inventory/parse.js';
import {
  topologyNamesRoot,
  BOOTSTRAP_EXIT,
  bootstrapArgv,
  bootstrapScript,
  parseBootstrapStep,
} from './bootstrap-script.js';
import { controlSocketDir } from '../control/control.js';
import { createRunner } from '../transport/runner.js';
import type { UnreachableReason } from '../../core/node/types.js';
import type { NodeRunner } from '../transport/types.js';

export type { BootstrapStep } from './bootstrap-script.js';

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
  /** Environment of the transport (ssh, tailscale, or the script itself for a local node). */
  readonly env?: NodeJS.ProcessEnv;
}

export async function bootstrapNode(
  repoDir: string,
  inventory: Inventory,
  node: NodeSpec,
  options: BootstrapOptions = {},
): Promise<BootstrapOutcome> {
  const started = Date.now();
  const input = await bootstrapScript(repoDir);
  const env = options.env ?? process.env;
  // The same control sockets as every other command (HOMELAB_SSH_CONTROL_DIR), so a connection
  // that is already open is reused.
  const runner = options.runner ?? createRunner(node, { env, controlDir: controlSocketDir(env) });
  const steps: BootstrapStep[] = [];
  const stderr: string[] = [];
  try {
    const topology = await readFile(join(repoDir, TOPOLOGY_FILE), 'utf8').catch(() => '');
    const rootGiven = topologyNamesRoot(topology, node.name);
    const res = await runner.run(bootstrapArgv(inventory, node, options.yes === true, rootGiven), {
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
      missing: missingStep ? (/missing: ([^;]*)/.exec(missingStep.detail)?.[1] ?? '') : '',
      ...(res.unreachable ? { unreachable: res.unreachable } : {}),
      stderr,
      durationMs: Date.now() - started,
    };
  } finally {
    if (!options.runner) await runner.close();
  }
}
