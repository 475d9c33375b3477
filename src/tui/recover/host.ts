// The app's handle on the guided recover view: at most one session open at a time; the root's key
// router hands it every key while it is open (key() returns false when closed). No React here.
import type { Stage } from '../../core/protocol/events.js';
import type { FailedStep } from '../../core/recover/findings.js';
import { toFinding } from '../../core/recover/findings.js';
import type { StageOutcome } from '../../core/node/types.js';
import type { Control } from '../../shell/control/types.js';
import { RecoverSession, type RecoverSessionInit } from './session.js';
import type { RunView } from '../state/reducer.js';

export interface RecoverHostDeps {
  readonly control: Control;
  readonly env: NodeJS.ProcessEnv;
  /** Raw bytes to the terminal (OSC 52). */
  readonly writeTerminal: (data: string) => void;
  /**
   * Runs a stage the way the app does: asked in the app's one confirmation dialog, its node list
   * and log following it; default control.runStage (unasked: for tests of the view alone).
   */
  readonly runStage?: (
    node: string,
    stage: Stage,
  ) => Promise<StageOutcome | 'declined' | 'busy' | 'refused'>;
  readonly now?: () => Date;
  /** Told when the view opens or closes (the app's key mode follows it). */
  readonly onOpenChange?: (open: boolean) => void;
}

/** What the view starts from after a failed run the app watched: its failed step, findings, log path. */
export function recoverInitFromRun(node: string, run: RunView | undefined): RecoverSessionInit {
  if (!run) return { node };
  const failedStep = run.steps.find((s) => s.status === 'fail');
  const failedStage = run.stages.find((s) => s.status === 'failed');
  const failed: FailedStep | undefined =
    failedStep || failedStage
      ? {
          stage: failedStep?.stage ?? failedStage?.stage ?? run.stage,
          step: failedStep?.step ?? '',
          service: failedStep?.service ?? '',
        }
      : undefined;
  const excerpt = run.steps
    .filter((s) => s.status === 'fail')
    .map((s) => `step ${s.step} failed${s.service ? ` (${s.service})` : ''}: ${s.detail ?? ''}`)
    .concat(
      run.checks
        .filter((c) => c.status === 'fail')
        .map((c) => `check ${c.check} ${c.service} failed: ${c.detail}`),
    )
    .join('\n');
  return {
    node,
    ...(failed ? { failed } : {}),
    ...(run.stage === 'diagnose' && run.findings.length
      ? { findings: run.findings.map(toFinding) }
      : {}),
    ...(excerpt ? { excerpt } : {}),
    // A diagnose run's own log says nothing about the failure: then the node picks the last other log.
    ...(run.logPath && run.stage !== 'diagnose' ? { logPath: run.logPath } : {}),
  };
}

export class RecoverHost {
  private session: RecoverSession | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly deps: RecoverHostDeps) {}

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly current = (): RecoverSession | undefined => this.session;

  get isOpen(): boolean {
    return this.session !== undefined;
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  /** Opens the view on a node (replacing any open one) and starts it (rollback info, diagnose). */
  open(init: RecoverSessionInit): RecoverSession {
    this.session?.close();
    const run = this.deps.runStage;
    const session = new RecoverSession(
      {
        control: this.deps.control,
        runner: this.deps.control.nodeRunner(init.node),
        env: this.deps.env,
        now: this.deps.now ?? (() => new Date()),
        writeTerminal: this.deps.writeTerminal,
        onBack: () => this.close(),
        ...(run
          ? {
              runStage: async (node: string, stage: Stage) => {
                const r = await run(node, stage);
                if (r === 'declined' || r === 'busy' || r === 'refused')
                  return {
                    node,
                    stage,
                    commit: '',
                    result: 'refused',
                    exitCode: null,
                    message:
                      r === 'busy'
                        ? 'a stage is already running'
                        : r === 'refused'
                          ? 'see the notice above'
                          : 'declined',
                    durationMs: 0,
                  };
                return r;
              },
            }
          : {}),
      },
      init,
    );
    this.session = session;
    // The app's footer offers the view's keys that act now: it follows the view's state too.
    session.subscribe(() => this.changed());
    this.deps.onOpenChange?.(true);
    this.changed();
    void session.start();
    return session;
  }

  /** Opens the view on a node from the app's view of its last run (failed step, findings, log path). */
  openRun(node: string, run: RunView | undefined): RecoverSession {
    return this.open(recoverInitFromRun(node, run));
  }

  close(): void {
    const was = this.session !== undefined;
    this.session?.close();
    this.session = undefined;
    if (was) this.deps.onOpenChange?.(false);
    this.changed();
  }

  /** Hands a key to the open view; false when none is open. */
  key(token: string): boolean {
    if (!this.session) return false;
    this.session.key(token);
    return true;
  }

  async dispose(): Promise<void> {
    this.close();
  }
}
