// The TUI's state and its pure reducer: every change to the screen is an Action. No I/O, no clock
// (times arrive inside actions). Routes are screen states (`mode`), not URLs.
import type { NodeSpec } from '../../core/inventory/model.js';
import type {
  CheckEvent,
  FindingEvent,
  NodeEvent,
  Stage,
  StepStatus,
} from '../../core/protocol/events.js';
import type { NodeProbe, RepoInfo, StageOutcome } from '../../core/node/types.js';
import type { HistoryEntry } from '../../core/status/history.js';
import type { NodeImages } from '../../core/images/updates.js';
import type { NodeResources } from '../../core/status/resources.js';

export interface ConfirmRequest {
  /** What is asked, one line. */
  readonly title: string;
  readonly stage: Stage;
  /** What will run, when more than the one stage (a wave walks prepare -> deploy -> verify). */
  readonly what?: string;
  /** Nodes the answer applies to (one for a stage; every node of a wave for a wave). */
  readonly nodes: readonly string[];
  readonly commit: string;
  readonly subject: string;
  /** Services the stage touches, per node. */
  readonly services: Readonly<Record<string, readonly string[]>>;
  /** Extra lines worth reading before answering (dry run). */
  readonly warnings: readonly string[];
  /** The commit each node's stage is pinned to once confirmed (from the Control's plan). */
  readonly commits?: Readonly<Record<string, string>>;
}

export type Mode =
  | { readonly kind: 'normal' }
  | { readonly kind: 'help'; readonly scroll: number }
  | { readonly kind: 'filter' }
  | { readonly kind: 'menu'; readonly index: number }
  | { readonly kind: 'update-menu'; readonly index: number }
  | { readonly kind: 'confirm'; readonly request: ConfirmRequest }
  | { readonly kind: 'walk-choice' }
  | { readonly kind: 'add-node' }
  /** The guided recover view holds the detail pane; its keys are the key table's 'recover' mode. */
  | { readonly kind: 'recover' }
  | { readonly kind: 'quit' }
  /** A service's logs (ViewsHost holds the stream and the view's state), its picker, its filter. */
  | { readonly kind: 'service-pick'; readonly index: number }
  | { readonly kind: 'service-logs' }
  | { readonly kind: 'logs-filter' }
  /** The command log. */
  | { readonly kind: 'command-log' }
  /** The fleet's run history (AppState.history); `index` the selected run, `scroll` its open log. */
  | { readonly kind: 'history'; readonly index: number; readonly scroll: number };

export type ModeKind = Mode['kind'];

export interface StepView {
  readonly stage: Stage;
  readonly step: string;
  readonly status: StepStatus;
  readonly service?: string;
  readonly detail?: string;
  readonly durationMs?: number;
}

export interface StageView {
  readonly stage: Stage;
  readonly status: 'running' | 'ok' | 'failed';
  readonly durationMs?: number;
  readonly error?: string;
}

/** The last stage run SATURN started on a node (this session), built from its protocol events. */
export interface RunView {
  readonly stage: Stage;
  readonly commit: string;
  readonly startedAt: number;
  readonly running: boolean;
  readonly stages: readonly StageView[];
  readonly steps: readonly StepView[];
  readonly checks: readonly CheckEvent[];
  readonly findings: readonly FindingEvent[];
  readonly logPath?: string;
  readonly outcome?: Pick<StageOutcome, 'result' | 'message' | 'exitCode' | 'durationMs'>;
}

export interface NodeEntry {
  readonly spec: NodeSpec;
  readonly probe?: NodeProbe;
  /** Commits the deployed commit is behind HEAD; null when unknown. */
  readonly behind: number | null;
  /** Services the next stage would change (hosts/<node>/<svc>/ changed since the deployed commit). */
  readonly changes?: readonly string[];
  readonly run?: RunView;
  /** The last result of each stage seen this session (a new prepare starts the pipeline afresh). */
  readonly stages?: Readonly<Partial<Record<Stage, StageView>>>;
  /** What its services run against their tags in the registry (read on demand: asking is slow). */
  readonly images?: ImagesView;
  /** Its containers' CPU and memory and its disks (`deploy.sh resources`), and when read (ms). */
  readonly resources?: NodeResources & { readonly at: number };
}

