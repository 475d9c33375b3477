// An in-memory Control for the TUI's component tests: probes answer from a table, a stage run
// streams the lines the test gives it and ends when the test says. The real Control is exercised
// by the e2e tests.
import type { Inventory } from '../../../src/core/inventory/model.js';
import type { NodeLine, Stage } from '../../../src/core/protocol/events.js';
import type { NodeProbe, RepoInfo, StageOutcome } from '../../../src/core/node/types.js';
import type {
  Control,
  ConfirmOutcome,
  StagePlan,
  StageRequest,
} from '../../../src/shell/control/types.js';
import type { NodeRunner } from '../../../src/shell/transport/types.js';

export interface PendingRun {
  readonly request: StageRequest;
  emit(line: NodeLine): void;
  finish(result?: StageOutcome['result'], message?: string): void;
}

export class FakeControl implements Control {
  readonly repoDir = '/srv/homelab';
  readonly runs: PendingRun[] = [];
  readonly probes = new Map<string, NodeProbe>();
  changed: Record<string, string[]> = {};
  probeAllCalls = 0;

  constructor(
    readonly inventory: Inventory,
    probes: readonly NodeProbe[],
    public repo: RepoInfo,
  ) {
    for (const p of probes) this.probes.set(p.node, p);
  }

  async repoInfo(): Promise<RepoInfo> {
    return this.repo;
  }

  async reloadInventory(): Promise<Inventory> {
    return this.inventory;
  }

  async probe(node: string): Promise<NodeProbe> {
    const p = this.probes.get(node);
    if (!p) throw new Error(`no probe for ${node}`);
    return p;
  }

  checkDoneCalls: string[] = [];

  async checkDone(node: string): Promise<NodeProbe> {
    this.checkDoneCalls.push(node);
    return this.probe(node);
  }

  async probeAll(onProbe?: (probe: NodeProbe) => void): Promise<NodeProbe[]> {
    this.probeAllCalls++;
    const all = this.inventory.nodes
      .map((n) => this.probes.get(n.name))
      .filter((p): p is NodeProbe => p !== undefined);
    for (const p of all) onProbe?.(p);
    return all;
  }

  async commitsBehind(_node: string, commit: string): Promise<number | null> {
    return commit === this.repo.head ? 0 : 2;
  }

  async changedServices(node: string): Promise<string[]> {
    return this.changed[node] ?? [];
  }

  async planStage(node: string, stage: Stage): Promise<StagePlan> {
    const p = this.probes.get(node);
    const status = p?.reachable ? p.status : undefined;
    const commit = stage === 'rollback' ? (status?.knownGood ?? '') : this.repo.head;
    return {
      node,
      stage,
      commit,
      subject: this.repo.headSubject,
      services: this.changed[node] ?? [],
      deployed: status?.deployed ?? '',
      // As the real Control: a changing stage is refused while SATURN has uncommitted changes.
      refusal:
        ['prepare', 'deploy', 'rollback', 'resume'].includes(stage) && this.repo.dirty.length > 0
          ? `SATURN has uncommitted changes under inventory/ or hosts/ (${this.repo.dirty.join(', ')}); commit them first`
          : '',
    };
  }

  confirmCalls: string[] = [];

  confirm(node: string, run: string): Promise<ConfirmOutcome> {
    this.confirmCalls.push(`${node}/${run}`);
    return Promise.resolve({ node, run, result: 'confirmed', commit: '', message: '' });
  }

  runStage(request: StageRequest): Promise<StageOutcome> {
    return new Promise((resolve) => {
      const started = Date.now();
      this.runs.push({
        request,
        emit: (line) => request.onLine?.(line),
        finish: (result = 'ok', message = '') =>
          resolve({
            node: request.node,
            stage: request.stage,
            commit: this.repo.head,
            result,
            exitCode: result === 'ok' ? 0 : 1,
            message,
            durationMs: Date.now() - started,
          }),
      });
    });
  }

  ran(node: string): Stage[] {
    return this.runs.filter((r) => r.request.node === node).map((r) => r.request.stage);
  }

  /** No node stands behind an in-memory Control: every command is unreachable, at once. */
  nodeRunner(): NodeRunner {
    return {
      run: async () => ({
        exitCode: null,
        cancelled: false,
        timedOut: false,
        unreachable: { reason: 'unknown', message: 'an in-memory Control reaches no node' },
        durationMs: 0,
      }),
      close: async () => {},
    };
  }

  async close(): Promise<void> {}
}
