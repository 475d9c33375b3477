// The guided recover view's state: findings (failing first, one selected, Enter shows it whole), the
// failing step's log excerpt, the panes (prompt, AI answer, full log). Its keys are the app's key
// table (mode 'recover'); the two actions that change the node are asked by the app's one
// confirmation dialog. Pure: a reducer, a key function, line layout.
import type { Severity } from '../../core/protocol/events.js';
import {
  countFindings,
  groupFindings,
  type FailedStep,
  type Finding,
} from '../../core/recover/findings.js';
import { toScreen } from '../../core/recover/redact.js';
import { parseNodeLine } from '../../core/protocol/parse.js';
import { describeEvent } from '../../core/protocol/describe.js';
import { bindingFor, type Command } from '../keys.js';
import type { RollbackInfo } from '../../core/node/types.js';

export type { RollbackInfo };

export type RecoverCommand = 'resume' | 'rollback' | 'diagnose' | 'prompt' | 'ai' | 'log' | 'back';

export type RecoverPane = 'main' | 'prompt' | 'ai' | 'log';

export interface RecoverNotice {
  readonly level: 'info' | 'warn' | 'error';
  readonly text: string;
}

export interface RecoverState {
  readonly node: string;
  readonly role: string;
  readonly failed?: FailedStep;
  readonly findings: readonly Finding[];
  readonly diagnosing: boolean;
  /** The failing step's log lines (redacted). */
  readonly excerpt: string;
  readonly rollback?: RollbackInfo;
  /** The selected finding (index into the findings as listed: failing first). */
  readonly cursor: number;
  /** Findings shown whole (by id and service). */
  readonly expanded: readonly string[];
  readonly scroll: number;
  readonly pane: RecoverPane;
  /** The full log shows the raw protocol records instead of human lines. */
  readonly raw: boolean;
  /** What is running now ("resume", "rollback", "prompt"...), or undefined. */
  readonly busy?: string;
  readonly prompt?: { readonly path: string; readonly text: string; readonly copied: boolean };
  readonly ai?: { readonly text: string; readonly running: boolean; readonly message: string };
  /** The AI command as configured (argv joined), '' when none. */
  readonly aiCommand: string;
  readonly log: readonly string[];
  readonly notice?: RecoverNotice;
}

export type RecoverAction =
  | { readonly type: 'diagnose-start' }
  | { readonly type: 'finding'; readonly finding: Finding }
  | { readonly type: 'diagnose-end'; readonly message: string }
  | { readonly type: 'failed'; readonly failed: FailedStep | undefined }
  | { readonly type: 'excerpt'; readonly text: string }
  | { readonly type: 'rollback-info'; readonly info: RollbackInfo | undefined }
  | { readonly type: 'busy'; readonly what: string | undefined }
  | {
      readonly type: 'prompt';
      readonly path: string;
      readonly text: string;
      readonly copied: boolean;
    }
  | { readonly type: 'ai-start' }
  | { readonly type: 'ai-chunk'; readonly text: string }
  | { readonly type: 'ai-end'; readonly message: string }
  | { readonly type: 'log'; readonly lines: readonly string[] }
  | { readonly type: 'pane'; readonly pane: RecoverPane }
  | { readonly type: 'notice'; readonly notice: RecoverNotice | undefined };

export function initialRecoverState(opts: {
  node: string;
  role?: string;
  aiCommand?: readonly string[];
  failed?: FailedStep;
  findings?: readonly Finding[];
  excerpt?: string;
}): RecoverState {
  return {
    node: opts.node,
    role: opts.role ?? '',
    ...(opts.failed ? { failed: opts.failed } : {}),
    findings: opts.findings ?? [],
    diagnosing: false,
    excerpt: toScreen(opts.excerpt ?? ''),
    cursor: 0,
    expanded: [],
    scroll: 0,
    pane: 'main',
    raw: false,
    aiCommand: (opts.aiCommand ?? []).join(' '),
    log: [],
  };
}

/** Text that reaches the screen passes the pattern rules once more. */
function clean(f: Finding): Finding {
  return {
    ...f,
    summary: toScreen(f.summary),
    evidence: toScreen(f.evidence),
    hint: toScreen(f.hint),
  };
}

