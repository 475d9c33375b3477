// The root: reads the stores, routes every key through one useInput, draws the Screen. Thin.
import { useInput, useStdin } from 'ink';
import { useEffect, useMemo, useRef, useSyncExternalStore, type ReactNode } from 'react';
import { bindingFor, chunkTokens, type Command } from './keys.js';
import type { LogStore } from './log-store.js';
import { routeKey, type RouterContext, type StageDriver } from './router.js';
import { anyRunning, selectedNode } from './state/reducer.js';
import type { AppStore } from './state/store.js';
import { useTerminalSize, type Size } from './use-terminal-size.js';
import { detailLogHeight } from './views/detail-pane.js';
import { Screen, layout } from './views/screen.js';
import type { ViewsHost } from './service-logs/host.js';

/** A view that can take over the detail pane and the keys (the guided recover view's host). */
export interface PanelHost {
  readonly isOpen: boolean;
  key(token: string): boolean;
  subscribe(listener: () => void): () => void;
  /** Changes whenever the panel opens, closes or is replaced. */
  current(): unknown;
  render(size: { width: number; height: number }): ReactNode;
  /** Opens the panel on a node (the `g` key). */
  open?(node: string): void;
  /** Whether a key of the table's 'recover' mode acts now (what the footer offers). */
  acts?(command: Command): boolean;
}

export interface AppProps {
  readonly store: AppStore;
  readonly logs: LogStore;
  readonly driver: StageDriver;
  readonly transport: string;
  readonly onQuit: () => void;
  /** Size when the output stream does not say (tests). */
  readonly fallbackSize?: Size;
  /** Spinner period in ms. */
  readonly tickMs?: number;
  readonly panel?: PanelHost;
  /** The service logs and command log views (keys l and @). */
  readonly views?: ViewsHost;
}

const NO_PANEL_SUBSCRIBE = (): (() => void) => () => {};
const NO_PANEL = (): undefined => undefined;

const F_KEYS: Record<string, string> = { '\x1b[15~': 'f5', '\x1b[[E': 'f5' };

export function App({
  store,
  logs,
  driver,
  transport,
  onQuit,
  fallbackSize,
  tickMs = 120,
  panel,
  views,
}: AppProps) {
  const state = useSyncExternalStore(store.subscribe, store.getState);
  useSyncExternalStore(logs.subscribe, logs.version);
  useSyncExternalStore(panel?.subscribe ?? NO_PANEL_SUBSCRIBE, panel?.current ?? NO_PANEL);
  useSyncExternalStore(views?.subscribe ?? NO_PANEL_SUBSCRIBE, views?.version ?? NO_PANEL);
  const { cols, rows } = useTerminalSize(fallbackSize);
  const { isRawModeSupported, internal_eventEmitter } = useStdin();

  const l = layout(state, cols, rows, panel?.isOpen === true);
  const entry = selectedNode(state);
  const ctx: RouterContext = {
    store,
    logs,
    driver,
    quit: onQuit,
    logPage: entry ? Math.max(1, detailLogHeight(entry, l.detailHeight, l.detailWidth)) : 1,
    helpPage: Math.max(1, l.body - 1),
    ...(panel?.open ? { openRecover: (node: string) => panel.open?.(node) } : {}),
    ...(views
      ? { views: { views, page: Math.max(1, layout(state, cols, rows, true).detailHeight - 2) } }
      : {}),
  };

  const ctxRef = useRef(ctx);
  ctxRef.current = ctx;

  // Keys that arrive while a view is being prepared (AppState.awaiting) wait here and act on it.
  const queued = useRef<string[]>([]);
  const draining = useRef(false);
  const handle = (token: string): void => {
    if (store.getState().awaiting !== undefined && token !== 'ctrl+c') {
      queued.current.push(token);
      return;
    }
    const mode = store.getState().mode.kind;
    // The recover view reads its keys from the key table's 'recover' mode; the app's own keys
    // there (help, quit) and its dialogs over the view go through the router.
    if (mode === 'recover' && panel?.isOpen) {
      const b = bindingFor('recover', token);
      if (b && b.group === 'Recover' && panel.key(token)) return;
    }
    // The add-node form reads every key.
    if (mode === 'add-node' && token !== 'ctrl+c') return;
    routeKey(token, ctxRef.current);
  };
  const handleRef = useRef(handle);
  handleRef.current = handle;
  useEffect(
    () =>
      store.subscribe(() => {
        if (draining.current) return;
        draining.current = true;
        try {
          while (store.getState().awaiting === undefined && queued.current.length > 0)
            handleRef.current(queued.current.shift() ?? '');
        } finally {
          draining.current = false;
        }
      }),
    [store],
  );

  // Every key goes through here.
  // The mode is read from the store, not this render: keys can arrive before the next render.
  useInput(
    (input, key) => {
      // A paste or a fast burst arrives as one chunk: every key in it acts, in order, each on the
      // state the previous one left (read from the stores, not from this render).
      for (const token of chunkTokens(input, key)) handle(token);
    },
    { isActive: isRawModeSupported },
  );
  // Ink reports function keys without a name: read F5 from the raw input.
  useEffect(() => {
    if (!isRawModeSupported) return;
    const onInput = (data: string): void => {
      const token = F_KEYS[data];
      if (token && store.getState().mode.kind === 'normal') routeKey(token, ctxRef.current);
    };
    internal_eventEmitter.on('input', onInput);
    return () => {
      internal_eventEmitter.off('input', onInput);
    };
  }, [internal_eventEmitter, isRawModeSupported, store, panel]);

  const busy = anyRunning(state) || state.refreshing || state.loading;
  useEffect(() => {
    if (!busy) return;
    const t = setInterval(() => store.dispatch({ type: 'tick' }), tickMs);
    return () => clearInterval(t);
  }, [busy, store, tickMs]);

  const readLog = useMemo(
    () => (node: string, n: number, fromEnd: number) => ({
      lines: logs.lines(node, n, fromEnd),
      total: logs.size(node),
    }),
    [logs],
  );
  const onFormClosed = (added: string | undefined): void => {
    store.dispatch({ type: 'mode', mode: { kind: 'normal' } });
    if (added) {
      // The controller put the node in the list when it wrote it: show it.
      store.dispatch({ type: 'select', node: added });
      store.dispatch({
        type: 'notice',
        notice: {
          level: 'info',
          text: `${added} written to inventory/ and hosts/ and listed: commit and push it (git add inventory hosts && git commit && git push) before its first stage`,
        },
      });
    }
  };
  return (
    <Screen
      state={state}
      cols={cols}
      rows={rows}
      readLog={readLog}
      transport={transport}
      onFormClosed={onFormClosed}
      nodeAdd={driver}
      {...(views ? { views } : {})}
      {...(panel?.isOpen
        ? { panel: (size: { width: number; height: number }) => panel.render(size) }
        : {})}
      {...(panel?.isOpen && panel.acts
        ? { panelKeys: (c: Command) => panel.acts?.(c) ?? true }
        : {})}
    />
  );
}
