// What the TUI does to the homelab: probes in the background, asks before a changing stage, runs
// stages through the Control (the same code as `homelab run`), walks the homelab wave by wave.
// No React here: it reads and writes the app store and the log store.
import { CHANGING_STAGES, type NodeLine, type Stage } from '../core/protocol/events.js';
import { nextStage } from '../core/stage/machine.js';
import type { NodeProbe, StageOutcome } from '../core/node/types.js';
import type { Control } from '../shell/control/types.js';
import { walkFleet, type WalkQuestion, type WalkResult } from '../shell/control/walk.js';
import type { LogStore } from './log-store.js';
import { osc52 } from './recover/state.js';
import type { ConfirmRequest } from './state/reducer.js';
import { formatProblem } from '../core/problem.js';
import type {
  FieldValues,
  NodeAddCheck,
  NodeAddIntents,
  NodeAddWritten,
} from '../core/onboarding/fields.js';
import { describeRequest, requestFromValues } from '../core/onboarding/fields.js';
import { planAddNode, writePlan, type AddNodePlan } from '../shell/onboarding/add-node.js';
import { nextStepsAfterAdd } from '../shell/onboarding/next-steps.js';
import type { AppStore } from './state/store.js';
import { openHistory, openHistoryRun } from './history-host.js';
import {
  readNodeImages,
  walkUpdates,
  type UpdateQuestion,
  type UpdateWalkResult,
} from '../shell/images.js';
import { readNodeResources } from '../shell/resources.js';
import {
  updatableServices,
  updateWork,
  type NodeImages,
  type UpdateScope,
  type UpdateWork,
} from '../core/images/updates.js';

export interface ControllerOptions {
  /** Background refresh period; 0 disables it. */
  readonly refreshMs?: number;
  readonly now?: () => number;
  /** Called once a stage's end is on screen (the node's new state read), for example to open the recover view. */
  readonly onOutcome?: (outcome: StageOutcome) => void;
  /** Writes raw bytes to the terminal (the OSC 52 clipboard sequence of a check URL). */
  readonly writeTerminal?: (data: string) => void;
}

/** How old the selected node's resources may get before a refresh reads them again. */
const RESOURCES_EVERY_MS = 30_000;

export type StageAttempt = StageOutcome | 'declined' | 'busy' | 'refused';

/** A stage that would be refused before anything runs (found before asking). */
export class Refusal extends Error {
  constructor(
    readonly node: string,
    readonly stage: Stage,
    readonly why: string,
  ) {
    super(`${stage} on ${node} not run (it would be refused): ${why}`);
  }
}

/** Where the last deploy walk stopped (a failed node), so that it can go on once it is fixed. */
interface StoppedWalk {
  readonly perWave: boolean;
  readonly wave: number;
  readonly node: string;
}

export class TuiController implements NodeAddIntents {
  private timer: ReturnType<typeof setInterval> | null = null;
  private pending: ((yes: boolean) => void) | null = null;
  private readonly aborts = new Map<string, AbortController>();
  private refreshing: Promise<void> | null = null;
  private readingResources = false;
  private stopped = false;
  private stoppedWalk: StoppedWalk | undefined;
  private readonly now: () => number;

  constructor(
    private readonly control: Control,
    private readonly store: AppStore,
    private readonly logs: LogStore,
    private readonly opts: ControllerOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    void this.refresh();
    const every = this.opts.refreshMs ?? 15_000;
    if (every > 0) this.timer = setInterval(() => void this.refresh(), every);
  }

  /** Re-reads SATURN's repo and probes every node in parallel; a second call joins the first. */
  refresh(): Promise<void> {
    if (this.refreshing) return this.refreshing;
    this.refreshing = this.doRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    const { dispatch } = this.store;
    dispatch({ type: 'refreshing', on: true });
    try {
      const repo = await this.control.repoInfo();
      if (this.stopped) return;
      dispatch({ type: 'repo', repo });
      const positions: Array<Promise<void>> = [];
      await this.control.probeAll((probe) => {
        if (this.stopped) return;
        dispatch({ type: 'probe', probe });
        positions.push(this.position(probe));
      });
      await Promise.all(positions);
      void this.resourcesOfSelected();
    } catch (err) {
      dispatch({
        type: 'notice',
        notice: { level: 'error', text: `refresh failed: ${(err as Error).message}` },
      });
    } finally {
      if (!this.stopped) {
        dispatch({ type: 'loaded' });
        dispatch({ type: 'refreshing', on: false });
      }
    }
  }

