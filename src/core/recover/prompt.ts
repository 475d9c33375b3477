// The recover-node prompt: the editable template (prompts/recover-node.md) filled from what SATURN
// gathered about a failed node. Pure: the caller passes the template text, the context and the time.
import { findingLine, groupFindings, type Finding } from './findings.js';

export interface RecoverNodeInfo {
  readonly name: string;
  readonly role: string;
  readonly tags: readonly string[];
  readonly services: readonly string[];
  readonly transport: string;
  readonly root: string;
  readonly repo: string;
}

export interface ComposeFile {
  readonly service: string;
  /** Repo-relative path (hosts/<node>/<service>/docker-compose.yml) or a node path for an override. */
  readonly path: string;
  readonly text: string;
}

export interface RecoverContext {
  readonly homelab: string;
  readonly node: RecoverNodeInfo;
  /** The stage that failed ('' when none did: a diagnose on a node that looks fine). */
  readonly failedStage: string;
  readonly failedStep: string;
  readonly failedService: string;
  /** running / ok / failed / interrupted / '' as the node's status record says. */
  readonly stageStatus: string;
  readonly targetCommit: string;
  readonly knownGoodCommit: string;
  readonly deployedCommit: string;
  readonly headCommit: string;
  /** `git diff <known-good> <target> -- hosts/<node>/` from SATURN's repo. */
  readonly diff: string;
  readonly findings: readonly Finding[];
  /** The failing step's lines from the node's deploy log (already redacted on the node). */
  readonly logExcerpt: string;
  readonly composeFiles: readonly ComposeFile[];
  /** ISO timestamp, passed in (no clock here). */
  readonly generatedAt: string;
  /** Notes about what could not be gathered (node unreachable, commit unknown to SATURN...). */
  readonly notes: readonly string[];
}

const NONE = '(none)';

function orNone(text: string): string {
  return text.trim() === '' ? NONE : text;
}

function shortSha(sha: string): string {
  return sha === '' ? '(unknown)' : sha.slice(0, 12);
}

/** A fenced block whose fence is longer than any backtick run inside the text. */
export function fenced(text: string, lang = ''): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${lang}\n${text.replace(/\n+$/, '')}\n${fence}`;
}

export function formatFindings(findings: readonly Finding[]): string {
  if (findings.length === 0) return NONE;
  return groupFindings(findings)
    .map((group) => {
      const items = group.findings.map((f) => {
        const lines = [`- ${findingLine(f)}`];
        // What is fine needs no evidence, except what can matter to the failure (the host-local override).
        const showEvidence = f.severity !== 'ok' || f.id === 'override.present';
        if (showEvidence && f.evidence.trim() !== '') {
          const ev = f.evidence.includes('\n')
            ? `\n${indent(fenced(f.evidence), '    ')}`
            : ` ${f.evidence}`;
          lines.push(`  - evidence:${ev}`);
        }
        if (f.hint.trim() !== '') lines.push(`  - hint: ${f.hint}`);
        return lines.join('\n');
      });
      return `### ${group.label} (${group.findings.length})\n\n${items.join('\n')}`;
    })
    .join('\n\n');
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((l) => (l === '' ? l : prefix + l))
    .join('\n');
}

export function formatComposeFiles(files: readonly ComposeFile[]): string {
  if (files.length === 0) return NONE;
  return files
    .map((f) => `#### ${f.path} (${f.service})\n\n${fenced(f.text, 'yaml')}`)
    .join('\n\n');
}

/** The template's variables, each already formatted as Markdown. */
export function promptVariables(ctx: RecoverContext): Record<string, string> {
  const n = ctx.node;
  return {
    homelab: ctx.homelab,
    node: n.name,
    role: orNone(n.role),
    tags: n.tags.length ? n.tags.join(', ') : NONE,
    services: n.services.length ? n.services.join(', ') : NONE,
    transport: n.transport,
    root: n.root,
    repo: n.repo,
    deploy_script: `${n.repo}/scripts/deploy/deploy.sh`,
    failed_stage: ctx.failedStage || '(no failed stage recorded)',
    failed_step: ctx.failedStep || '(unknown)',
    failed_service: ctx.failedService || NONE,
    stage_status: ctx.stageStatus || '(never deployed)',
    target_commit: shortSha(ctx.targetCommit),
    known_good_commit: shortSha(ctx.knownGoodCommit),
    deployed_commit: shortSha(ctx.deployedCommit),
    head_commit: shortSha(ctx.headCommit),
    diff:
      ctx.diff.trim() === ''
        ? `${NONE}: no change below hosts/${n.name}/ between known-good and target (or one of them is unknown)`
        : fenced(ctx.diff, 'diff'),
    findings: formatFindings(ctx.findings),
    log_excerpt: ctx.logExcerpt.trim() === '' ? NONE : fenced(ctx.logExcerpt),
    compose_files: formatComposeFiles(ctx.composeFiles),
    notes: ctx.notes.length ? ctx.notes.map((x) => `- ${x}`).join('\n') : NONE,
    generated_at: ctx.generatedAt,
  };
}

export interface FilledTemplate {
  readonly text: string;
  /** Placeholders the template names that the context does not have (left visible in the text). */
  readonly unknown: readonly string[];
}

/** Replaces `{{name}}` placeholders; unknown names stay as written and are reported. */
export function fillTemplate(
  template: string,
  vars: Readonly<Record<string, string>>,
): FilledTemplate {
  const unknown = new Set<string>();
  const text = template.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (whole, name: string) => {
    const value = vars[name];
    if (value === undefined) {
      unknown.add(name);
      return whole;
    }
    return value;
  });
  return { text, unknown: [...unknown] };
}

/** The template's HTML comments are notes for whoever edits it, not for the model. */
export function stripComments(template: string): string {
  return template.replace(/<!--[\s\S]*?-->\n?/g, '');
}

/**
 * The prompt text, filled from the template. Not yet fit to leave SATURN: the caller passes it through
 * `toScreen` (./redact.ts), the recover path's one redaction boundary, before it is shown, saved or sent.
 */
export function buildPrompt(template: string, ctx: RecoverContext): FilledTemplate {
  return fillTemplate(stripComments(template), promptVariables(ctx));
}
