// Drives the guided recover view of one node: runs diagnose, resume and rollback through the control
// layer, builds and saves the recover-node prompt, copies it (OSC 52), asks the AI command, reads the
// full log. No React: it owns a small store the view reads with useSyncExternalStore.
import type { Stage } from '../../core/protocol/events.js';
import {
  countFindings,
  failedLogExcerpt,
  failedStepOf,
  toFinding,
  type FailedStep,
  type Finding,
} from '../../core/recover/findings.js';
import type { NodeLine } from '../../core/protocol/events.js';
import type { StageOutcome } from '../../core/node/types.js';
import { AI_HELP, runAi } from '../../shell/recover/ai.js';
import { fetchFullLog } from '../../shell/recover/full-log.js';
import { findNode, gatherRecover, type RecoverControl } from '../../shell/recover/gather.js';
import { rollbackInfo } from '../../shell/recover/rollback-info.js';
import { savePrompt } from '../../shell/recover/save.js';
import type { NodeRunner } from '../../shell/transport/types.js';
import {
  initialRecoverState,
  osc52,
  recoverKey,
  recoverReducer,
  type RecoverAction,
  type RecoverCommand,
  type RecoverState,
} from './state.js';

export interface RecoverSessionDeps {
  readonly control: RecoverControl;
  /** A runner for the node (the node-side redaction filter and the full log go through it). */
  readonly runner: NodeRunner;
  readonly env: NodeJS.ProcessEnv;
  readonly now: () => Date;
  /** Writes raw bytes to the terminal (the OSC 52 clipboard sequence). */
  readonly writeTerminal: (data: string) => void;
  /**
   * Runs a changing stage. The app passes its own (so its node list and log follow the run);
   * default: control.runStage.
   */
  readonly runStage?: (
    node: string,
    stage: Stage,
    onLine: (line: NodeLine) => void,
  ) => Promise<StageOutcome>;
  /** Called for Back. */
  readonly onBack?: () => void;
  /** Set when a deploy walk stopped at this node: the way on after it is fixed. */
  readonly onResumed?: boolean;
}

export interface RecoverSessionInit {
  readonly node: string;
  /** The failed stage/step as SATURN saw it live. */
  readonly failed?: FailedStep;
  /** Findings already collected (the failed run's own diagnose). */
  readonly findings?: readonly Finding[];
  /** The failing step's log lines as SATURN saw them. */
  readonly excerpt?: string;
  /** The run's log path on the node. */
  readonly logPath?: string;
}

export class RecoverSession {
  private state: RecoverState;
  private readonly listeners = new Set<() => void>();
  private readonly abort = new AbortController();
  private closed = false;
  /** True once the node's status has said whether a stage is failed. */
  private probed = false;
  /** The running diagnose (a newer one or a stage run stops it; its late lines are dropped). */
  private diagnosis: AbortController | undefined;

  constructor(
    private readonly deps: RecoverSessionDeps,
    private readonly init: RecoverSessionInit,
  ) {
    const ai = deps.control.inventory.ai?.command ?? [];
    this.state = initialRecoverState({
      node: init.node,
      role: deps.control.inventory.nodes.find((n) => n.name === init.node)?.role ?? '',
      aiCommand: ai,
      ...(init.failed ? { failed: init.failed } : {}),
      ...(init.findings ? { findings: init.findings } : {}),
      ...(init.excerpt ? { excerpt: init.excerpt } : {}),
    });
  }

  readonly getState = (): RecoverState => this.state;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private dispatch(action: RecoverAction): void {
    if (this.closed) return;
    const next = recoverReducer(this.state, action);
    if (next === this.state) return;
    this.state = next;
    for (const l of this.listeners) l();
  }

  private set(next: RecoverState): void {
    if (next === this.state || this.closed) return;
    this.state = next;
    for (const l of this.listeners) l();
  }

  /** Loads what a rollback would do and runs diagnose unless findings were given. */
  async start(): Promise<void> {
    const jobs: Promise<void>[] = [this.loadRollback()];
    if (!this.init.findings || this.init.findings.length === 0) jobs.push(this.diagnose());
    await Promise.all(jobs);
  }