  /**
   * The selected node's resources (`deploy.sh resources`: docker stats and df, 1-2 s on the node),
   * read with a refresh at most every RESOURCES_EVERY_MS, never while one is being read.
   */
  private async resourcesOfSelected(): Promise<void> {
    const state = this.store.getState();
    const entry = state.nodes.find((n) => n.spec.name === state.selected);
    if (!entry?.probe?.reachable || this.readingResources) return;
    if (entry.resources && this.now() - entry.resources.at < RESOURCES_EVERY_MS) return;
    this.readingResources = true;
    try {
      const found = await readNodeResources(this.control, entry.spec.name);
      if (!this.stopped)
        this.store.dispatch({
          type: 'resources',
          node: entry.spec.name,
          resources: { ...found, at: this.now() },
        });
    } catch {
      // A node that cannot say keeps what it said last; the status shows why it is unreachable.
    } finally {
      this.readingResources = false;
    }
  }

  private async position(probe: NodeProbe): Promise<void> {
    if (!probe.reachable) return;
    const deployed = probe.status.deployed;
    const [behind, changes] = await Promise.all([
      deployed ? this.control.commitsBehind(probe.node, deployed) : Promise.resolve(null),
      this.control.changedServices(probe.node, deployed).catch(() => [] as string[]),
    ]);
    if (!this.stopped) this.store.dispatch({ type: 'position', node: probe.node, behind, changes });
  }

  private async probeOne(node: string): Promise<NodeProbe> {
    const probe = await this.control.probe(node);
    if (!this.stopped) {
      this.store.dispatch({ type: 'probe', probe });
      await this.position(probe);
    }
    return probe;
  }

  /** Opens the confirmation dialog and resolves with the operator's answer. */
  ask(request: ConfirmRequest): Promise<boolean> {
    this.pending?.(false);
    // The answer's handler is in place before the dialog opens: keys waiting for it act at once.
    const answered = new Promise<boolean>((resolve) => {
      this.pending = resolve;
    });
    this.store.dispatch({ type: 'mode', mode: { kind: 'confirm', request } });
    return answered;
  }

  /** The operator answered the open confirmation (y, or n/Enter/Esc). */
  answer(yes: boolean): void {
    const resolve = this.pending;
    this.pending = null;
    this.store.dispatch({ type: 'mode', mode: { kind: 'normal' } });
    resolve?.(yes);
  }

  /** Builds the question for a changing stage on some nodes: commit and the services touched. */
  async confirmRequest(
    stage: Stage,
    nodes: readonly string[],
    title: string,
  ): Promise<ConfirmRequest> {
    // Keys typed while the question is prepared wait for it (see AppState.awaiting).
    this.store.dispatch({ type: 'awaiting', what: 'confirm' });
    try {
      // Every caller opens the dialog (ask) right after, which clears it.
      return await this.buildRequest(stage, nodes, title);
    } catch (err) {
      this.store.dispatch({ type: 'awaiting', what: undefined });
      throw err;
    }
  }

  private async buildRequest(
    stage: Stage,
    nodes: readonly string[],
    title: string,
  ): Promise<ConfirmRequest> {
    const repo = await this.control.repoInfo();
    this.store.dispatch({ type: 'repo', repo });
    // What the stage would run on each node, read the way runStage will: the commit it pins, the
    // services it touches, or why it would be refused (then nobody is asked).
    const plans = await Promise.all(nodes.map((n) => this.control.planStage(n, stage)));
    const refused = plans.find((p) => p.refusal !== '');
    if (refused) throw new Refusal(refused.node, stage, refused.refusal);
    const services: Record<string, readonly string[]> = {};
    for (const p of plans) services[p.node] = p.services;
    const first = plans[0];
    const warnings: string[] = [];
    if (this.store.getState().dryRun) warnings.push('dry run: nothing will change on the node');
    for (const w of plans.flatMap((p) => p.warnings ?? []))
      if (!warnings.includes(w)) warnings.push(w);
    return {
      title,
      stage,
      nodes,
      commit: first?.commit ?? repo.head,
      subject: first?.subject || (stage === 'rollback' ? 'last known-good' : repo.headSubject),
      services,
      warnings,
      commits: Object.fromEntries(plans.map((p) => [p.node, p.commit])),
    };
  }

