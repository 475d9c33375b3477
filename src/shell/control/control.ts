// The one implementation of Control: SATURN's operations on the homelab, over each node's transport.
import { setTimeout as delay } from 'node:timers/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { deployScriptPath, type Inventory, type NodeSpec } from '../../core/inventory/model.js';
import { formatProblem, type Problem } from '../../core/problem.js';
import {
  CHANGING_STAGES,
  type NodeEvent,
  type NodeStatusRecord,
  type RunEndEvent,
  type Stage,
  type StageEndEvent,
  type StepEvent,
} from '../../core/protocol/events.js';
import { parseNodeLine } from '../../core/protocol/parse.js';
import { loadInventory } from '../inventory/load.js';
import { mapLimit } from '../fanout.js';
import { changedPaths, commitsBehind, dirtyPaths, headInfo } from '../git.js';
import { createRunner } from '../transport/runner.js';
import type { NodeRunner } from '../transport/types.js';
import type { NodeProbe, RepoInfo, StageOutcome, StageResult } from '../../core/node/types.js';
import type { Control, StageRequest } from './types.js';

export interface ControlOptions {
  readonly repoDir: string;
  /** Stages that change a node run with --dry-run (the demo without a Docker engine). */
  readonly dryRun?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  /** Nodes probed at once. */
  readonly concurrency?: number;
  /** Deadline for one `deploy.sh status` beyond the connect timeout. */
  readonly probeTimeoutMs?: number;
}

/** The inventory has problems: nothing may run on a node. */
export class InvalidInventoryError extends Error {
  constructor(readonly problems: readonly Problem[]) {
    super(
      `inventory is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}); run \`homelab validate\`:\n${problems.map(formatProblem).join('\n')}`,
    );
  }
}

// What deploy.sh accepts --dry-run on.
const DRY_RUN_STAGES: readonly Stage[] = ['prepare', 'deploy', 'rollback'];
const REATTACH_ATTEMPTS = 5;

export function controlSocketDir(env: NodeJS.ProcessEnv): string {
  // Socket paths must stay short (~104 bytes): a per-user folder under /tmp, never the repo.
  return env.HOMELAB_SSH_CONTROL_DIR ?? join('/tmp', `homelab-ssh-${process.getuid?.() ?? 'user'}`);
}

export function stateDir(env: NodeJS.ProcessEnv): string {
  return (
    env.HOMELAB_STATE_DIR ??
    join(env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'homelab')
  );
}

function remoteArgs(node: NodeSpec, stage: string, extra: readonly string[] = []): string[] {
  return [deployScriptPath(node), stage, '--root', node.root, '--node', node.name, ...extra];
}

function notBootstrapped(node: string): NodeStatusRecord {
  return {
    node,
    bootstrapped: false,
    repoCommit: '',
    stage: '',
    stageStatus: '',
    run: '',
    target: '',
    deployed: '',
    knownGood: '',
    lock: null,
    services: [],
  };
}

function resultFromExit(exit: number | null): StageResult {
  switch (exit) {
    case 0:
      return 'ok';
    case 3:
      return 'locked';
    case 129:
    case 130:
    case 143:
      return 'interrupted';
    default:
      return 'failed';
  }
}

export async function openControl(options: ControlOptions): Promise<Control> {
  const env = options.env ?? process.env;
  const { inventory, problems } = await loadInventory(options.repoDir);
  if (!inventory) throw new InvalidInventoryError(problems);
  return new ShellControl(inventory, options, env);
}

class ShellControl implements Control {
  private readonly runners = new Map<string, NodeRunner>();