  close(): void {
    this.abort.abort();
    this.closed = true;
    this.listeners.clear();
  }

  /** One key token from the app's router. */
  key(token: string): void {
    const r = recoverKey(this.state, token);
    this.set(r.state);
    if (r.command) void this.run(r.command);
  }

  async run(command: RecoverCommand): Promise<void> {
    switch (command) {
      case 'diagnose':
        return this.diagnose();
      case 'resume':
      case 'rollback':
        return this.changeStage(command);
      case 'prompt':
        await this.prompt();
        return;
      case 'ai':
        return this.ask();
      case 'log':
        return this.openLog();
      case 'back':
        this.deps.onBack?.();
        return;
    }
  }

  private async loadRollback(): Promise<void> {
    const probe = await this.deps.control.probe(this.init.node, this.abort.signal);
    this.probed = true;
    if (!probe.reachable) {
      this.dispatch({
        type: 'notice',
        notice: { level: 'error', text: `${this.init.node} is unreachable: ${probe.message}` },
      });
      return;
    }
    const s = probe.status;
    if ((s.stageStatus === 'failed' || s.stageStatus === 'interrupted') && s.stage) {
      if (this.state.failed?.stage !== s.stage)
        this.dispatch({ type: 'failed', failed: { stage: s.stage, step: '', service: '' } });
    } else if (s.stageStatus === 'ok' || s.stageStatus === '') {
      this.dispatch({ type: 'failed', failed: undefined });
    }
    this.dispatch({
      type: 'rollback-info',
      info: await rollbackInfo(this.deps.control.repoDir, this.init.node, s.knownGood, s.target),
    });
  }

  async diagnose(): Promise<void> {
    this.diagnosis?.abort();
    const mine = new AbortController();
    this.diagnosis = mine;
    this.dispatch({ type: 'diagnose-start' });
    const found: Finding[] = [];
    const outcome = await this.deps.control.runStage({
      node: this.init.node,
      stage: 'diagnose',
      signal: AbortSignal.any([this.abort.signal, mine.signal]),
      onLine: (line) => {
        if (mine.signal.aborted) return;
        if (line.kind === 'event' && line.event.type === 'finding') {
          const f = toFinding(line.event);
          found.push(f);
          this.dispatch({ type: 'finding', finding: f });
        }
      },
    });
    if (mine.signal.aborted) return;
    this.diagnosis = undefined;
    const step = failedStepOf(found);
    if (step && this.state.failed && this.state.failed.stage === step.stage)
      this.dispatch({ type: 'failed', failed: step });
    else if (step && !this.state.failed && !this.probed)
      this.dispatch({ type: 'failed', failed: step });
    if (!this.init.excerpt) this.dispatch({ type: 'excerpt', text: failedLogExcerpt(found) });
    this.dispatch({
      type: 'diagnose-end',
      message: outcome.result === 'ok' ? '' : `diagnose ${outcome.result}: ${outcome.message}`,
    });
  }