  /**
   * Runs a stage on a node: asks first for a changing stage (unless `confirmed`), refuses a second
   * stage on a busy node, streams lines into the log store and events into the state.
   */
  async requestStage(
    node: string,
    stage: Stage,
    opts: { confirmed?: boolean } = {},
  ): Promise<StageAttempt> {
    const { dispatch } = this.store;
    if (this.aborts.has(node)) {
      dispatch({
        type: 'notice',
        notice: { level: 'warn', text: `a stage is already running on ${node}` },
      });
      return 'busy';
    }
    let commit: string | undefined;
    if (!opts.confirmed && CHANGING_STAGES.includes(stage)) {
      let request: ConfirmRequest;
      try {
        request = await this.confirmRequest(stage, [node], `Run ${stage} on ${node}?`);
      } catch (err) {
        if (!(err instanceof Refusal)) throw err;
        // Checked before asking: a refusal is a notice that says what to do; the node is untouched.
        dispatch({ type: 'notice', notice: { level: 'warn', text: err.message } });
        return 'refused';
      }
      if (!(await this.ask(request))) {
        dispatch({
          type: 'notice',
          notice: { level: 'info', text: `${stage} on ${node}: declined, nothing ran` },
        });
        return 'declined';
      }
      // The stage runs exactly the commit the operator confirmed.
      commit = request.commits?.[node] || undefined;
    }
    return this.runStage(node, stage, commit);
  }

  private async runStage(
    node: string,
    stage: Stage,
    commit?: string,
    onLine?: (line: NodeLine) => void,
    updateImages?: readonly string[],
  ): Promise<StageOutcome> {
    const { dispatch } = this.store;
    const abort = new AbortController();
    this.aborts.set(node, abort);
    const head = this.store.getState().repo?.head ?? '';
    const before = this.store.getState().nodes.find((n) => n.spec.name === node);
    this.logs.reset(node);
    dispatch({ type: 'stage-start', node, stage, commit: head, at: this.now() });
    dispatch({ type: 'notice', notice: { level: 'info', text: `${stage} on ${node}: running` } });
    let outcome: StageOutcome;
    try {
      outcome = await this.control.runStage({
        node,
        stage,
        ...(commit ? { commit } : {}),
        ...(updateImages ? { updateImages } : {}),
        signal: abort.signal,
        onLine: (line) => {
          if (line.kind === 'log') this.logs.push(node, line.text);
          else dispatch({ type: 'node-event', node, event: line.event });
          onLine?.(line);
        },
      });
    } catch (err) {
      outcome = {
        node,
        stage,
        commit: head,
        result: 'failed',
        exitCode: null,
        message: (err as Error).message,
        durationMs: 0,
      };
    } finally {
      this.aborts.delete(node);
    }
    this.logs.flush();
    if (this.stopped) return outcome;
    if (outcome.result === 'refused') {
      // Refused before anything ran: the node shows what it showed before; the notice says why.
      dispatch({ type: 'stage-refused', node, run: before?.run, stages: before?.stages });
      dispatch({
        type: 'notice',
        notice: {
          level: 'warn',
          text: `${stage} on ${node} refused, nothing ran: ${outcome.message}`,
        },
      });
      this.opts.onOutcome?.(outcome);
      return outcome;
    }
    // Read the node's new state before showing the end, so the next Enter acts on it, not on the old.
    await this.probeOne(node).catch(() => undefined);
    dispatch({ type: 'stage-end', node, outcome });
    const ok = outcome.result === 'ok';
    dispatch({
      type: 'notice',
      notice: ok
        ? {
            level: 'info',
            text: `${stage} on ${node}: ok (${(outcome.durationMs / 1000).toFixed(1)}s)`,
          }
        : {
            level: 'error',
            text: `${stage} on ${node}: ${outcome.result}${outcome.message ? ` — ${outcome.message}` : ''}`,
          },
    });
    this.opts.onOutcome?.(outcome);
    void this.offerContinue(outcome);
    void this.refresh();
    return outcome;
  }

