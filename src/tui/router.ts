// The one place keys become actions: a token, the mode and the key table decide; the root's single
// useInput calls this. Disabled keys say why in the notice line instead of doing nothing silently.
import type { NodeAddIntents } from '../core/onboarding/fields.js';
import { STAGES, type Stage } from '../core/protocol/events.js';
import { advanceStage, bindingFor } from './keys.js';
import type { LogStore } from './log-store.js';
import { anyRunning, selectedNode } from './state/reducer.js';
import type { AppStore } from './state/store.js';
import { helpRowCount } from './views/help-overlay.js';
import { updateMenuItems } from './views/update-menu.js';
import type { UpdateScope } from '../core/images/updates.js';
import { routeViewKey, type ViewsContext } from './service-logs/route.js';

/** What the router and the views need from the controller: stages, the walk, the add-node form. */
export interface StageDriver extends NodeAddIntents {
  refresh(): Promise<void>;
  requestStage(node: string, stage: Stage): Promise<unknown>;
  answer(yes: boolean): void;
  deployAll(perWave: boolean): Promise<unknown>;
  /** Copies the node's Tailscale SSH check URL to the clipboard (OSC 52). */
  copyCheckUrl(node: string): void;
  /** The operator passed the node's Tailscale SSH check: retry the node. */
  checkDone(node: string): Promise<unknown>;
  /** Opens the history view and reads every node's history (src/tui/history-host.ts). */
  openHistory?(): Promise<unknown>;
  /** Opens the log of the run selected in the history view. */
  openHistoryRun?(): Promise<unknown>;
  /** Asks every node what its images' tags point to in the registry (no pull). */
  checkUpdates?(): Promise<unknown>;
  /** Updates a node's out-of-date services (asks first): deploy --update, then verify. */
  requestUpdate?(node: string, scope?: UpdateScope): Promise<unknown>;
}

export interface RouterContext {
  readonly store: AppStore;
  readonly logs: LogStore;
  readonly driver: StageDriver;
  readonly quit: () => void;
  /** Rows the log shows, for page-sized scrolling. */
  readonly logPage: number;
  readonly helpPage: number;
  /** Opens the guided recover view of a node (when the app has one). */
  readonly openRecover?: (node: string) => void;
  /** The service logs and command log views (their keys are routed first). */
  readonly views?: Omit<ViewsContext, 'store'>;
}