export function recoverReducer(state: RecoverState, action: RecoverAction): RecoverState {
  switch (action.type) {
    case 'diagnose-start':
      return {
        ...state,
        diagnosing: true,
        findings: [],
        notice: { level: 'info', text: `diagnosing ${state.node}…` },
      };
    case 'finding':
      return { ...state, findings: [...state.findings, clean(action.finding)] };
    case 'diagnose-end': {
      const c = countFindings(state.findings);
      const text =
        action.message || `diagnose: ${c.fail} failing, ${c.warn} warning(s), ${c.ok} ok`;
      return {
        ...state,
        diagnosing: false,
        notice: { level: action.message ? 'error' : c.fail ? 'warn' : 'info', text },
      };
    }
    case 'failed':
      return action.failed ? { ...state, failed: action.failed } : { ...state, failed: undefined };
    case 'excerpt':
      return { ...state, excerpt: toScreen(action.text) };
    case 'rollback-info':
      return action.info ? { ...state, rollback: action.info } : state;
    case 'busy':
      return action.what === undefined
        ? { ...state, busy: undefined }
        : { ...state, busy: action.what };
    case 'prompt':
      return {
        ...state,
        prompt: { path: action.path, text: toScreen(action.text), copied: action.copied },
        pane: 'prompt',
        scroll: 0,
      };
    case 'ai-start':
      return { ...state, ai: { text: '', running: true, message: '' }, pane: 'ai', scroll: 0 };
    case 'ai-chunk':
      return {
        ...state,
        ai: { text: (state.ai?.text ?? '') + action.text, running: true, message: '' },
      };
    case 'ai-end':
      return {
        ...state,
        ai: { text: state.ai?.text ?? '', running: false, message: action.message },
      };
    case 'log':
      return { ...state, log: action.lines.map((l) => toScreen(l)), pane: 'log', scroll: 0 };
    case 'pane':
      return { ...state, pane: action.pane, scroll: 0 };
    case 'notice':
      return action.notice ? { ...state, notice: action.notice } : { ...state, notice: undefined };
  }
}

/** Why a menu item cannot act now, or null. */
export function disabledReason(state: RecoverState, id: RecoverCommand): string | null {
  if (id === 'back') return null;
  if (state.busy) return `${state.busy} is running`;
  if (id === 'resume' && !state.failed) return `nothing failed on ${state.node}`;
  if (id === 'rollback' && !state.rollback?.knownGood)
    return `${state.node} has no known-good commit to roll back to`;
  if (id === 'rollback' && state.rollback && state.rollback.knownGood === state.rollback.target)
    return `the target is already the known-good commit ${short(state.rollback.knownGood)}`;
  // Resume and rollback need not wait for diagnose (it is read-only and is stopped and re-run after them).
  if (state.diagnosing && (id === 'diagnose' || id === 'prompt' || id === 'ai'))
    return 'diagnose is running';
  return null;
}

export function short(sha: string): string {
  return sha.slice(0, 8);
}

export interface KeyResult {
  readonly state: RecoverState;
  /** A command to carry out (resume and rollback are asked by the app's confirmation first). */
  readonly command?: RecoverCommand;
}

/** The key table's commands for the view's actions. */
const ACTION: Partial<Record<Command, RecoverCommand>> = {
  'rec-resume': 'resume',
  'rec-rollback': 'rollback',
  'rec-diagnose': 'diagnose',
  'rec-prompt': 'prompt',
  'rec-ai': 'ai',
  'rec-log': 'log',
};

function findingKey(f: Finding): string {
  return `${f.id}|${f.service ?? ''}`;
}

/** The findings one can select, in the order the view lists them: failing, then warnings. */
export function listedFindings(state: RecoverState): Finding[] {
  return groupFindings(state.findings)
    .filter((g) => g.severity !== 'ok')
    .flatMap((g) => [...g.findings]);
}

/** Whether a key of the table's 'recover' mode acts in this state (what the footer offers). */
export function recoverKeyActs(state: RecoverState, command: Command): boolean {
  const main = state.pane === 'main';
  switch (command) {
    case 'rec-copy':
      return state.pane === 'prompt' && state.prompt !== undefined;
    case 'rec-raw':
      return state.pane === 'log';
    case 'rec-expand':
      return main && listedFindings(state).length > 0;
    case 'rec-up':
    case 'rec-down':
      return main ? listedFindings(state).length > 1 : true;
    case 'rec-page-up':
    case 'rec-page-down':
      return !main;
    case 'rec-back':
      return true;
    default: {
      const id = ACTION[command];
      return id !== undefined && main && disabledReason(state, id) === null;
    }
  }
}

/**
 * One key, as a token of the app's key table ('up', 'enter', 'esc', 'pgup' or the character), read
 * through that table's 'recover' mode.
 */