  /**
   * Deploys the homelab through the fleet walk (src/shell/control/walk.ts, the engine `homelab
   * deploy` uses): wave by wave, the nodes of a wave at once; one confirmation and one run per
   * node (`perWave`), or each stage confirmed. The first failure stops new starts, the running
   * nodes finish, and the failed node is selected (its recover view opens). Once the operator has
   * recovered it, the walk offers to go on from that wave.
   */
  async deployAll(perWave: boolean, fromWave?: number): Promise<WalkResult | undefined> {
    const { dispatch } = this.store;
    this.stoppedWalk = undefined;
    await this.refresh();
    const probes = this.store.getState().nodes.flatMap((n) => (n.probe ? [n.probe] : []));
    dispatch({ type: 'walk', walk: { perWave, wave: fromWave ?? 0 } });
    let asked: WalkQuestion | undefined;
    try {
      const result = await walkFleet({
        control: this.control,
        granularity: perWave ? 'wave' : 'stage',
        probes,
        ...(fromWave !== undefined ? { fromWave } : {}),
        onEvent: (ev) => {
          if (this.stopped) return;
          if (ev.type === 'wave') dispatch({ type: 'walk', walk: { perWave, wave: ev.wave } });
          else if (ev.type === 'probe') dispatch({ type: 'probe', probe: ev.probe });
          else if (ev.type === 'node-start' && ev.node === asked?.nodes[0])
            dispatch({ type: 'select', node: ev.node });
        },
        confirm: async (q) => {
          asked = q;
          return this.ask(this.walkRequest(q, perWave));
        },
        run: (node, stage, commit, onLine) =>
          this.runStage(node, stage, commit || undefined, onLine),
      });
      if (!this.stopped) this.reportWalk(result, perWave, asked);
      return result;
    } catch (err) {
      dispatch({
        type: 'notice',
        notice: { level: 'error', text: `deploy walk failed: ${(err as Error).message}` },
      });
      return undefined;
    } finally {
      dispatch({ type: 'walk', walk: undefined });
    }
  }

  /** The app's one confirmation for a step of the walk. */
  private walkRequest(q: WalkQuestion, perWave: boolean): ConfirmRequest {
    const n = q.nodes.length;
    const nodes = `${n} node${n === 1 ? '' : 's'}`;
    const title = perWave
      ? `Deploy wave ${q.wave} (${nodes})?`
      : n === 1
        ? `Run ${q.stage} on ${q.nodes[0] ?? ''}?`
        : `Run ${q.stage} on wave ${q.wave} (${nodes})?`;
    const first = q.plans[0];
    const warnings: string[] = [];
    if (this.store.getState().dryRun) warnings.push('dry run: nothing will change on the node');
    for (const w of q.plans.flatMap((p) => p.warnings ?? []))
      if (!warnings.includes(w)) warnings.push(w);
    return {
      title,
      stage: q.stage,
      ...(perWave
        ? { what: 'each node in one run, the wave at once: prepare -> deploy -> verify' }
        : {}),
      nodes: q.nodes,
      commit: first?.commit ?? this.store.getState().repo?.head ?? '',
      subject: first?.subject || (this.store.getState().repo?.headSubject ?? ''),
      services: Object.fromEntries(q.plans.map((p) => [p.node, p.services])),
      warnings,
      commits: Object.fromEntries(q.plans.map((p) => [p.node, p.commit])),
    };
  }