/** A node's `deploy.sh images` answer as the TUI holds it. */
export interface ImagesView extends NodeImages {
  readonly loading: boolean;
  /** When it was read (ms since the epoch). */
  readonly at: number;
}

export interface Notice {
  readonly level: 'info' | 'warn' | 'error';
  readonly text: string;
}

export interface WalkView {
  readonly perWave: boolean;
  readonly wave: number;
  readonly node?: string;
}

/** One run's log, opened from the history view (`deploy.sh attach --run ID`). */
export interface HistoryLogView {
  readonly node: string;
  readonly run: string;
  readonly loading: boolean;
  /** Screen-safe lines. */
  readonly lines: readonly string[];
  readonly error: string;
}

/** The history view's data: every node's runs, newest first, and nodes that could not be read. */
export interface HistoryView {
  readonly loading: boolean;
  readonly entries: readonly HistoryEntry[];
  readonly errors: readonly string[];
  readonly log?: HistoryLogView;
}

export interface AppState {
  readonly homelab: string;
  /** Sorted by wave, then inventory order. */
  readonly nodes: readonly NodeEntry[];
  readonly selected: string;
  readonly repo?: RepoInfo;
  /** True until the first round of probes has answered. */
  readonly loading: boolean;
  readonly refreshing: boolean;
  readonly mode: Mode;
  readonly filter: string;
  /** Lines scrolled up from the bottom of the selected node's log. */
  readonly logScroll: number;
  readonly notice?: Notice;
  readonly banners: readonly string[];
  readonly dryRun: boolean;
  readonly spinner: number;
  readonly walk?: WalkView;
  /**
   * A view is being prepared (a confirmation reads the repo first): keys that arrive meanwhile wait
   * for it and then act on it, in order, instead of falling on the view below.
   */
  readonly awaiting?: string;
  /** The guided recover view is open: closing a dialog or the help returns to it. */
  readonly recoverOpen?: boolean;
  /** A view of its own is open (service logs, command log): closing a dialog or the help returns to it. */
  readonly viewOpen?: 'service-logs' | 'command-log';
  /** The history view's runs (while it is open). */
  readonly history?: HistoryView;
}

export type Action =
  | { readonly type: 'repo'; readonly repo: RepoInfo }
  | { readonly type: 'refreshing'; readonly on: boolean }
  | { readonly type: 'probe'; readonly probe: NodeProbe }
  | { readonly type: 'loaded' }
  | {
      readonly type: 'position';
      readonly node: string;
      readonly behind: number | null;
      readonly changes: readonly string[];
    }
  | { readonly type: 'move'; readonly delta: number }
  | { readonly type: 'select'; readonly node: string }
  | { readonly type: 'mode'; readonly mode: Mode }
  | { readonly type: 'filter-type'; readonly text: string }
  | { readonly type: 'filter-erase' }
  | { readonly type: 'filter-clear' }
  | { readonly type: 'scroll'; readonly delta: number; readonly max: number }
  | { readonly type: 'help-scroll'; readonly delta: number; readonly max: number }
  | {
      readonly type: 'stage-start';
      readonly node: string;
      readonly stage: Stage;
      readonly commit: string;
      readonly at: number;
    }
  | { readonly type: 'node-event'; readonly node: string; readonly event: NodeEvent }
  | { readonly type: 'stage-end'; readonly node: string; readonly outcome: StageOutcome }
  | { readonly type: 'notice'; readonly notice: Notice | undefined }
  | { readonly type: 'walk'; readonly walk: WalkView | undefined }
  | { readonly type: 'awaiting'; readonly what: string | undefined }
  | { readonly type: 'recover-open'; readonly open: boolean }
  | { readonly type: 'view-open'; readonly view: 'service-logs' | 'command-log' | undefined }
  | { readonly type: 'history'; readonly history: HistoryView | undefined }
  | { readonly type: 'images'; readonly node: string; readonly images: ImagesView }
  | {
      readonly type: 'resources';
      readonly node: string;
      readonly resources: NodeResources & { readonly at: number };
    }
  | {
      readonly type: 'stage-refused';
      readonly node: string;
      readonly run: RunView | undefined;
      readonly stages: NodeEntry['stages'];
    }
  /** The inventory was read again (a node added): new nodes join, the others keep what is known. */
  | { readonly type: 'inventory'; readonly homelab: string; readonly nodes: readonly NodeSpec[] }
  | { readonly type: 'tick' };

