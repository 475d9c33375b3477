// Keys of the service logs view, its picker and filter, and the command log, from the one key table
// (keys.ts, group Logs). The root's router hands every key here first; false: not ours.
import { bindingFor } from '../keys.js';
import { selectedNode } from '../state/reducer.js';
import type { AppStore } from '../state/store.js';
import type { ViewsHost } from './host.js';

export interface ViewsContext {
  readonly store: AppStore;
  readonly views: ViewsHost;
  /** Rows the open view shows, for page-sized scrolling. */
  readonly page: number;
}

const MODES = new Set(['service-pick', 'service-logs', 'logs-filter', 'command-log']);

export function routeViewKey(token: string, ctx: ViewsContext): boolean {
  const { store, views } = ctx;
  const state = store.getState();
  const mode = state.mode.kind;
  const node = selectedNode(state)?.spec.name ?? '';

  if (mode === 'normal') {
    const b = bindingFor('normal', token);
    if (b?.command !== 'service-logs' && b?.command !== 'command-log') return false;
    const why = b.disabled?.(state) ?? null;
    if (why !== null) {
      store.dispatch({ type: 'notice', notice: { level: 'warn', text: `${b.label}: ${why}` } });
      return true;
    }
    if (b.command === 'command-log') {
      views.openCommandLog(node);
      store.dispatch({ type: 'view-open', view: 'command-log' });
      return true;
    }
    const services = views.services(node);
    if (services.length === 1 && services[0]) {
      views.open(node, services[0]);
      store.dispatch({ type: 'view-open', view: 'service-logs' });
    } else store.dispatch({ type: 'mode', mode: { kind: 'service-pick', index: 0 } });
    return true;
  }
  if (!MODES.has(mode)) return false;

  if (mode === 'logs-filter') {
    const b = bindingFor(mode, token);
    const filter = views.logs?.filter ?? '';
    if (b?.command === 'logs-filter-apply') {
      store.dispatch({ type: 'mode', mode: { kind: 'service-logs' } });
    } else if (b?.command === 'logs-filter-clear') {
      views.setFilter('');
      store.dispatch({ type: 'mode', mode: { kind: 'service-logs' } });
    } else if (token === 'backspace') views.setFilter(filter.slice(0, -1));
    else if ([...token].length === 1 && token >= ' ') views.setFilter(filter + token);
    return true;
  }

  const b = bindingFor(mode, token);
  // help and quit are the app's: the router below handles them.
  if (!b || b.group !== 'Logs') return false;
  switch (b.command) {
    case 'pick-up':
    case 'pick-down': {
      if (state.mode.kind !== 'service-pick') return true;
      const n = Math.max(1, views.services(node).length);
      const index = (state.mode.index + (b.command === 'pick-up' ? n - 1 : 1)) % n;
      store.dispatch({ type: 'mode', mode: { kind: 'service-pick', index } });
      return true;
    }
    case 'pick-open': {
      const index = state.mode.kind === 'service-pick' ? state.mode.index : 0;
      const service = views.services(node)[index];
      if (service) {
        views.open(node, service);
        store.dispatch({ type: 'view-open', view: 'service-logs' });
      }
      return true;
    }
    case 'logs-filter':
      store.dispatch({ type: 'mode', mode: { kind: 'logs-filter' } });
      return true;
    case 'logs-timestamps':
      views.toggleTimestamps();
      return true;
    case 'logs-pause':
      views.togglePause();
      return true;
    case 'logs-up':
    case 'logs-down':
    case 'logs-page-up':
    case 'logs-page-down': {
      const step =
        b.command === 'logs-up' || b.command === 'logs-down' ? 1 : Math.max(1, ctx.page - 1);
      const delta = b.command === 'logs-up' || b.command === 'logs-page-up' ? step : -step;
      if (mode === 'command-log') views.scrollCommands(delta, ctx.page);
      else views.scroll(delta, ctx.page);
      return true;
    }
    case 'logs-end':
      if (mode === 'command-log') views.scrollCommands(-Infinity, ctx.page);
      else views.toEnd();
      return true;
    case 'logs-reopen':
      views.reopen();
      return true;
    case 'cmdlog-all':
      views.toggleCommandsAll();
      return true;
    case 'logs-back':
      views.close();
      views.closeCommandLog();
      store.dispatch({ type: 'view-open', view: undefined });
      return true;
    default:
      return true;
  }
}