  private reportWalk(result: WalkResult, perWave: boolean, asked: WalkQuestion | undefined): void {
    const { dispatch } = this.store;
    const rest =
      result.notStarted.length > 0 ? `; not started: ${result.notStarted.join(', ')}` : '';
    if (result.ok) {
      dispatch({
        type: 'notice',
        notice: { level: 'info', text: 'deploy walk: every node is up to date' },
      });
      return;
    }
    if (result.refused) {
      dispatch({
        type: 'notice',
        notice: {
          level: 'warn',
          text: `deploy walk: ${result.refused.node} not run (it would be refused): ${result.refused.why}`,
        },
      });
      return;
    }
    if (result.declined) {
      const at = asked?.nodes[0];
      if (at) dispatch({ type: 'select', node: at });
      dispatch({
        type: 'notice',
        notice: {
          level: 'info',
          text:
            asked && asked.nodes.length > 1
              ? `deploy walk: wave ${asked.wave} declined, stopped`
              : `deploy walk stopped at ${at ?? '?'}: declined`,
        },
      });
      return;
    }
    const first = result.failed[0];
    if (!first) return;
    dispatch({ type: 'select', node: first.node });
    const also = result.failed.slice(1).map((f) => `; ${f.node} failed too: ${f.message}`);
    dispatch({
      type: 'notice',
      notice: {
        level: 'error',
        text: `deploy walk stopped at ${first.node}: ${first.message}${also.join('')}${rest}`,
      },
    });
    if (result.stoppedWave !== undefined)
      this.stoppedWalk = { perWave, wave: result.stoppedWave, node: first.node };
  }

  /**
   * After the walk stopped at a node and a stage on that node ended ok with nothing left to do
   * there (the operator recovered it), ask whether the walk goes on from that wave.
   */
  private async offerContinue(outcome: StageOutcome): Promise<void> {
    const stopped = this.stoppedWalk;
    if (!stopped || outcome.node !== stopped.node || outcome.result !== 'ok') return;
    if (this.store.getState().walk) return;
    const entry = this.store.getState().nodes.find((n) => n.spec.name === outcome.node);
    const head = this.store.getState().repo?.head ?? '';
    if (!entry?.probe?.reachable || nextStage(entry.probe.status, head) !== null) return;
    this.stoppedWalk = undefined;
    const repo = this.store.getState().repo;
    const yes = await this.ask({
      title: `${outcome.node} is recovered: continue the deploy walk from wave ${stopped.wave}?`,
      stage: 'up',
      what: `the rest of wave ${stopped.wave}, then the next waves (nodes up to date are skipped)`,
      nodes: [],
      commit: repo?.head ?? '',
      subject: repo?.headSubject ?? '',
      services: {},
      warnings: [],
    });
    if (yes) await this.deployAll(stopped.perWave, stopped.wave);
  }

  /** The add-node form's check: what `homelab node add` would write, by the inventory rules. */
  async checkNode(values: FieldValues, starterPort?: number): Promise<NodeAddCheck> {
    const request = requestFromValues(values, starterPort);
    const plan = await this.planNode(values, starterPort);
    if (!plan.ok) return { ok: false, lines: refusalLines(plan) };
    return {
      ok: true,
      lines: [
        describeRequest(request),
        ...plan.files.map((f) => `  write ${f.path}`),
        ...plan.keptServices.map(
          (svc) => `  keep  hosts/${plan.node.name}/${svc}/docker-compose.yml`,
        ),
      ],
    };
  }

  /**
   * The add-node form's write: plans again (the repo may have changed since the check), writes the
   * files as `homelab node add` does, then reads the inventory again so the node is in the list now.
   */
  async addNode(values: FieldValues, starterPort?: number): Promise<NodeAddWritten> {
    const plan = await this.planNode(values, starterPort);
    if (!plan.ok) return { lines: refusalLines(plan) };
    try {
      await writePlan(this.control.repoDir, plan.files);
    } catch (err) {
      return { lines: [`Writing failed: ${(err as Error).message}`] };
    }
    const lines = nextStepsAfterAdd(plan.inventory, plan.node, plan.files, plan.keptServices);
    try {
      const inventory = await this.control.reloadInventory();
      if (!this.stopped) {
        this.store.dispatch({
          type: 'inventory',
          homelab: inventory.homelab,
          nodes: inventory.nodes,
        });
        void this.probeOne(plan.node.name).catch(() => undefined);
      }
    } catch (err) {
      return {
        added: plan.node.name,
        lines: [...lines, '', `The list could not be read again: ${(err as Error).message}`],
      };
    }
    return { added: plan.node.name, lines };
  }

  private async planNode(values: FieldValues, starterPort?: number): Promise<AddNodePlan> {
    try {
      return await planAddNode(this.control.repoDir, requestFromValues(values, starterPort));
    } catch (err) {
      return { ok: false, reason: (err as Error).message, problems: [] };
    }
  }