const MAX_STEPS = 200;

export function initialState(opts: {
  homelab: string;
  nodes: readonly NodeSpec[];
  dryRun?: boolean;
  banners?: readonly string[];
}): AppState {
  const nodes = opts.nodes
    .map((spec, i) => ({ spec, i }))
    .sort((a, b) => a.spec.wave - b.spec.wave || a.i - b.i)
    .map(({ spec }): NodeEntry => ({ spec, behind: null }));
  return {
    homelab: opts.homelab,
    nodes,
    selected: nodes[0]?.spec.name ?? '',
    loading: true,
    refreshing: false,
    mode: { kind: 'normal' },
    filter: '',
    logScroll: 0,
    banners: opts.banners ?? [],
    dryRun: opts.dryRun ?? false,
    spinner: 0,
  };
}

/** Nodes shown with the current filter (matches name, role or a tag; case-insensitive). */
export function visibleNodes(state: Pick<AppState, 'nodes' | 'filter'>): readonly NodeEntry[] {
  const f = state.filter.trim().toLowerCase();
  if (!f) return state.nodes;
  return state.nodes.filter(
    (n) =>
      n.spec.name.toLowerCase().includes(f) ||
      n.spec.role.toLowerCase().includes(f) ||
      n.spec.tags.some((t) => t.toLowerCase().includes(f)),
  );
}

export function selectedNode(state: AppState): NodeEntry | undefined {
  return state.nodes.find((n) => n.spec.name === state.selected);
}

export function isRunning(entry: NodeEntry | undefined): boolean {
  return entry?.run?.running === true;
}

export function anyRunning(state: AppState): boolean {
  return state.nodes.some(isRunning);
}

function updateNode(state: AppState, name: string, f: (n: NodeEntry) => NodeEntry): AppState {
  let changed = false;
  const nodes = state.nodes.map((n) => {
    if (n.spec.name !== name) return n;
    const next = f(n);
    changed = next !== n;
    return next;
  });
  return changed ? { ...state, nodes } : state;
}

function updateRun(state: AppState, name: string, f: (r: RunView) => RunView): AppState {
  return updateNode(state, name, (n) => (n.run ? { ...n, run: f(n.run) } : n));
}

/** Keeps the selection on a visible node after the filter changed. */
function keepSelectionVisible(state: AppState): AppState {
  const visible = visibleNodes(state);
  if (visible.length === 0 || visible.some((n) => n.spec.name === state.selected)) return state;
  return { ...state, selected: visible[0]?.spec.name ?? state.selected, logScroll: 0 };
}