export function recoverKey(state: RecoverState, token: string): KeyResult {
  const b = bindingFor('recover', token);
  if (!b) return { state };
  const main = state.pane === 'main';
  switch (b.command) {
    case 'rec-up':
      return main
        ? { state: { ...state, cursor: Math.max(0, state.cursor - 1), scroll: 0 } }
        : { state: { ...state, scroll: Math.max(0, state.scroll - 1) } };
    case 'rec-down':
      return main
        ? {
            state: {
              ...state,
              cursor: Math.min(Math.max(0, listedFindings(state).length - 1), state.cursor + 1),
              scroll: 0,
            },
          }
        : { state: { ...state, scroll: state.scroll + 1 } };
    case 'rec-page-up':
      return { state: { ...state, scroll: Math.max(0, state.scroll - 10) } };
    case 'rec-page-down':
      return { state: { ...state, scroll: state.scroll + 10 } };
    case 'rec-expand': {
      const f = listedFindings(state)[state.cursor];
      if (!main || !f) return { state };
      const k = findingKey(f);
      const expanded = state.expanded.includes(k)
        ? state.expanded.filter((e) => e !== k)
        : [...state.expanded, k];
      return { state: { ...state, expanded } };
    }
    case 'rec-back':
      return main ? { state, command: 'back' } : { state: { ...state, pane: 'main', scroll: 0 } };
    case 'rec-copy':
      return state.pane === 'prompt' && state.prompt
        ? { state, command: 'prompt' }
        : {
            state: {
              ...state,
              notice: { level: 'warn', text: 'c copies the prompt: build it first with p' },
            },
          };
    case 'rec-raw':
      return state.pane === 'log'
        ? { state: { ...state, raw: !state.raw, scroll: 0 } }
        : {
            state: { ...state, notice: { level: 'warn', text: 'v: open the full log first (l)' } },
          };
    default: {
      const id = ACTION[b.command];
      if (!id) return { state };
      const why = disabledReason(state, id);
      if (why)
        return { state: { ...state, notice: { level: 'warn', text: `${b.label}: ${why}` } } };
      return { state, command: id };
    }
  }
}

/** OSC 52: sets the terminal's clipboard (works over ssh; tmux passes it with set-clipboard on). */
export function osc52(text: string): string {
  return `\x1b]52;c;${Buffer.from(text, 'utf8').toString('base64')}\x07`;
}

// --- layout ---------------------------------------------------------------------------------------

export type LineStyle =
  'title' | 'fail' | 'warn' | 'ok' | 'dim' | 'text' | 'heading' | 'selected' | 'confirm' | 'error';

export interface Line {
  readonly text: string;
  readonly style: LineStyle;
}

const MARK: Record<Severity, string> = { fail: '✗', warn: '!', ok: '✓' };

function clip(text: string, width: number): string {
  const flat = text.replace(/\t/g, '  ');
  return flat.length > width ? `${flat.slice(0, Math.max(0, width - 1))}…` : flat;
}

function wrapLines(text: string, width: number, indent = ''): string[] {
  const out: string[] = [];
  const w = Math.max(10, width - indent.length);
  for (const raw of text.replace(/\s+$/, '').split('\n')) {
    let rest = raw.replace(/\t/g, '  ');
    if (rest === '') {
      out.push(indent);
      continue;
    }
    while (rest.length > w) {
      // Error chains read "context: context: message": break after the last ": " that fits, else at
      // the last space (word wrap), else hard at the width.
      const colon = rest.lastIndexOf(': ', w - 1);
      const space = rest.lastIndexOf(' ', w);
      const cut = colon > w / 2 ? colon + 1 : space > w / 3 ? space : w;
      out.push(indent + rest.slice(0, cut));
      rest = rest.slice(cut).replace(/^ /, '');
    }
    out.push(indent + rest);
  }
  return out;
}

export function headline(state: RecoverState): string {
  const f = state.failed;
  const who = `Recover ${state.node}${state.role ? ` · ${state.role}` : ''}`;
  if (f?.stage)
    return `${who} — ✗ ${f.stage} failed${f.step ? ` at step ${f.step}` : ''}${f.service ? ` (${f.service})` : ''}`;
  return `${who} — no failed stage`;
}

