// Starts the TUI on a Control: the stores, the controller, the full screen, Ink; returns when the
// operator quits, with the terminal restored.
import chalk from 'chalk';
import { render } from 'ink';
import { colourLevel } from './colour.js';
import type { Control } from '../shell/control/types.js';
import { App, type PanelHost } from './app.js';
import { TuiController } from './controller.js';
import { LogStore } from './log-store.js';
import { initialState } from './state/reducer.js';
import { createAppStore, type AppStore } from './state/store.js';
import { RecoverHost } from './recover/host.js';
import { enterFullScreen } from './terminal.js';
import { RecoverPanel } from './recover/view.js';
import { recoverKeyActs } from './recover/state.js';
import { ViewsHost } from './service-logs/host.js';
import { commandLog } from '../shell/transport/command-log.js';
import { onNotifyWarning } from '../shell/notify.js';

export interface RunTuiOptions {
  readonly control: Control;
  readonly stdin: NodeJS.ReadStream;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly dryRun?: boolean;
  /** Why stages run as --dry-run, for the banner (for example "no Docker engine here"). */
  readonly dryRunReason?: string;
  readonly banners?: readonly string[];
  readonly refreshMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  /** The tailnet's state in words, for the header (when a node is reached over tailscale ssh). */
  readonly tailnet?: string;
}

/** The guided recover view as the app's panel: it takes the detail pane and the keys while open. */
function recoverPanel(host: RecoverHost, store: AppStore): PanelHost {
  return {
    open: (node) => {
      host.openRun(node, store.getState().nodes.find((n) => n.spec.name === node)?.run);
    },
    get isOpen() {
      return host.isOpen;
    },
    key: (token) => host.key(token),
    acts: (command) => {
      const session = host.current();
      return session ? recoverKeyActs(session.getState(), command) : false;
    },
    subscribe: host.subscribe,
    current: () => host.current()?.getState(),
    render: ({ width, height }) => {
      const session = host.current();
      return session ? <RecoverPanel session={session} width={width} height={height} /> : null;
    },
  };
}

/** Stages whose failure opens the recover view by itself (diagnose reports, it does not fail a node). */
const OPENS_RECOVER = new Set(['prepare', 'deploy', 'verify', 'resume', 'rollback', 'up']);

/** "local ×4", "tailscale-ssh ×3 · local ×1": how SATURN reaches the nodes. */
export function transportSummary(control: Pick<Control, 'inventory'>, tailnet?: string): string {
  const counts = new Map<string, number>();
  for (const n of control.inventory.nodes)
    counts.set(n.transport, (counts.get(n.transport) ?? 0) + 1);
  return [...[...counts].map(([t, c]) => `${t} ×${c}`), ...(tailnet ? [tailnet] : [])].join(' · ');
}

export async function runTui(opts: RunTuiOptions): Promise<void> {
  const { control } = opts;
  const store = createAppStore(
    initialState({
      homelab: control.inventory.homelab,
      nodes: control.inventory.nodes,
      dryRun: opts.dryRun ?? false,
      banners: [
        ...(opts.dryRun
          ? [
              `DRY RUN: stages print what they would do and change nothing${opts.dryRunReason ? ` (${opts.dryRunReason})` : ''}`,
            ]
          : []),
        ...(opts.banners ?? []),
      ],
    }),
  );
  // NO_COLOR: the same layout without a colour (chalk, which Ink draws with, reads FORCE_COLOR).
  const level = colourLevel(opts.env ?? process.env);
  if (level !== undefined) chalk.level = level;
  const logs = new LogStore(2000, 50, undefined, chalk.level > 0);
  // Set below: the host runs its confirmed stages through the controller, and the controller opens
  // the host when a stage fails.
  let host: RecoverHost | undefined; // eslint-disable-line prefer-const -- assigned after the controller exists
  const controller = new TuiController(control, store, logs, {
    refreshMs: opts.refreshMs ?? 15_000,
    writeTerminal: (data) => {
      opts.stdout.write(data);
    },
    onOutcome: (outcome) => {
      const failed = outcome.result === 'failed' || outcome.result === 'interrupted';
      if (!failed || !OPENS_RECOVER.has(outcome.stage) || !host || host.isOpen) return;
      store.dispatch({ type: 'select', node: outcome.node });
      host.openRun(
        outcome.node,
        store.getState().nodes.find((n) => n.spec.name === outcome.node)?.run,
      );
    },
  });
  host = new RecoverHost({
    control,
    env: opts.env ?? process.env,
    writeTerminal: (data) => {
      opts.stdout.write(data);
    },
    // The app's one confirmation asks first; the node list and log follow the run.
    runStage: (node, stage) => controller.requestStage(node, stage),
    onOpenChange: (open) => store.dispatch({ type: 'recover-open', open }),
  });
  // Service logs (l) and the command log (@): the same bounded, batched store as the stage log.
  const views = new ViewsHost({ control, commandLog, colour: chalk.level > 0 });
  const screen = enterFullScreen(opts.stdout);
  let quit: () => void = () => {};
  const quitting = new Promise<void>((resolve) => {
    quit = resolve;
  });
  // Not incrementalRendering: Ink 6.8's incremental writer moves the cursor up one line too few when
  // the frame ends in a newline (every frame shorter than the terminal), so each redraw lands one row
  // lower (seen in tmux). The standard writer redraws the frame, at most maxFps times a second.
  const ink = render(
    <App
      store={store}
      logs={logs}
      driver={controller}
      transport={transportSummary(control, opts.tailnet)}
      onQuit={() => quit()}
      panel={recoverPanel(host, store)}
      views={views}
    />,
    {
      stdin: opts.stdin,
      stdout: opts.stdout,
      stderr: opts.stderr,
      exitOnCtrlC: false,
      patchConsole: true,
      incrementalRendering: false,
      maxFps: 30,
    },
  );
  // The rows are on screen before the inventory's secret scan runs (deferred: the slow part of
  // loading; it starts now, after the first frame). Meanwhile every command on a node waits for it
  // (the Control's runners do) and a notice says so; a secret found closes the screen and the
  // error is reported as for an invalid inventory, with nothing run on any node.
  let invalid: Error | undefined;
  const checking = control.checkInventory?.();
  if (checking) {
    const notice = {
      level: 'info',
      text: 'checking what Git holds for secrets: nothing runs on a node until that ends',
    } as const;
    store.dispatch({ type: 'notice', notice });
    checking.then(
      () => {
        if (store.getState().notice === notice)
          store.dispatch({ type: 'notice', notice: undefined });
      },
      (err: unknown) => {
        invalid = err instanceof Error ? err : new Error(String(err));
        quit();
      },
    );
  }
  controller.start();
  // A notification that could not be delivered is a notice, never a line over the screen.
  const stopNotify = onNotifyWarning((text) =>
    store.dispatch({ type: 'notice', notice: { level: 'warn', text } }),
  );
  try {
    await Promise.race([quitting, ink.waitUntilExit()]);
  } finally {
    stopNotify();
    // Stop following running stages: they run detached on their nodes and go on there.
    await controller.stop({ cancel: true });
    await host.dispose();
    views.dispose();
    ink.unmount();
    ink.cleanup();
    logs.dispose();
    screen.leave();
  }
  if (invalid !== undefined) throw invalid;
}
