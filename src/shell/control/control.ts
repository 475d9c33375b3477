// The one implementation of Control: SATURN's operations on the homelab, over each node's transport.
import { setTimeout as delay } from 'node:timers/promises';
import { join } from 'node:path';
import { deployScriptPath, type Inventory, type NodeSpec } from '../../core/inventory/model.js';
import { formatProblem, type Problem } from '../../core/problem.js';
import {
  CHANGING_STAGES,
  type ConfirmEvent,
  type NodeEvent,
  type NodeStatusRecord,
  type RunEndEvent,
  type Stage,
  type StageEndEvent,
  type StepEvent,
} from '../../core/protocol/events.js';
import { parseNodeLine } from '../../core/protocol/parse.js';
import { screenSafeEvent, screenSafeLine } from '../../core/protocol/screen-safe.js';
import { toScreen } from '../../core/recover/redact.js';
import { checkBannerUrl } from '../../core/remote/unreachable.js';
import { pinStage, STATUS_STAGES, type Pin } from '../../core/stage/pin.js';
import { loadInventory } from '../inventory/load.js';
import { mapLimit } from '../fanout.js';
import { commitsBehind } from '../git.js';
import { CheckGate } from '../transport/check-gate.js';
import { createRunner } from '../transport/runner.js';
import { createNotifier, operatorName, type Notifier, type WalkEndNotice } from '../notify.js';
import type { NodeRunner } from '../transport/types.js';
import type { NodeProbe, RepoInfo, StageOutcome, StageResult } from '../../core/node/types.js';
import { RepoFacts } from './repo-facts.js';
import type { Control, ConfirmOutcome, StagePlan, StageRequest } from './types.js';

export interface ControlOptions {
  readonly repoDir: string;
  /** Stages that change a node run with --dry-run (the demo without a Docker engine). */
  readonly dryRun?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  /** Nodes probed at once (default 32: a fleet of 20 in one round, not 16 and then 4). */
  readonly concurrency?: number;
  /**
   * Every command opens a connection of its own: no control master, no `ssh -O exit`. For a
   * one-shot command that asks each node once (`homelab status`): one ssh process per node, not
   * three (master, command, exit). Plain `ssh` nodes only: `tailscale-ssh` keeps its master, which
   * holds a Tailscale SSH check for the commands after it.
   */
  readonly freshConnections?: boolean;
  /** Deadline for one `deploy.sh status` beyond the connect timeout. */
  readonly probeTimeoutMs?: number;
  /** A notification that could not be delivered, as one line (default: stderr). */
  readonly onWarning?: (line: string) => void;
  /**
   * Open as soon as every check but the secret scan passed (the TUI's rows before the scan):
   * every command on a node waits for the scan first (the first one starts it, if
   * checkInventory() has not), and is refused (InvalidInventoryError) when it found a secret.
   */
  readonly deferSecretScan?: boolean;
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
const DRY_RUN_STAGES: readonly Stage[] = ['prepare', 'deploy', 'rollback', 'up'];
// What deploy.sh accepts --confirm on (the stages that run verify towards a new commit).
const CONFIRM_STAGES: readonly Stage[] = ['verify', 'resume', 'up'];
// Re-attaching after a lost follower: up to 8 tries over about 30 s (a node rebooting its network).
const REATTACH_ATTEMPTS = 8;
const reattachDelay = (attempt: number): number => Math.min(500 * 2 ** attempt, 5000);
// What `deploy.sh attach` says when the run is gone without its end (killed) or unknown.
// Group 1 set: the run ended without its end (killed); unset: the node has no such run.
const DEAD_RUN = /^deploy\.sh: (?:run .* (ended without a run-end record)|no run .*to attach to)/;
let runCounter = 0;

/** Waits ms, or less when the signal aborts. */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await delay(ms, undefined, signal ? { signal } : {});
  } catch {
    // aborted: the caller looks at the signal
  }
}

export function controlSocketDir(env: NodeJS.ProcessEnv): string {
  // Socket paths must stay short (~104 bytes): a per-user folder under /tmp, never the repo.
  return env.HOMELAB_SSH_CONTROL_DIR ?? join('/tmp', `homelab-ssh-${process.getuid?.() ?? 'user'}`);
}