/** The main pane: counts, the findings by severity (the selected one marked, its fix in full), the log excerpt. */
export function mainLines(
  state: RecoverState,
  width: number,
): { body: Line[]; selectedAt: number } {
  const body: Line[] = [];
  const c = countFindings(state.findings);
  body.push({
    text: clip(
      `${c.fail} failing · ${c.warn} warning(s) · ${c.ok} ok${state.diagnosing ? ' · diagnosing…' : ''}`,
      width,
    ),
    style: 'dim',
  });
  const rb = state.rollback;
  if (rb?.knownGood)
    body.push({
      text: clip(
        `known-good ${short(rb.knownGood)}${rb.subject ? ` "${rb.subject}"` : ''}${rb.knownGood === rb.target ? ' (the target)' : ` · target ${short(rb.target)}`}`,
        width,
      ),
      style: 'dim',
    });
  if (state.findings.length === 0)
    body.push({
      text: state.diagnosing
        ? 'waiting for the first findings…'
        : 'no findings yet: press d to diagnose',
      style: 'dim',
    });
  const listed = listedFindings(state);
  let selectedAt = 0;
  for (const group of groupFindings(state.findings)) {
    if (group.severity === 'ok') {
      body.push({
        text: clip(
          `${MARK.ok} OK (${group.findings.length}): ${group.findings.map((f) => f.id + (f.service ? `(${f.service})` : '')).join(', ')}`,
          width,
        ),
        style: 'ok',
      });
      continue;
    }
    body.push({ text: `${group.label} (${group.findings.length})`, style: 'heading' });
    for (const f of group.findings) {
      const selected = listed.indexOf(f) === state.cursor;
      const whole = state.expanded.includes(findingKey(f));
      if (selected) selectedAt = body.length;
      const head = `${selected ? '›' : ' '} ${MARK[f.severity]} ${f.id}${f.service ? ` (${f.service})` : ''}: ${f.summary}`;
      if (whole) for (const l of wrapLines(head, width)) body.push({ text: l, style: f.severity });
      else body.push({ text: clip(head, width), style: selected ? 'selected' : f.severity });
      const ev = f.evidence.split('\n').filter((l) => l.trim() !== '');
      const shown = whole ? ev : ev.slice(-3);
      if (!whole && ev.length > shown.length)
        body.push({ text: `      … ${ev.length - shown.length} more lines (Enter)`, style: 'dim' });
      for (const l of shown)
        for (const w of whole ? wrapLines(l, width, '      ') : [clip(`      ${l}`, width)])
          body.push({ text: w, style: 'dim' });
      // The fix is what the view exists to show: always whole, wrapped.
      if (f.hint)
        for (const w of wrapLines(`fix: ${f.hint}`, width, '      '))
          body.push({ text: w, style: 'text' });
    }
  }
  if (state.excerpt.trim()) {
    body.push({ text: 'Failing step log', style: 'heading' });
    for (const l of wrapLines(state.excerpt, width - 2, '  ').slice(-10))
      body.push({ text: l, style: 'dim' });
  }
  return { body, selectedAt };
}

/**
 * The log as a person reads it: protocol records become their one human line (or nothing, for
 * records that carry nothing to read); a log line's timestamp shortens to the time of day.
 */
export function humanLog(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    const m = /^(\d{4}-\d\d-\d\dT(\d\d:\d\d:\d\d)(?:\.\d+)?Z?) (.*)$/.exec(line);
    const time = m ? `${m[2]} ` : '';
    const rest = m ? (m[3] ?? '') : line;
    const parsed = parseNodeLine(rest);
    if (parsed.kind === 'log') {
      out.push(`${time}${parsed.text}`);
      continue;
    }
    const human = describeEvent(parsed.event);
    if (human !== undefined) out.push(`${time}${human}`);
  }
  return out;
}

/** The lines of a secondary pane (prompt, AI answer, full log). */
export function paneLines(state: RecoverState, width: number): Line[] {
  switch (state.pane) {
    case 'prompt': {
      const p = state.prompt;
      if (!p) return [{ text: 'no prompt yet', style: 'dim' }];
      const head: Line[] = [
        { text: clip(`saved: ${p.path}`, width), style: 'ok' },
        {
          text: p.copied
            ? 'copied to the clipboard (OSC 52) · c copy again · Esc back'
            : 'c copy to the clipboard · Esc back',
          style: 'dim',
        },
      ];
      return [...head, ...wrapLines(p.text, width).map((text): Line => ({ text, style: 'text' }))];
    }
    case 'ai': {
      const a = state.ai;
      const head: Line = {
        text: a?.running
          ? `asking ${state.aiCommand}…`
          : a?.message
            ? a.message
            : `answer of ${state.aiCommand} · Esc back`,
        style: a?.message ? 'error' : 'dim',
      };
      return [
        head,
        ...wrapLines(a?.text ?? '', width).map((text): Line => ({ text, style: 'text' })),
      ];
    }
    case 'log':
      return [
        {
          text: clip(
            `full log (redacted) · ${state.raw ? 'raw records · v human lines' : 'v raw records'} · ↑↓ PgUp/PgDn scroll · Esc back`,
            width,
          ),
          style: 'dim',
        },
        ...(state.raw ? state.log : humanLog(state.log))
          .flatMap((l) => wrapLines(l, width))
          .map((text): Line => ({ text, style: 'text' })),
      ];
    default:
      return [];
  }
}

/** The visible window of a list of lines, scroll clamped. */
export function windowOf(lines: readonly Line[], height: number, scroll: number): Line[] {
  const max = Math.max(0, lines.length - height);
  const from = Math.min(Math.max(0, scroll), max);
  return lines.slice(from, from + height);
}