function applyEvent(run: RunView, event: NodeEvent): RunView {
  switch (event.type) {
    case 'run':
      return { ...run, logPath: event.log, commit: event.commit || run.commit };
    case 'stage-start':
      return {
        ...run,
        stages: [
          ...run.stages.filter((s) => s.stage !== event.stage),
          { stage: event.stage, status: 'running' },
        ],
      };
    case 'stage-end':
      return {
        ...run,
        stages: run.stages.map((s) =>
          s.stage === event.stage
            ? {
                stage: s.stage,
                status: event.result,
                durationMs: event.durationMs,
                ...(event.error ? { error: event.error } : {}),
              }
            : s,
        ),
      };
    case 'step': {
      const step: StepView = {
        stage: event.stage,
        step: event.step,
        status: event.status,
        ...(event.service !== undefined ? { service: event.service } : {}),
        ...(event.detail !== undefined ? { detail: event.detail } : {}),
        ...(event.durationMs !== undefined ? { durationMs: event.durationMs } : {}),
      };
      // A step's end replaces its start, so the list reads as results.
      const idx = findLastIndex(
        run.steps,
        (s) =>
          s.stage === step.stage &&
          s.step === step.step &&
          s.service === step.service &&
          s.status === 'start',
      );
      const steps =
        idx >= 0 && step.status !== 'start'
          ? run.steps.map((s, i) => (i === idx ? step : s))
          : [...run.steps, step];
      return { ...run, steps: steps.slice(-MAX_STEPS) };
    }
    case 'check':
      return { ...run, checks: [...run.checks, event].slice(-MAX_STEPS) };
    case 'finding':
      return { ...run, findings: [...run.findings, event].slice(-MAX_STEPS) };
    default:
      return run;
  }
}

function rememberStage(
  stages: Partial<Record<Stage, StageView>>,
  view: StageView | undefined,
): Partial<Record<Stage, StageView>> {
  if (!view) return stages;
  // A new prepare begins a new pipeline: what deploy and verify did before no longer applies.
  const base = view.stage === 'prepare' && view.status === 'running' ? {} : stages;
  return { ...base, [view.stage]: view };
}

function findLastIndex<T>(list: readonly T[], pred: (t: T) => boolean): number {
  for (let i = list.length - 1; i >= 0; i--) if (pred(list[i] as T)) return i;
  return -1;
}