export { stateDir } from '../state-dir.js';

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

function notBootstrappedText(spec: NodeSpec): string {
  return `${spec.name} is not bootstrapped: ${deployScriptPath(spec)} is missing (run \`homelab node bootstrap ${spec.name}\`)`;
}

function failureMessage(
  res: StageResult,
  failure: string,
  stage: Stage,
  exit: number | null,
  node: string,
): string {
  if (failure) return failure;
  if (res === 'locked') return `another deploy holds the lock on ${node}`;
  return `${stage} exited ${exit ?? 'without a code'}`;
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
  const { inventory, problems, tokenScan } = await loadInventory(
    options.repoDir,
    options.deferSecretScan ? { deferTokenScan: true } : {},
  );
  if (!inventory) throw new InvalidInventoryError(problems);
  let checking: Promise<void> | undefined;
  const check = (): Promise<void> =>
    (checking ??= (tokenScan?.() ?? Promise.resolve([])).then((found) => {
      if (found.length > 0) throw new InvalidInventoryError(found);
    }));
  return new ShellControl(inventory, options, env, check);
}

/** The runner's commands wait for the inventory's last check and never start when it failed. */
function gated(runner: NodeRunner, check: () => Promise<void>): NodeRunner {
  const run = runner.run.bind(runner);
  runner.run = async (argv, options) => {
    await check();
    return run(argv, options);
  };
  return runner;
}

/**
 * A settled probe this young pins a stage without another status call: a walk probes, plans and
 * runs each node within moments (one status call per node, not three). The node checks the pinned
 * commit itself (--ref), so a probe a moment old can cost a refusal, never a wrong commit.
 */
const PIN_PROBE_REUSE_MS = 2000;

class ShellControl implements Control {
  private readonly runners = new Map<string, NodeRunner>();
  /** The last probe of each node that saw no lock and spanned no stage run by this Control. */
  private readonly settledProbes = new Map<string, NodeProbe>();
  /** Odd while a stage run by this Control goes on on the node; bumped at its start and end. */
  private readonly runEpochs = new Map<string, number>();
  /** SATURN is on one tailnet: one Tailscale SSH check at a time across its nodes. */
  private readonly checkGate = new CheckGate();

  /** `notify:` of the topology: failed stages and finished walks (src/shell/notify.ts). */
  private readonly notifier: Notifier;
  /** SATURN's repo, asked once for what every node of a walk needs (repo-facts.ts). */
  private readonly facts: RepoFacts;

  constructor(
    private current: Inventory,
    private readonly options: ControlOptions,
    private readonly env: NodeJS.ProcessEnv,
    /** Resolves once the whole inventory is valid (the deferred secret scan found nothing). */
    readonly checkInventory: () => Promise<void> = () => Promise.resolve(),
  ) {
    this.facts = new RepoFacts(options.repoDir);
    this.notifier = createNotifier(() => this.current, {
      env,
      ...(options.onWarning ? { onWarning: options.onWarning } : {}),
    });
  }

  get inventory(): Inventory {
    return this.current;
  }

