// Diagnose findings as a person reads them: failing first, then warnings, then what is fine. Pure.
import type { FindingEvent, Severity } from '../protocol/events.js';

/** A finding without the protocol envelope (what the node said, not when). */
export type Finding = Pick<
  FindingEvent,
  'id' | 'severity' | 'summary' | 'evidence' | 'hint' | 'service'
>;

export const SEVERITY_ORDER: readonly Severity[] = ['fail', 'warn', 'ok'];

const RANK: Record<Severity, number> = { fail: 0, warn: 1, ok: 2 };

export const SEVERITY_LABEL: Record<Severity, string> = {
  fail: 'Failing',
  warn: 'Warnings',
  ok: 'OK',
};

export function toFinding(event: FindingEvent): Finding {
  const { id, severity, summary, evidence, hint, service } = event;
  return service === undefined
    ? { id, severity, summary, evidence, hint }
    : { id, severity, summary, evidence, hint, service };
}

/**
 * Within a severity, likely causes before their consequences: the engine, then missing secrets and
 * overrides, then configuration, then what the containers did, then the log of the failed run.
 */
export const CAUSE_ORDER: readonly string[] = [
  'docker.daemon',
  'docker.compose',
  'manifest',
  'git.checkout',
  'git.commit',
  'disk.root',
  'disk.docker',
  'memory',
  'secret.file-missing',
  'secret.key-missing',
  'override.missing',
  'compose.file-missing',
  'compose.config-invalid',
  'service.image-missing',
  'service.image-unpullable',
  'service.port-in-use',
  'service.oom-killed',
  'service.exited',
  'service.restarting',
  'service.unhealthy',
  'service.not-started',
  'service.missing',
  'deploy.failed-step',
  'deploy.last-run',
];

function causeRank(id: string): number {
  const i = CAUSE_ORDER.indexOf(id);
  return i < 0 ? CAUSE_ORDER.length : i;
}

/** Failing first, then warn, then ok; within a severity likely causes first (CAUSE_ORDER), then by service, then id. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    RANK[a.severity] - RANK[b.severity] ||
    causeRank(a.id) - causeRank(b.id) ||
    (a.service ?? '').localeCompare(b.service ?? '') ||
    a.id.localeCompare(b.id) ||
    a.summary.localeCompare(b.summary)
  );
}

export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(compareFindings);
}

export interface FindingGroup {
  readonly severity: Severity;
  readonly label: string;
  readonly findings: readonly Finding[];
}

/** Non-empty groups in severity order (fail, warn, ok), each sorted. */
export function groupFindings(findings: readonly Finding[]): FindingGroup[] {
  const sorted = sortFindings(findings);
  return SEVERITY_ORDER.map((severity) => ({
    severity,
    label: SEVERITY_LABEL[severity],
    findings: sorted.filter((f) => f.severity === severity),
  })).filter((g) => g.findings.length > 0);
}

export interface FindingCounts {
  readonly fail: number;
  readonly warn: number;
  readonly ok: number;
}

export function countFindings(findings: readonly Finding[]): FindingCounts {
  return {
    fail: findings.filter((f) => f.severity === 'fail').length,
    warn: findings.filter((f) => f.severity === 'warn').length,
    ok: findings.filter((f) => f.severity === 'ok').length,
  };
}

/** Services named by failing findings, in first-seen order of the sorted list. */
export function failingServices(findings: readonly Finding[]): string[] {
  const out: string[] = [];
  for (const f of sortFindings(findings)) {
    if (f.severity === 'fail' && f.service && !out.includes(f.service)) out.push(f.service);
  }
  return out;
}

/** `[fail] service.exited (jellyfin): summary` */
export function findingLine(f: Finding): string {
  return `[${f.severity}] ${f.id}${f.service ? ` (${f.service})` : ''}: ${f.summary}`;
}

export interface FailedStep {
  readonly stage: string;
  readonly step: string;
  readonly service: string;
}

/** The failing step named by diagnose's `deploy.failed-step` finding ("...at stage S, step T, service V..."). */
export function failedStepOf(findings: readonly Finding[]): FailedStep | undefined {
  const f = findings.find((x) => x.id === 'deploy.failed-step');
  if (!f) return undefined;
  const m = /at stage ([a-z]+), step ([a-z0-9-]+)(?:, service ([a-z0-9-]+))?/.exec(f.summary);
  if (!m) return undefined;
  return { stage: m[1] ?? '', step: m[2] ?? '', service: m[3] ?? f.service ?? '' };
}

/** The node-redacted log excerpt of the last failed run (evidence of deploy.failed-step or deploy.last-run). */
export function failedLogExcerpt(findings: readonly Finding[]): string {
  const f =
    findings.find((x) => x.id === 'deploy.failed-step') ??
    findings.find((x) => x.id === 'deploy.last-run' && x.severity !== 'ok');
  return f?.evidence ?? '';
}