  /** The history view (`h`): every node's runs, newest first. */
  openHistory(): Promise<void> {
    return openHistory(this.control, this.store);
  }

  /** The log of the run selected in the history view. */
  /** Asks every node what its images' tags point to in the registry (`deploy.sh images`, no pull). */
  async checkUpdates(): Promise<void> {
    const { dispatch } = this.store;
    const nodes = this.store.getState().nodes.filter((n) => n.probe?.reachable !== false);
    dispatch({ type: 'notice', notice: { level: 'info', text: 'asking the registry (no pull)…' } });
    await Promise.all(nodes.map((n) => this.readImages(n.spec.name)));
    if (this.stopped) return;
    const k = this.store
      .getState()
      .nodes.reduce((sum, n) => sum + updatableServices(n.images?.images ?? []).length, 0);
    dispatch({
      type: 'notice',
      notice: {
        level: 'info',
        text:
          k === 0
            ? 'every image is what its tag points to'
            : `${k} service(s) out of date: u updates the selected node`,
      },
    });
  }

  private async readImages(node: string): Promise<NodeImages | null> {
    const { dispatch } = this.store;
    const before = this.store.getState().nodes.find((n) => n.spec.name === node)?.images;
    dispatch({
      type: 'images',
      node,
      images: { node, images: before?.images ?? [], error: '', loading: true, at: this.now() },
    });
    const found = await readNodeImages(this.control, node);
    if (this.stopped) return null;
    dispatch({ type: 'images', node, images: { ...found, loading: false, at: this.now() } });
    return found;
  }

  /**
   * The update action (`u`, what `homelab updates --apply` does, through the same walkUpdates):
   * one service of the node, the node, or every node of its wave. Reads their images afresh, then
   * wave by wave asks once showing what changes (service, tag, old -> new digest, age) and runs
   * deploy --update (pull, recreate what moved) and verify on the wave's nodes through the
   * Control; the first failure stops new starts; a rollback returns to the digests recorded before.
   */
  async requestUpdate(
    node: string,
    scope: UpdateScope = { kind: 'node' },
  ): Promise<UpdateWalkResult | 'busy' | 'declined' | 'refused'> {
    const { dispatch } = this.store;
    const notice = (level: 'info' | 'warn' | 'error', text: string): void =>
      dispatch({ type: 'notice', notice: { level, text } });
    const state = this.store.getState();
    const wave = state.nodes.find((n) => n.spec.name === node)?.spec.wave;
    const nodes =
      scope.kind === 'wave'
        ? state.nodes
            .filter((n) => n.spec.wave === wave && n.probe?.reachable !== false)
            .map((n) => n.spec.name)
        : [node];
    const busy = nodes.find((n) => this.aborts.has(n));
    if (busy) {
      notice('warn', `a stage is already running on ${busy}`);
      return 'busy';
    }
    const what = scope.kind === 'wave' ? `wave ${wave ?? '?'}` : node;
    notice('info', `update ${what}: asking the registry (no pull)…`);
    const found = (await Promise.all(nodes.map((n) => this.readImages(n)))).filter(
      (f): f is NodeImages => f !== null,
    );
    if (this.stopped) return 'declined';
    const work = updateWork(found, scope.kind === 'service' ? [scope.service] : []);
    if (work.services.size === 0) {
      const err = work.errors[0];
      if (err) notice('warn', `update on ${err.node}: ${err.error}`);
      else notice('info', `nothing to update on ${what}: every image is current`);
      return err ? 'refused' : 'declined';
    }
    const probes = this.store.getState().nodes.flatMap((n) => (n.probe ? [n.probe] : []));
    const result = await walkUpdates({
      control: this.control,
      found,
      work,
      probes,
      now: this.now,
      confirm: (q) => this.ask(this.updateRequest(q, work)),
      run: (req) =>
        this.runStage(req.node, req.stage, req.commit || undefined, undefined, req.updateImages),
      onEvent: (ev) => {
        if (!this.stopped && ev.type === 'probe') dispatch({ type: 'probe', probe: ev.probe });
      },
    });
    if (this.stopped) return result;
    for (const n of result.deployed) void this.readImages(n);
    const first = result.failed[0];
    if (result.refused)
      notice(
        'warn',
        `update on ${result.refused.node} not run (it would be refused): ${result.refused.why}`,
      );
    else if (result.declined) notice('info', `update ${what}: declined, nothing ran`);
    else if (first) {
      dispatch({ type: 'select', node: first.node });
      notice(
        'error',
        `update stopped at ${first.node}: ${first.message} — b rolls back to the digests recorded before`,
      );
    } else notice('info', `update ok on ${result.deployed.join(', ')}`);
    return result;
  }

