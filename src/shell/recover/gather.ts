// Gathers what the recover-node prompt needs about one node: diagnose on the node (findings already
// redacted there), its status (target, known-good), SATURN's Git (diff of hosts/<node>/ between
// known-good and target, the failing services' compose files, redacted on the node), then fills
// the template. The filled prompt then passes SATURN's one boundary, `toScreen` (control sequences
// stripped, credential shapes redacted), once, before anyone sees it.
import type { NodeSpec } from '../../core/inventory/model.js';
import type { NodeLine, NodeStatusRecord } from '../../core/protocol/events.js';
import {
  failedLogExcerpt,
  failedStepOf,
  failingServices,
  toFinding,
  type Finding,
} from '../../core/recover/findings.js';
import { buildPrompt, type ComposeFile, type RecoverContext } from '../../core/recover/prompt.js';
import { toScreen } from '../../core/recover/redact.js';
import type { Control } from '../control/types.js';
import { diffText, hasCommit, headInfo, showFile } from '../git.js';
import type { NodeRunner } from '../transport/types.js';
import { redactOnNode } from './node-redact.js';
import { loadTemplate } from './template.js';

/** What gathering needs from the control layer (the lead's Control satisfies it). */
export type RecoverControl = Pick<Control, 'inventory' | 'repoDir' | 'probe' | 'runStage'>;

export interface GatherOptions {
  /** ISO time of the report (no clock in the core). */
  readonly now: string;
  /** Findings already known (the view just ran diagnose): skips running it again. */
  readonly findings?: readonly Finding[];
  /** The failed stage/step as SATURN saw it live (preferred over what the log says). */
  readonly failed?: { readonly stage: string; readonly step: string; readonly service: string };
  /** Every line of the diagnose run as it arrives (the view shows them). */
  readonly onLine?: (line: NodeLine) => void;
  readonly signal?: AbortSignal;
}

export interface RecoverReport {
  readonly node: NodeSpec;
  readonly context: RecoverContext;
  readonly findings: readonly Finding[];
  readonly prompt: string;
  readonly templatePath: string;
  /** Placeholders of the template that nothing fills. */
  readonly unknownPlaceholders: readonly string[];
}

export function findNode(control: Pick<Control, 'inventory'>, name: string): NodeSpec {
  const node = control.inventory.nodes.find((n) => n.name === name);
  if (!node)
    throw new Error(
      `no node "${name}" in inventory/topology.yaml (nodes: ${control.inventory.nodes.map((n) => n.name).join(', ')})`,
    );
  return node;
}

/** Runs `deploy.sh diagnose` through the control layer and collects its findings. */
export async function runDiagnose(
  control: RecoverControl,
  node: string,
  onLine?: (line: NodeLine) => void,
  signal?: AbortSignal,
): Promise<{ findings: Finding[]; message: string }> {
  const findings: Finding[] = [];
  const outcome = await control.runStage({
    node,
    stage: 'diagnose',
    ...(signal ? { signal } : {}),
    onLine: (line) => {
      if (line.kind === 'event' && line.event.type === 'finding')
        findings.push(toFinding(line.event));
      onLine?.(line);
    },
  });
  return {
    findings,
    message:
      outcome.result === 'ok'
        ? ''
        : `diagnose on ${node}: ${outcome.result}${outcome.message ? ` (${outcome.message})` : ''}`,
  };
}

export async function gatherRecover(
  control: RecoverControl,
  runner: NodeRunner,
  nodeName: string,
  opts: GatherOptions,
): Promise<RecoverReport> {
  const node = findNode(control, nodeName);
  const notes: string[] = [];
  const [probe, head] = await Promise.all([
    control.probe(node.name, opts.signal),
    headInfo(control.repoDir),
  ]);
  let status: NodeStatusRecord | undefined;
  if (probe.reachable) status = probe.status;
  else
    notes.push(
      `${node.name} did not answer the status probe (${probe.reason}: ${probe.message}); commits below are SATURN's view only`,
    );

  let findings: readonly Finding[] = opts.findings ?? [];
  if (!opts.findings) {
    const diag = await runDiagnose(control, node.name, opts.onLine, opts.signal);
    findings = diag.findings;
    if (diag.message) notes.push(diag.message);
  }

  const target = status?.target || head.head;
  const knownGood = status?.knownGood ?? '';
  const fromLog = failedStepOf(findings);
  const failed = opts.failed ?? fromLog;
  const failedStage =
    failed?.stage ??
    (status?.stageStatus === 'failed' || status?.stageStatus === 'interrupted' ? status.stage : '');

  const folder = `hosts/${node.name}/`;
  let diff = '';
  if (knownGood === '')
    notes.push(`${node.name} has no known-good commit yet (never verified): no diff to show`);
  else if (!(await hasCommit(control.repoDir, knownGood)))
    notes.push(`known-good commit ${knownGood.slice(0, 12)} is not in SATURN's repo: no diff`);
  else if (knownGood !== target) diff = await diffText(control.repoDir, knownGood, target, folder);

  const services = failingServices(findings);
  if (failed?.service && !services.includes(failed.service)) services.push(failed.service);
  const composeFiles: ComposeFile[] = [];
  for (const service of services) {
    const path = `${folder}${service}/docker-compose.yml`;
    const text =
      (await showFile(control.repoDir, target, path)) ??
      (await showFile(control.repoDir, head.head, path));
    if (text !== undefined) composeFiles.push({ service, path, text });
  }

  // Text from SATURN's Git goes through the node's filter: its .env values never come here.
  const parts = [diff, ...composeFiles.map((f) => f.text)];
  let redacted: readonly string[] = parts;
  if (parts.some((p) => p !== '')) {
    const r = await redactOnNode(runner, node, parts);
    redacted = r.parts;
    if (!r.ok) notes.push(`${r.message}; the diff and compose files are redacted by pattern only`);
  }

  const context: RecoverContext = {
    homelab: control.inventory.homelab,
    node: {
      name: node.name,
      role: node.role,
      tags: node.tags,
      services: node.services.map((s) => s.name),
      transport: node.transport,
      root: node.root,
      repo: node.repo,
    },
    failedStage,
    failedStep: failed?.step ?? '',
    failedService: failed?.service ?? '',
    stageStatus: status?.stageStatus ?? '',
    targetCommit: target,
    knownGoodCommit: knownGood,
    deployedCommit: status?.deployed ?? '',
    headCommit: head.head,
    diff: redacted[0] ?? '',
    findings,
    logExcerpt: failedLogExcerpt(findings),
    composeFiles: composeFiles.map((f, i) => ({ ...f, text: redacted[i + 1] ?? '' })),
    generatedAt: opts.now,
    notes,
  };
  const template = await loadTemplate(control.repoDir);
  const built = buildPrompt(template.text, context);
  return {
    node,
    context,
    findings: findings.map((f) => ({
      ...f,
      summary: toScreen(f.summary),
      evidence: toScreen(f.evidence),
      hint: toScreen(f.hint),
    })),
    prompt: toScreen(built.text),
    templatePath: template.path,
    unknownPlaceholders: built.unknown,
  };
}
