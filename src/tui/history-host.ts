// The history view's reads, outside React: every node's `deploy.sh history` (in parallel) and a
// run's log (`deploy.sh attach --run ID`), put into the store as they arrive. The controller calls
// these for the router; the view only draws AppState.history.
import { mergeHistory } from '../core/status/history.js';
import type { Control } from '../shell/control/types.js';
import { readFleetHistory, readRunLog } from '../shell/history.js';
import type { AppStore } from './state/store.js';

/** Opens the history view at its newest run and reads every node's history. */
export async function openHistory(control: Control, store: AppStore): Promise<void> {
  store.dispatch({ type: 'history', history: { loading: true, entries: [], errors: [] } });
  store.dispatch({ type: 'mode', mode: { kind: 'history', index: 0, scroll: 0 } });
  const nodes = await readFleetHistory(control);
  if (store.getState().mode.kind !== 'history') return;
  store.dispatch({
    type: 'history',
    history: {
      loading: false,
      entries: mergeHistory(nodes),
      errors: nodes.filter((n) => n.error).map((n) => `${n.node}: ${n.error}`),
    },
  });
}

/** Opens the log of the selected run (from the node that ran it). */
export async function openHistoryRun(control: Control, store: AppStore): Promise<void> {
  const state = store.getState();
  const history = state.history;
  if (state.mode.kind !== 'history' || !history) return;
  const entry = history.entries[state.mode.index];
  if (!entry) return;
  const log = { node: entry.node, run: entry.run, loading: true, lines: [], error: '' };
  store.dispatch({ type: 'history', history: { ...history, log } });
  store.dispatch({ type: 'mode', mode: { kind: 'history', index: state.mode.index, scroll: 0 } });
  const read = await readRunLog(control, entry.node, entry.run);
  const now = store.getState().history;
  if (!now?.log || now.log.run !== entry.run) return;
  store.dispatch({
    type: 'history',
    history: { ...now, log: { ...log, loading: false, lines: read.lines, error: read.error } },
  });
}