  /** The app's one confirmation of an update wave: the walk's plans and what changes per node. */
  private updateRequest(q: UpdateQuestion, work: UpdateWork): ConfirmRequest {
    const n = q.nodes.length;
    const several = n > 1;
    const warnings: string[] = [];
    if (this.store.getState().dryRun) warnings.push('dry run: nothing will change on the node');
    for (const node of q.nodes)
      for (const c of q.changes[node] ?? []) warnings.push(several ? `${node}: ${c}` : c);
    warnings.push('the digests running now stay recorded: b (rollback) returns to them');
    for (const w of q.plans.flatMap((p) => p.warnings ?? []))
      if (!warnings.includes(w)) warnings.push(w);
    const first = q.plans[0];
    return {
      title: several
        ? `Update images on wave ${q.wave} (${n} nodes)?`
        : `Update images on ${q.nodes[0] ?? ''}?`,
      stage: 'deploy',
      what: 'update: pull, recreate what moved, verify',
      nodes: q.nodes,
      commit: first?.commit ?? this.store.getState().repo?.head ?? '',
      subject: first?.subject || (this.store.getState().repo?.headSubject ?? ''),
      services: Object.fromEntries(q.nodes.map((x) => [x, work.services.get(x) ?? []])),
      warnings,
      commits: Object.fromEntries(q.plans.map((p) => [p.node, p.commit])),
    };
  }

  openHistoryRun(): Promise<void> {
    return openHistoryRun(this.control, this.store);
  }

  /** Copies the URL of the node's Tailscale SSH check (probe needs-check) with OSC 52. */
  copyCheckUrl(node: string): void {
    const p = this.store.getState().nodes.find((n) => n.spec.name === node)?.probe;
    const url = p && !p.reachable ? p.checkUrl : undefined;
    if (!url) return;
    this.opts.writeTerminal?.(osc52(url));
    this.store.dispatch({
      type: 'notice',
      notice: {
        level: 'info',
        text: `copied ${node}'s check URL (OSC 52): open it, log in, then press C`,
      },
    });
  }

  /**
   * The operator passed the node's Tailscale SSH check: the connection held for it is stopped and
   * the node probed again; once it answers, every node is refreshed (nodes that waited behind its
   * check then connect, one at a time while they may need checks of their own).
   */
  async checkDone(node: string): Promise<NodeProbe> {
    const { dispatch } = this.store;
    dispatch({
      type: 'notice',
      notice: { level: 'info', text: `${node}: retrying after the check` },
    });
    const probe = await this.control.checkDone(node);
    if (this.stopped) return probe;
    dispatch({ type: 'probe', probe });
    await this.position(probe);
    dispatch({
      type: 'notice',
      notice: probe.reachable
        ? { level: 'info', text: `${node}: check passed, reachable` }
        : {
            level: 'warn',
            text: `${node}: still unreachable (${probe.reason}): ${probe.message}`,
          },
    });
    if (probe.reachable) void this.refresh();
    return probe;
  }

  runningNodes(): string[] {
    return [...this.aborts.keys()];
  }

  /** Stops background work. Running stages keep running on their nodes unless `cancel` is set. */
  async stop(opts: { cancel?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.pending?.(false);
    this.pending = null;
    if (opts.cancel) for (const a of this.aborts.values()) a.abort();
  }
}

function refusalLines(plan: Extract<AddNodePlan, { ok: false }>): string[] {
  return [
    `Refused: ${plan.reason}`,
    ...plan.problems.map((p) => `  ${formatProblem(p)}`),
    'Nothing was written.',
  ];
}