  private async changeStage(stage: 'resume' | 'rollback'): Promise<void> {
    if (this.diagnosis) {
      this.diagnosis.abort();
      this.diagnosis = undefined;
      this.dispatch({ type: 'diagnose-end', message: `diagnose stopped: ${stage} runs` });
    }
    this.dispatch({ type: 'busy', what: stage });
    const run =
      this.deps.runStage ??
      ((node: string, st: Stage, onLine: (l: NodeLine) => void) =>
        this.deps.control.runStage({ node, stage: st, onLine, signal: this.abort.signal }));
    let outcome: StageOutcome;
    try {
      outcome = await run(this.init.node, stage, () => undefined);
    } finally {
      this.dispatch({ type: 'busy', what: undefined });
    }
    // Declined in the app's confirmation, or refused before anything ran: a notice, nothing changed.
    if (outcome.result === 'refused') {
      this.dispatch({
        type: 'notice',
        notice: {
          level: outcome.message === 'declined' ? 'info' : 'warn',
          text:
            outcome.message === 'declined'
              ? `${stage}: not run`
              : `${stage} on ${this.init.node} refused, nothing ran: ${outcome.message}`,
        },
      });
      return;
    }
    if (outcome.result === 'ok') {
      // What failed is fixed: the old failure and its log no longer describe the node.
      this.dispatch({ type: 'failed', failed: undefined });
      this.dispatch({ type: 'excerpt', text: '' });
      this.dispatch({
        type: 'notice',
        notice: {
          level: 'info',
          text: `${stage} ok on ${this.init.node} (${outcome.commit.slice(0, 8)}): re-running diagnose`,
        },
      });
    } else {
      this.dispatch({
        type: 'notice',
        notice: {
          level: 'error',
          text: `${stage} ${outcome.result} on ${this.init.node}${outcome.message ? `: ${outcome.message}` : ''}`,
        },
      });
    }
    await Promise.all([this.loadRollback(), this.diagnose()]);
    if (outcome.result === 'ok') {
      const c = countFindings(this.state.findings);
      this.dispatch({
        type: 'notice',
        notice: {
          level: c.fail ? 'warn' : 'info',
          text: `${stage} ok on ${this.init.node}; diagnose: ${c.fail} failing, ${c.warn} warning(s), ${c.ok} ok${this.deps.onResumed ? ' · Esc, then D continues the deploy walk' : ''}`,
        },
      });
    }
  }

  /** Builds, saves and copies the prompt (or copies the existing one again from the prompt pane). */
  async prompt(): Promise<string | undefined> {
    if (this.state.pane === 'prompt' && this.state.prompt) {
      this.deps.writeTerminal(osc52(this.state.prompt.text));
      this.dispatch({
        type: 'prompt',
        path: this.state.prompt.path,
        text: this.state.prompt.text,
        copied: true,
      });
      return this.state.prompt.text;
    }
    this.dispatch({ type: 'busy', what: 'building the prompt' });
    try {
      const now = this.deps.now().toISOString();
      const report = await gatherRecover(this.deps.control, this.deps.runner, this.init.node, {
        now,
        findings: this.state.findings,
        ...(this.state.failed ? { failed: this.state.failed } : {}),
        signal: this.abort.signal,
      });
      const path = await savePrompt(this.deps.env, this.init.node, now, report.prompt);
      this.deps.writeTerminal(osc52(report.prompt));
      this.dispatch({ type: 'prompt', path, text: report.prompt, copied: true });
      return report.prompt;
    } catch (err) {
      this.dispatch({
        type: 'notice',
        notice: {
          level: 'error',
          text: `prompt: ${err instanceof Error ? err.message : String(err)}`,
        },
      });
      return undefined;
    } finally {
      this.dispatch({ type: 'busy', what: undefined });
    }
  }

  private async ask(): Promise<void> {
    const command = this.deps.control.inventory.ai?.command ?? [];
    if (command.length === 0) {
      this.dispatch({ type: 'ai-start' });
      this.dispatch({ type: 'ai-end', message: 'no ai.command configured' });
      this.dispatch({ type: 'ai-chunk', text: AI_HELP });
      this.dispatch({ type: 'ai-end', message: 'no ai.command configured' });
      return;
    }
    const text = this.state.prompt?.text ?? (await this.prompt());
    if (text === undefined) return;
    this.dispatch({ type: 'ai-start' });
    this.dispatch({ type: 'busy', what: 'the AI command' });
    try {
      const r = await runAi(
        command,
        text,
        (chunk) => this.dispatch({ type: 'ai-chunk', text: chunk }),
        this.abort.signal,
      );
      this.dispatch({ type: 'ai-end', message: r.message });
    } finally {
      this.dispatch({ type: 'busy', what: undefined });
    }
  }

  private async openLog(): Promise<void> {
    const node = findNode(this.deps.control, this.init.node);
    const r = await fetchFullLog(this.deps.runner, node, this.init.logPath ?? '');
    this.dispatch({ type: 'log', lines: r.message ? [...r.lines, r.message] : r.lines });
  }
}