  async reloadInventory(): Promise<Inventory> {
    const { inventory, problems } = await loadInventory(this.options.repoDir);
    if (!inventory) throw new InvalidInventoryError(problems);
    this.current = inventory;
    return inventory;
  }

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
      runner = gated(
        createRunner(spec, {
          controlDir: controlSocketDir(this.env),
          env: this.env,
          checkGate: this.checkGate,
          ...(this.options.freshConnections && spec.transport === 'ssh' ? { fresh: true } : {}),
        }),
        this.checkInventory,
      );
      this.runners.set(spec.name, runner);
    }
    return runner;
  }

  nodeRunner(node: string): NodeRunner {
    return this.runner(this.spec(node));
  }

  repoInfo(): Promise<RepoInfo> {
    return this.facts.repoInfo();
  }

  async probe(name: string, signal?: AbortSignal): Promise<NodeProbe> {
    const epoch = this.runEpochs.get(name) ?? 0;
    const probe = await this.probeNode(name, signal);
    const settled =
      probe.reachable &&
      probe.status.bootstrapped &&
      !probe.status.lock &&
      epoch % 2 === 0 &&
      (this.runEpochs.get(name) ?? 0) === epoch;
    if (settled) this.settledProbes.set(name, probe);
    else this.settledProbes.delete(name);
    return probe;
  }

  /** A stage of this Control starts (after its pin) or ends on the node: forget its probe. */
  private stageBoundary(node: string, starts: boolean): void {
    this.settledProbes.delete(node);
    const epoch = this.runEpochs.get(node) ?? 0;
    if (epoch % 2 === (starts ? 0 : 1)) this.runEpochs.set(node, epoch + 1);
  }

  private async probeNode(name: string, signal?: AbortSignal): Promise<NodeProbe> {
    const spec = this.spec(name);
    const started = Date.now();
    let record: NodeStatusRecord | undefined;
    const stderr: string[] = [];
    const result = await this.runner(spec).run(remoteArgs(spec, 'status'), {
      onStdout: (text) => {
        const line = parseNodeLine(text);
        // The record reaches screens (status table, TUI, --json): screen-safe like the stream.
        if (line.kind === 'event' && line.event.type === 'status') {
          const safe = screenSafeEvent(line.event);
          if (safe.type === 'status') record = safe.status;
        }
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
        ...(result.unreachable.checkUrl ? { checkUrl: result.unreachable.checkUrl } : {}),
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

  async checkDone(node: string): Promise<NodeProbe> {
    // The node's new opening keeps the tailnet's turn from the stop of its held check on: no
    // other node opens (and shows a check) in between.
    return this.checkGate.retry(this.spec(node).name, () => this.probe(node));
  }

  async probeAll(onProbe?: (probe: NodeProbe) => void, signal?: AbortSignal): Promise<NodeProbe[]> {
    return mapLimit(this.inventory.nodes, this.options.concurrency ?? 32, async (spec) => {
      const probe = await this.probe(spec.name, signal);
      onProbe?.(probe);
      return probe;
    });
  }

  commitsBehind(node: string, commit: string): Promise<number | null> {
    return commitsBehind(this.repoDir, node, commit);
  }

  async changedServices(node: string, from: string): Promise<string[]> {
    const spec = this.spec(node);
    const assigned = spec.services.map((s) => s.name);
    if (!from) return assigned;
    const head = (await this.repoInfo()).head;
    const prefix = `hosts/${node}/`;
    const paths = await this.facts.changedPaths(from, head, prefix);
    const touched = new Set(paths.map((p) => p.slice(prefix.length).split('/')[0] ?? ''));
    // A changed node.manifest (secrets, checks, assignment) touches every service it names.
    if (touched.has('node.manifest')) return assigned;
    return [...touched].filter((s) => s && s !== 'node.manifest').sort();
  }

  /** The pin of a stage, with the node's status read when the stage needs it. */
  private async pinFor(
    spec: NodeSpec,
    stage: Stage,
    head: string,
    confirmed: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<
    | { readonly pin: Pin; readonly status?: NodeStatusRecord }
    | { readonly unreachable: boolean; readonly message: string }
  > {
    let status: NodeStatusRecord | undefined;
    if (STATUS_STAGES.includes(stage)) {
      const recent = this.settledProbes.get(spec.name);
      const probe =
        recent && Date.now() - recent.probedAt < PIN_PROBE_REUSE_MS
          ? recent
          : await this.probe(spec.name, signal);
      if (!probe.reachable) return { unreachable: true, message: probe.message };
      if (!probe.status.bootstrapped)
        return { unreachable: false, message: notBootstrappedText(spec) };
      status = probe.status;
    }
    const pin = pinStage({
      node: spec.name,
      stage,
      head,
      ...(confirmed ? { confirmed } : {}),
      ...(status ? { status } : {}),
    });
    return status ? { pin, status } : { pin };
  }

  async planStage(node: string, stage: Stage, signal?: AbortSignal): Promise<StagePlan> {
    const spec = this.spec(node);
    const info = await this.repoInfo();
    const checked = await this.pinFor(spec, stage, info.head, undefined, signal);
    const base = { node: spec.name, stage, subject: '', services: [], deployed: '' };
    if ('unreachable' in checked) return { ...base, commit: '', refusal: checked.message };
    const { pin, status } = checked;
    const deployed = status?.deployed ?? '';
    const dirty =
      CHANGING_STAGES.includes(stage) && info.dirty.length > 0
        ? `SATURN has uncommitted changes under inventory/ or hosts/ (${info.dirty.join(', ')}); commit them first: nodes only deploy committed work`
        : '';
    let refusal = dirty || (pin.ok ? '' : pin.message);
    if (!pin.commit) return { ...base, deployed, commit: '', refusal };
    // Push first: a stage that makes the node fetch (prepare; a resume that re-runs prepare)
    // needs the commit on git.remote. Unknown (the remote unreachable from SATURN) only warns.
    const fetches =
      stage === 'prepare' || stage === 'up' || (stage === 'resume' && status?.stage === 'prepare');
    const [subject, services, pushed] = await Promise.all([
      this.facts.subject(pin.commit),
      stage === 'rollback'
        ? this.changedServices(node, pin.commit).catch(() => [])
        : this.changedServices(node, deployed).catch(() => spec.services.map((s) => s.name)),
      fetches && !refusal
        ? this.facts.onRemote(this.inventory.git.remote, this.inventory.git.branch, pin.commit)
        : undefined,
    ]);
    const warnings: string[] = [];
    if (pushed?.state === 'unpushed') refusal = `push first: ${pushed.message}`;
    if (pushed?.state === 'unknown') warnings.push(pushed.message);
    return { ...base, commit: pin.commit, subject, services, deployed, refusal, warnings };
  }

  async runStage(request: StageRequest): Promise<StageOutcome> {
    let outcome: StageOutcome;
    try {
      outcome = await this.runStageOnce(request);
    } finally {
      this.stageBoundary(request.node, false);
    }
    // A failed stage is reported; the notifier never throws and nothing waits for it here.
    this.notifier.stageOutcome(outcome);
    return outcome;
  }

  notifyWalkEnd(walk: WalkEndNotice): void {
    this.notifier.walkEnd(walk);
  }

  private async runStageOnce(request: StageRequest): Promise<StageOutcome> {
    const started = Date.now();
    const spec = this.spec(request.node);
    const info = await this.repoInfo();
    let commit = request.commit ?? '';
    const outcome = (
      result: StageResult,
      exitCode: number | null,
      message: string,
    ): StageOutcome => ({
      node: spec.name,
      stage: request.stage,
      commit,
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

    // The commit the stage runs: the confirmed one, checked against the node before anything runs.
    const checked = await this.pinFor(
      spec,
      request.stage,
      info.head,
      request.commit,
      request.signal,
    );
    if (request.signal?.aborted) return outcome('cancelled', null, `${request.stage} not started`);
    if ('unreachable' in checked) {
      return checked.unreachable
        ? outcome('unreachable', null, checked.message)
        : outcome('failed', null, checked.message);
    }
    const { pin } = checked;
    commit = pin.commit;
    if (!pin.ok) return outcome('refused', null, pin.message);
    this.stageBoundary(spec.name, true);

    const extra = ['--detach'];
    if (pin.ref && pin.commit) extra.push('--ref', pin.commit);
    if (this.options.dryRun && DRY_RUN_STAGES.includes(request.stage)) extra.push('--dry-run');
    if (request.stage === 'deploy')
      for (const svc of request.updateImages ?? []) extra.push('--update', svc);

    // SATURN names the run, so it can re-attach even when the follower is lost before any line.
    runCounter += 1;
    const wanted = `s${Date.now().toString(36)}-${process.pid}-${runCounter}-${Math.random().toString(36).slice(2, 8)}`;
    extra.push('--run', wanted);
    // Who started it, for the node's history (made safe for deploy.sh --by).
    extra.push('--by', operatorName(this.env));
    if (request.confirm && CONFIRM_STAGES.includes(request.stage)) extra.push('--confirm');

    let seen = 0;
    let runId = wanted;
    let runEnd: RunEndEvent | undefined;
    let failure = '';
    let dead = '';
    let noRun = false;
    // The node armed its watchdog: known-good waits for SATURN's confirmation (magic rollback).
    let awaitsConfirm = false;
    const onStdout = (text: string): void => {
      seen += 1;
      const raw = parseNodeLine(text);
      const line = screenSafeLine(raw);
      if (raw.kind === 'event' && line.kind === 'event') {
        if (raw.event.type === 'run') {
          runId = raw.event.run;
          // The result names the commit that really ran: the node's own record of it.
          if (raw.event.commit) commit = raw.event.commit;
        }
        if (raw.event.type === 'run-end') runEnd = raw.event;
        if (
          raw.event.type === 'step' &&
          raw.event.step === 'confirm' &&
          raw.event.status === 'start'
        )
          awaitsConfirm = true;
        failure = failureText(line.event) ?? failure;
      }
      request.onLine?.(line);
    };
    const onStderr = (text: string): void => {
      const m = DEAD_RUN.exec(text);
      if (m) {
        dead = text.replace(/^deploy\.sh: /, '');
        noRun = m[1] === undefined;
      }
      request.onLine?.({ kind: 'log', text: toScreen(text) });
    };
    // A line cut off by a lost connection is read again, whole, by the next attach.
    const onStdoutPartial = (): void => undefined;
    const runner = this.runner(spec);
    const signalOpt = request.signal ? { signal: request.signal } : {};
    let result = await runner.run(remoteArgs(spec, request.stage, extra), {
      onStdout,
      onStdoutPartial,
      onStderr,
      ...signalOpt,
    });

    // The stage runs detached on the node: losing the follower for any reason (its ssh killed,
    // the connection or the master gone, the network down) loses only the view of it. Its end is
    // read from the node (`deploy.sh attach`), never taken from a local exit code. Not lost: the
    // connection never came up, or deploy.sh itself answered (a usage error) before any line.
    const lost =
      !runEnd &&
      !result.cancelled &&
      (seen > 0 ||
        result.unreachable?.reason === 'connection-lost' ||
        (!result.unreachable && (result.exitCode === null || result.exitCode > 128)));
    // Lines are numbered from 1: after K lines, the next one to read is K + 1.
    for (
      let attempt = 0;
      lost &&
      attempt < REATTACH_ATTEMPTS &&
      !runEnd &&
      // "no such run" right after the start may only mean its first line is not written yet.
      (!dead || (noRun && seen === 0 && attempt < 3)) &&
      !result.cancelled &&
      !request.signal?.aborted;
      attempt += 1
    ) {
      const why = dead
        ? dead
        : result.unreachable
          ? result.unreachable.message
          : result.timedOut
            ? 'the follower timed out'
            : `the follower exited ${result.exitCode ?? 'without a code'} before the run's end`;
      dead = '';
      request.onLine?.({
        kind: 'log',
        text: toScreen(
          `homelab: lost the view of run ${runId} on ${spec.name} (${why}); re-attaching from line ${seen + 1}`,
        ),
      });
      if (attempt > 0 || result.unreachable) await pause(reattachDelay(attempt), request.signal);
      if (request.signal?.aborted) break;
      result = await runner.run(
        remoteArgs(spec, 'attach', ['--run', runId, '--from-line', String(seen + 1)]),
        { onStdout, onStdoutPartial, onStderr, ...signalOpt },
      );
    }

    if (result.cancelled || (request.signal?.aborted && !runEnd))
      return outcome(
        'cancelled',
        null,
        `stopped following ${request.stage} on ${spec.name}; it goes on there (deploy.sh attach)`,
      );
    if (runEnd) {
      const res = resultFromExit(runEnd.exit);
      if (res === 'ok' && awaitsConfirm) {
        request.onLine?.({
          kind: 'log',
          text: toScreen(
            `homelab: confirming ${commit.slice(0, 7)} on ${spec.name} over a new connection (run ${runId})`,
          ),
        });
        const c = await this.confirm(spec.name, runId, request.signal, (text) =>
          request.onLine?.({ kind: 'log', text: toScreen(text) }),
        );
        if (c.result === 'confirmed') return outcome('ok', 0, '');
        return outcome(
          'failed',
          null,
          c.result === 'refused'
            ? `${request.stage} passed, but ${spec.name} refused the confirmation: ${c.message}`
            : `${request.stage} passed, but SATURN could not confirm over a new connection (${c.message}): ${spec.name} rolls back to its known-good by itself when the wait ends (homelab status --node ${spec.name})`,
        );
      }
      return outcome(
        res,
        runEnd.exit,
        res === 'ok' ? '' : failureMessage(res, failure, request.stage, runEnd.exit, spec.name),
      );
    }
    if (dead && noRun && seen === 0)
      return outcome(
        'failed',
        null,
        `lost the follower of ${request.stage} on ${spec.name} before its first line, and the node has no log of run ${runId}: it did not start, or its log is gone (homelab status --node ${spec.name})`,
      );
    if (dead)
      return outcome('interrupted', null, `${failure ? `${failure}; ` : ''}${toScreen(dead)}`);
    if (lost)
      return outcome(
        'unreachable',
        null,
        `lost the view of run ${runId} on ${spec.name} and could not re-attach (${result.unreachable?.message ?? `exit ${result.exitCode ?? 'none'}`}); it may still be running there: homelab status --node ${spec.name}`,
      );
    if (result.unreachable) {
      if (result.unreachable.reason === 'command-not-found')
        return outcome('failed', result.exitCode, notBootstrappedText(spec));
      return outcome('unreachable', result.exitCode, result.unreachable.message);
    }
    const exit = result.exitCode;
    const res = resultFromExit(exit);
    return outcome(
      res,
      exit,
      res === 'ok' ? '' : failureMessage(res, failure, request.stage, exit, spec.name),
    );
  }

  async confirm(
    node: string,
    run: string,
    signal?: AbortSignal,
    onNotice?: (text: string) => void,
  ): Promise<ConfirmOutcome> {
    const spec = this.spec(node);
    // A connection of its own, never the shared one: the confirmation proves that SATURN can
    // still reach the node anew after the deploy (a broken DNS or firewall shows here).
    const runner = gated(
      createRunner(spec, { env: this.env, fresh: true, checkGate: this.checkGate }),
      this.checkInventory,
    );
    let record: ConfirmEvent | undefined;
    const stderr: string[] = [];
    let checkUrl: string | undefined;
    const holdS = spec.ssh.connectTimeout + 15;
    const result = await runner.run(remoteArgs(spec, 'confirm', ['--run', run]), {
      onStdout: (text) => {
        const line = parseNodeLine(text);
        if (line.kind === 'event' && line.event.type === 'confirm') {
          const safe = screenSafeEvent(line.event);
          if (safe.type === 'confirm') record = safe;
        }
      },
      onStderr: (text) => {
        stderr.push(text);
        // Through the tailnet's check gate: a check on this connection is held for its wait.
        const url = checkUrl === undefined ? checkBannerUrl(stderr.join('\n')) : undefined;
        if (url === undefined) return;
        checkUrl = url;
        onNotice?.(
          `homelab: confirming on ${node} needs a Tailscale SSH check: open ${url} in a browser and log in within ${holdS} s; without the confirmation ${node} rolls back to its known-good by itself when its wait ends`,
        );
      },
      timeoutMs: holdS * 1000,
      ...(signal ? { signal } : {}),
    });
    await runner.close();
    if (record)
      return { node, run, result: record.result, commit: record.commit, message: record.detail };
    const last = stderr.filter(Boolean).at(-1) ?? `exit ${result.exitCode ?? 'none'}`;
    const message =
      (result.unreachable?.checkUrl
        ? `the Tailscale SSH check ${result.unreachable.checkUrl} was not passed within ${holdS} s`
        : result.unreachable?.message) ??
      (result.timedOut
        ? 'deploy.sh confirm did not answer in time'
        : result.cancelled
          ? 'cancelled'
          : `deploy.sh confirm printed no confirm record (${toScreen(last)})`);
    return { node, run, result: 'unreachable', commit: '', message };
  }

  async close(): Promise<void> {
    await this.notifier.flush();
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