export function reducer(state: AppState, action: Action): AppState {
  switch (action.type) {
    case 'repo':
      return { ...state, repo: action.repo };
    case 'history':
      return { ...state, history: action.history };
    case 'resources':
      return {
        ...state,
        nodes: state.nodes.map((n) =>
          n.spec.name === action.node ? { ...n, resources: action.resources } : n,
        ),
      };
    case 'images':
      return {
        ...state,
        nodes: state.nodes.map((n) =>
          n.spec.name === action.node ? { ...n, images: action.images } : n,
        ),
      };
    case 'inventory': {
      const known = new Map(state.nodes.map((n) => [n.spec.name, n]));
      const nodes = initialState({ homelab: action.homelab, nodes: action.nodes }).nodes.map(
        (fresh) => {
          const old = known.get(fresh.spec.name);
          return old ? { ...old, spec: fresh.spec } : fresh;
        },
      );
      const selected = nodes.some((n) => n.spec.name === state.selected)
        ? state.selected
        : (nodes[0]?.spec.name ?? '');
      return { ...state, homelab: action.homelab, nodes, selected };
    }
    case 'refreshing':
      return { ...state, refreshing: action.on };
    case 'probe':
      return updateNode(state, action.probe.node, (n) => ({ ...n, probe: action.probe }));
    case 'loaded':
      return { ...state, loading: false };
    case 'position':
      return updateNode(state, action.node, (n) => ({
        ...n,
        behind: action.behind,
        changes: action.changes,
      }));
    case 'move': {
      const visible = visibleNodes(state);
      if (visible.length === 0) return state;
      const at = Math.max(
        0,
        visible.findIndex((n) => n.spec.name === state.selected),
      );
      const next = Math.min(visible.length - 1, Math.max(0, at + action.delta));
      const name = visible[next]?.spec.name ?? state.selected;
      return name === state.selected ? state : { ...state, selected: name, logScroll: 0 };
    }
    case 'select':
      return state.nodes.some((n) => n.spec.name === action.node)
        ? { ...state, selected: action.node, logScroll: 0 }
        : state;
    case 'mode': {
      // Back from a dialog or the help to the view beneath it: the recover view when it is open.
      const mode: Mode =
        action.mode.kind === 'normal' && state.recoverOpen
          ? { kind: 'recover' }
          : action.mode.kind === 'normal' && state.viewOpen
            ? { kind: state.viewOpen }
            : action.mode;
      return { ...state, mode, awaiting: undefined };
    }
    case 'recover-open': {
      const under = state.mode.kind === 'normal' || state.mode.kind === 'recover';
      return {
        ...state,
        recoverOpen: action.open,
        ...(under ? { mode: action.open ? { kind: 'recover' } : { kind: 'normal' } } : {}),
      };
    }
    case 'view-open': {
      const { viewOpen: _open, ...rest } = state;
      return action.view
        ? { ...rest, viewOpen: action.view, mode: { kind: action.view }, awaiting: undefined }
        : { ...rest, mode: { kind: 'normal' }, awaiting: undefined };
    }
    case 'filter-type':
      return keepSelectionVisible({ ...state, filter: state.filter + action.text });
    case 'filter-erase':
      return keepSelectionVisible({ ...state, filter: state.filter.slice(0, -1) });
    case 'filter-clear':
      return { ...state, filter: '' };
    case 'help-scroll':
      return state.mode.kind === 'help'
        ? {
            ...state,
            mode: {
              kind: 'help',
              scroll: Math.max(0, Math.min(action.max, state.mode.scroll + action.delta)),
            },
          }
        : state;
    case 'scroll':
      return {
        ...state,
        logScroll: Math.max(0, Math.min(action.max, state.logScroll + action.delta)),
      };
    case 'stage-start':
      return updateNode(state, action.node, (n) => ({
        ...n,
        run: {
          stage: action.stage,
          commit: action.commit,
          startedAt: action.at,
          running: true,
          stages: [],
          steps: [],
          checks: [],
          findings: [],
        },
      }));
    case 'node-event': {
      const withRun = updateRun(state, action.node, (r) => applyEvent(r, action.event));
      const ev = action.event;
      if (withRun === state || (ev.type !== 'stage-start' && ev.type !== 'stage-end'))
        return withRun;
      return updateNode(withRun, action.node, (n) => ({
        ...n,
        stages: rememberStage(
          n.stages ?? {},
          n.run?.stages.find((s) => s.stage === ev.stage),
        ),
      }));
    }
    case 'stage-end': {
      const { outcome } = action;
      const ended = updateRun(state, action.node, (r) => ({
        ...r,
        running: false,
        // A stage that never reported its end (killed, unreachable) is marked failed.
        stages: r.stages.map((s) =>
          s.status === 'running' ? { ...s, status: outcome.result === 'ok' ? 'ok' : 'failed' } : s,
        ),
        outcome: {
          result: outcome.result,
          message: outcome.message,
          exitCode: outcome.exitCode,
          durationMs: outcome.durationMs,
        },
      }));
      return updateNode(ended, action.node, (n) => {
        const stages = { ...(n.stages ?? {}) };
        for (const v of n.run?.stages ?? [])
          if (stages[v.stage]?.status === 'running') stages[v.stage] = v;
        return { ...n, stages };
      });
    }
    case 'notice':
      return action.notice ? { ...state, notice: action.notice } : { ...state, notice: undefined };
    case 'walk':
      return action.walk ? { ...state, walk: action.walk } : { ...state, walk: undefined };
    case 'stage-refused':
      // Nothing ran: the node keeps the run and stages it had (a refusal is not a node state).
      return updateNode(state, action.node, (n) => {
        const { run: _run, stages: _stages, ...rest } = n;
        return {
          ...rest,
          ...(action.run ? { run: action.run } : {}),
          ...(action.stages ? { stages: action.stages } : {}),
        };
      });
    case 'awaiting':
      return state.awaiting === action.what ? state : { ...state, awaiting: action.what };
    case 'tick':
      return { ...state, spinner: (state.spinner + 1) % 1000 };
  }
}