export function routeKey(token: string, ctx: RouterContext): void {
  const { store, driver } = ctx;
  const state = store.getState();
  const mode = state.mode.kind;
  if (ctx.views && routeViewKey(token, { ...ctx.views, store })) return;

  if (mode === 'filter') {
    const b = bindingFor(mode, token);
    if (b?.command === 'filter-apply')
      return store.dispatch({ type: 'mode', mode: { kind: 'normal' } });
    if (b?.command === 'filter-clear') {
      store.dispatch({ type: 'filter-clear' });
      return store.dispatch({ type: 'mode', mode: { kind: 'normal' } });
    }
    if (token === 'backspace') return store.dispatch({ type: 'filter-erase' });
    if ([...token].length === 1 && token >= ' ')
      return store.dispatch({ type: 'filter-type', text: token });
    return;
  }

  const binding = bindingFor(mode, token);
  if (!binding) return;
  const why = binding.disabled?.(state) ?? null;
  if (why !== null) {
    store.dispatch({ type: 'notice', notice: { level: 'warn', text: `${binding.label}: ${why}` } });
    return;
  }
  const node = selectedNode(state)?.spec.name ?? '';
  const run = (stage: Stage): void => {
    void driver.requestStage(node, stage);
  };
  switch (binding.command) {
    case 'up':
      return store.dispatch({ type: 'move', delta: -1 });
    case 'down':
      return store.dispatch({ type: 'move', delta: 1 });
    case 'advance': {
      const stage = advanceStage(state);
      if (stage) run(stage);
      return;
    }
    case 'stage-menu':
      return store.dispatch({ type: 'mode', mode: { kind: 'menu', index: 0 } });
    case 'menu-up':
    case 'menu-down': {
      if (state.mode.kind !== 'menu') return;
      const n = STAGES.length;
      const index = (state.mode.index + (binding.command === 'menu-up' ? n - 1 : 1)) % n;
      return store.dispatch({ type: 'mode', mode: { kind: 'menu', index } });
    }
    case 'menu-pick': {
      const stage = state.mode.kind === 'menu' ? STAGES[state.mode.index] : undefined;
      if (stage) pickStage(stage, ctx);
      return;
    }
    case 'resume':
      return run('resume');
    case 'rollback':
      return run('rollback');
    case 'diagnose':
      return run('diagnose');
    case 'refresh':
      void driver.refresh();
      return;
    case 'filter':
      return store.dispatch({ type: 'mode', mode: { kind: 'filter' } });
    case 'deploy-all':
      return store.dispatch({ type: 'mode', mode: { kind: 'walk-choice' } });
    case 'walk-each':
    case 'walk-wave':
      store.dispatch({ type: 'mode', mode: { kind: 'normal' } });
      void driver.deployAll(binding.command === 'walk-wave');
      return;
    case 'log-up':
      return store.dispatch({
        type: 'scroll',
        delta: Math.max(1, ctx.logPage - 1),
        max: Math.max(0, ctx.logs.size(node) - ctx.logPage),
      });
    case 'log-down':
      return store.dispatch({
        type: 'scroll',
        delta: -Math.max(1, ctx.logPage - 1),
        max: Math.max(0, ctx.logs.size(node) - ctx.logPage),
      });
    case 'help':
      return store.dispatch({ type: 'mode', mode: { kind: 'help', scroll: 0 } });
    case 'help-scroll-up':
      return store.dispatch({
        type: 'help-scroll',
        delta: -1,
        max: Math.max(0, helpRowCount() - ctx.helpPage),
      });
    case 'help-scroll-down':
      return store.dispatch({
        type: 'help-scroll',
        delta: 1,
        max: Math.max(0, helpRowCount() - ctx.helpPage),
      });
    case 'close':
      return store.dispatch({ type: 'mode', mode: { kind: 'normal' } });
    case 'quit':
      if (anyRunning(state)) return store.dispatch({ type: 'mode', mode: { kind: 'quit' } });
      return ctx.quit();
    case 'yes':
      if (mode === 'quit') return ctx.quit();
      return driver.answer(true);
    case 'no':
      if (mode === 'quit') return store.dispatch({ type: 'mode', mode: { kind: 'normal' } });
      return driver.answer(false);
    case 'recover':
      ctx.openRecover?.(node);
      return;
    case 'add-node':
      return store.dispatch({ type: 'mode', mode: { kind: 'add-node' } });
    case 'check-copy':
      return driver.copyCheckUrl(node);
    case 'check-done':
      void driver.checkDone(node);
      return;
    case 'history':
    case 'hist-reload':
      void driver.openHistory?.();
      return;
    case 'updates-check':
      void driver.checkUpdates?.();
      return;
    case 'update':
      return store.dispatch({ type: 'mode', mode: { kind: 'update-menu', index: 0 } });
    case 'update-up':
    case 'update-down': {
      if (state.mode.kind !== 'update-menu') return;
      const n = Math.max(1, updateMenuItems(state).length);
      const index = (state.mode.index + (binding.command === 'update-up' ? n - 1 : 1)) % n;
      return store.dispatch({ type: 'mode', mode: { kind: 'update-menu', index } });
    }
    case 'update-pick': {
      const item =
        state.mode.kind === 'update-menu' ? updateMenuItems(state)[state.mode.index] : undefined;
      store.dispatch({ type: 'mode', mode: { kind: 'normal' } });
      if (item && node) void driver.requestUpdate?.(node, item.scope);
      return;
    }
    case 'hist-up':
    case 'hist-down':
    case 'hist-page-up':
    case 'hist-page-down':
      return historyMove(binding.command, ctx);
    case 'hist-open':
      if (!state.history?.log) void driver.openHistoryRun?.();
      return;
    case 'hist-back':
      if (state.mode.kind === 'history' && state.history?.log) {
        store.dispatch({ type: 'history', history: { ...state.history, log: undefined } });
        return store.dispatch({
          type: 'mode',
          mode: { kind: 'history', index: state.mode.index, scroll: 0 },
        });
      }
      store.dispatch({ type: 'history', history: undefined });
      return store.dispatch({ type: 'mode', mode: { kind: 'normal' } });
    case 'form':
    case 'filter-apply':
    case 'filter-clear':
      return;
  }
}

/** The history view's moves: the selected run in the list, or the scroll of an open log. */
function historyMove(
  command: 'hist-up' | 'hist-down' | 'hist-page-up' | 'hist-page-down',
  ctx: RouterContext,
): void {
  const state = ctx.store.getState();
  if (state.mode.kind !== 'history' || !state.history) return;
  const page = Math.max(1, ctx.helpPage - 3);
  const step = command === 'hist-up' || command === 'hist-down' ? 1 : page;
  const up = command === 'hist-up' || command === 'hist-page-up';
  const { index, scroll } = state.mode;
  const log = state.history.log;
  if (log) {
    const max = Math.max(0, log.lines.length - 1);
    const next = Math.min(max, Math.max(0, scroll + (up ? step : -step)));
    ctx.store.dispatch({ type: 'mode', mode: { kind: 'history', index, scroll: next } });
    return;
  }
  const last = Math.max(0, state.history.entries.length - 1);
  const next = Math.min(last, Math.max(0, index + (up ? -step : step)));
  ctx.store.dispatch({ type: 'mode', mode: { kind: 'history', index: next, scroll: 0 } });
}

/** The stage menu picked a stage: close the menu, then run it (asking first when it changes the node). */
export function pickStage(stage: Stage, ctx: RouterContext): void {
  const state = ctx.store.getState();
  const node = selectedNode(state)?.spec.name ?? '';
  ctx.store.dispatch({ type: 'mode', mode: { kind: 'normal' } });
  if (node) void ctx.driver.requestStage(node, stage);
}