  constructor(
    readonly inventory: Inventory,
    private readonly options: ControlOptions,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  get repoDir(): string {
    return this.options.repoDir;
  }

  private spec(name: string): NodeSpec {
    const spec = this.inventory.nodes.find((n) => n.name === name);
    if (!spec)
      throw new Error(
        `no node "${name}" in inventory/topology.yaml (nodes: ${this.inventory.nodes.map((n) => n.name).join(', ')})`,
      );
    return spec;
  }

  private runner(spec: NodeSpec): NodeRunner {
    let runner = this.runners.get(spec.name);
    if (!runner) {
      runner = createRunner(spec, { controlDir: controlSocketDir(this.env), env: this.env });
      this.runners.set(spec.name, runner);
    }
    return runner;
  }

  nodeRunner(node: string): NodeRunner {
    return this.runner(this.spec(node));
  }

  async repoInfo(): Promise<RepoInfo> {
    const [head, dirty] = await Promise.all([headInfo(this.repoDir), dirtyPaths(this.repoDir)]);
    return { branch: head.branch, head: head.head, headSubject: head.subject, dirty };
  }

  async probe(name: string, signal?: AbortSignal): Promise<NodeProbe> {
    const spec = this.spec(name);
    const started = Date.now();
    let record: NodeStatusRecord | undefined;
    const stderr: string[] = [];
    const result = await this.runner(spec).run(remoteArgs(spec, 'status'), {
      onStdout: (text) => {
        const line = parseNodeLine(text);
        if (line.kind === 'event' && line.event.type === 'status') record = line.event.status;
      },
      onStderr: (text) => stderr.push(text),
      timeoutMs: spec.ssh.connectTimeout * 1000 + (this.options.probeTimeoutMs ?? 15_000),
      ...(signal ? { signal } : {}),
    });
    const base = { node: name, probedAt: Date.now(), latencyMs: Date.now() - started };
    if (record) return { ...base, reachable: true, status: record };
    if (result.unreachable?.reason === 'command-not-found' || result.exitCode === 127) {
      return { ...base, reachable: true, status: notBootstrapped(name) };
    }
    if (result.unreachable)
      return {
        ...base,
        reachable: false,
        reason: result.unreachable.reason,
        message: result.unreachable.message,
      };
    if (result.timedOut)
      return {
        ...base,
        reachable: false,
        reason: 'timeout',
        message: `deploy.sh status did not answer in time`,
      };
    const last = stderr.filter(Boolean).at(-1) ?? `exit ${result.exitCode}`;
    return {
      ...base,
      reachable: false,
      reason: 'unknown',
      message: `deploy.sh status printed no status record (${last})`,
    };
  }

  async probeAll(onProbe?: (probe: NodeProbe) => void, signal?: AbortSignal): Promise<NodeProbe[]> {
    return mapLimit(this.inventory.nodes, this.options.concurrency ?? 16, async (spec) => {
      const probe = await this.probe(spec.name, signal);
      onProbe?.(probe);
      return probe;
    });
  }

  commitsBehind(commit: string): Promise<number | null> {
    return commitsBehind(this.repoDir, commit);
  }

  async changedServices(node: string, from: string): Promise<string[]> {
    const spec = this.spec(node);
    const assigned = spec.services.map((s) => s.name);
    if (!from) return assigned;
    const head = (await headInfo(this.repoDir)).head;
    const prefix = `hosts/${node}/`;
    const paths = await changedPaths(this.repoDir, from, head, prefix);
    const touched = new Set(paths.map((p) => p.slice(prefix.length).split('/')[0] ?? ''));
    // A changed node.manifest (secrets, checks, assignment) touches every service it names.
    if (touched.has('node.manifest')) return assigned;
    return [...touched].filter((s) => s && s !== 'node.manifest').sort();
  }

  async runStage(request: StageRequest): Promise<StageOutcome> {
    const started = Date.now();
    const spec = this.spec(request.node);
    const info = await this.repoInfo();
    const outcome = (
      result: StageResult,
      exitCode: number | null,
      message: string,
    ): StageOutcome => ({
      node: spec.name,
      stage: request.stage,
      commit: info.head,
      result,
      exitCode,
      message,
      durationMs: Date.now() - started,
    });
    if (CHANGING_STAGES.includes(request.stage) && info.dirty.length > 0) {
      return outcome(
        'refused',
        null,
        `SATURN has uncommitted changes under inventory/ or hosts/ (${info.dirty.join(', ')}); commit them first: nodes only deploy committed work`,
      );
    }
    const extra = ['--detach'];
    if (request.stage === 'prepare') extra.push('--ref', info.head);
    if (this.options.dryRun && DRY_RUN_STAGES.includes(request.stage)) extra.push('--dry-run');

    let seen = 0;
    let runId = '';
    let runEnd: RunEndEvent | undefined;
    let failure = '';
    const onStdout = (text: string): void => {
      seen += 1;
      const line = parseNodeLine(text);
      if (line.kind === 'event') {
        const ev = line.event;
        if (ev.type === 'run') runId = ev.run;
        if (ev.type === 'run-end') runEnd = ev;
        failure = failureText(ev) ?? failure;
      }
      request.onLine?.(line);
    };
    const onStderr = (text: string): void => request.onLine?.({ kind: 'log', text });
    const runner = this.runner(spec);
    const signalOpt = request.signal ? { signal: request.signal } : {};
    let result = await runner.run(remoteArgs(spec, request.stage, extra), {
      onStdout,
      onStderr,
      ...signalOpt,
    });

    // The stage runs detached on the node: a dropped connection loses only the view of it.
    // Lines are numbered from 1: after K lines, the next one to read is K + 1.
    for (
      let attempt = 0;
      attempt < REATTACH_ATTEMPTS &&
      result.unreachable &&
      runId &&
      !runEnd &&
      !request.signal?.aborted;
      attempt += 1
    ) {
      request.onLine?.({
        kind: 'log',
        text: `homelab: connection to ${spec.name} lost (${result.unreachable.message}); re-attaching`,
      });
      await delay(500 * 2 ** attempt);
      result = await runner.run(
        remoteArgs(spec, 'attach', ['--run', runId, '--from-line', String(seen + 1)]),
        { onStdout, onStderr, ...signalOpt },
      );
    }

    if (result.cancelled)
      return outcome(
        'cancelled',
        null,
        `stopped following ${request.stage} on ${spec.name}; it goes on there (deploy.sh attach)`,
      );
    if (result.unreachable && !runEnd) {
      if (result.unreachable.reason === 'command-not-found') {
        return outcome(
          'failed',
          result.exitCode,
          `${spec.name} is not bootstrapped: ${deployScriptPath(spec)} is missing (run \`homelab node bootstrap ${spec.name}\`)`,
        );
      }
      return outcome('unreachable', result.exitCode, result.unreachable.message);
    }
    const exit = runEnd?.exit ?? result.exitCode;
    const res = resultFromExit(exit);
    const message =
      res === 'ok'
        ? ''
        : failure ||
          (res === 'locked'
            ? `another deploy holds the lock on ${spec.name}`
            : `${request.stage} exited ${exit}`);
    return outcome(res, exit, message);
  }

  async close(): Promise<void> {
    await Promise.all([...this.runners.values()].map((r) => r.close()));
    this.runners.clear();
  }
}

function failureText(ev: NodeEvent): string | undefined {
  if (ev.type === 'stage-end' && ev.result === 'failed') return stageEndText(ev);
  if (ev.type === 'step' && ev.status === 'fail') return stepText(ev);
  return undefined;
}

function stageEndText(ev: StageEndEvent): string {
  return ev.error ? `${ev.stage} failed: ${ev.error}` : `${ev.stage} failed`;
}

function stepText(ev: StepEvent): string {
  const what = ev.service ? `${ev.step} ${ev.service}` : ev.step;
  return ev.detail
    ? `${ev.stage} failed at ${what}: ${ev.detail}`
    : `${ev.stage} failed at ${what}`;
}
