// The guided recover view's state: findings (failing first), the failing step's log excerpt, the
// actions (resume, roll back, re-run diagnose, build the prompt, ask the AI, full log, back) with
// confirmation for the two that change the node. Pure: a reducer, a key function, line layout.
import type { Severity } from '../../core/protocol/events.js';
import {
  countFindings,
  groupFindings,
  type FailedStep,
  type Finding,
} from '../../core/recover/findings.js';
import { redact } from '../../core/recover/redact.js';
import type { RollbackInfo } from '../../core/node/types.js';

export type { RollbackInfo };

export type RecoverCommand = 'resume' | 'rollback' | 'diagnose' | 'prompt' | 'ai' | 'log' | 'back';

export interface RecoverMenuItem {
  readonly id: RecoverCommand;
  readonly key: string;
  readonly label: string;
  /** Changes the node: asks first. */
  readonly changes?: boolean;
}

export const RECOVER_MENU: readonly RecoverMenuItem[] = [
  { id: 'resume', key: 'r', label: 'Resume from the failed stage', changes: true },
  { id: 'rollback', key: 'b', label: 'Roll back to the known-good commit', changes: true },
  { id: 'diagnose', key: 'd', label: 'Re-run diagnose' },
  { id: 'prompt', key: 'p', label: 'Build the recover-node prompt (saved, shown, copied)' },
  { id: 'ai', key: 'a', label: 'Ask the AI command' },
  { id: 'log', key: 'l', label: 'Open the full log' },
  { id: 'back', key: 'esc', label: 'Back' },
];

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
  readonly cursor: number;
  readonly scroll: number;
  readonly pane: RecoverPane;
  readonly confirm?: 'resume' | 'rollback';
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
    excerpt: redact(opts.excerpt ?? ''),
    cursor: 0,
    scroll: 0,
    pane: 'main',
    aiCommand: (opts.aiCommand ?? []).join(' '),
    log: [],
  };
}

/** Text that reaches the screen passes the pattern rules once more. */
function clean(f: Finding): Finding {
  return { ...f, summary: redact(f.summary), evidence: redact(f.evidence), hint: redact(f.hint) };
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
      return { ...state, excerpt: redact(action.text) };
    case 'rollback-info':
      return action.info ? { ...state, rollback: action.info } : state;
    case 'busy':
      return action.what === undefined
        ? { ...state, busy: undefined }
        : { ...state, busy: action.what };
    case 'prompt':
      return {
        ...state,
        prompt: { path: action.path, text: redact(action.text), copied: action.copied },
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
      return { ...state, log: action.lines.map((l) => redact(l)), pane: 'log', scroll: 0 };
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
  /** A command to carry out (confirmed already when it changes the node). */
  readonly command?: RecoverCommand;
}

/**
 * One key. Tokens as the app's key router names them: 'up', 'down', 'enter', 'esc', 'pgup',
 * 'pgdown', or the typed character.
 */
export function recoverKey(state: RecoverState, token: string): KeyResult {
  if (state.confirm) {
    if (token === 'y') return { state: { ...state, confirm: undefined }, command: state.confirm };
    if (token === 'n' || token === 'esc' || token === 'enter' || token === 'q')
      return {
        state: {
          ...state,
          confirm: undefined,
          notice: { level: 'info', text: `${state.confirm}: not run` },
        },
      };
    return { state };
  }
  if (state.pane !== 'main') {
    if (token === 'esc' || token === 'q' || token === 'left')
      return { state: { ...state, pane: 'main', scroll: 0 } };
    if (token === 'up' || token === 'k')
      return { state: { ...state, scroll: Math.max(0, state.scroll - 1) } };
    if (token === 'down' || token === 'j') return { state: { ...state, scroll: state.scroll + 1 } };
    if (token === 'pgup') return { state: { ...state, scroll: Math.max(0, state.scroll - 10) } };
    if (token === 'pgdown' || token === ' ')
      return { state: { ...state, scroll: state.scroll + 10 } };
    if (token === 'c' && state.pane === 'prompt') return { state, command: 'prompt' };
    return { state };
  }
  if (token === 'up' || token === 'k')
    return {
      state: { ...state, cursor: (state.cursor + RECOVER_MENU.length - 1) % RECOVER_MENU.length },
    };
  if (token === 'down' || token === 'j')
    return { state: { ...state, cursor: (state.cursor + 1) % RECOVER_MENU.length } };
  if (token === 'pgup') return { state: { ...state, scroll: Math.max(0, state.scroll - 5) } };
  if (token === 'pgdown') return { state: { ...state, scroll: state.scroll + 5 } };
  let item: RecoverMenuItem | undefined;
  if (token === 'enter') item = RECOVER_MENU[state.cursor];
  else
    item =
      RECOVER_MENU.find((m) => m.key === token) ??
      (token === 'q' ? RECOVER_MENU.find((m) => m.id === 'back') : undefined);
  if (!item) return { state };
  const cursor = RECOVER_MENU.indexOf(item);
  const why = disabledReason(state, item.id);
  if (why)
    return {
      state: { ...state, cursor, notice: { level: 'warn', text: `${item.label}: ${why}` } },
    };
  if (item.id === 'resume' || item.id === 'rollback')
    return { state: { ...state, cursor, confirm: item.id } };
  return { state: { ...state, cursor }, command: item.id };
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

function menuLabel(state: RecoverState, item: RecoverMenuItem): string {
  switch (item.id) {
    case 'resume':
      return state.failed?.stage
        ? `Resume from the failed stage (${state.failed.stage})`
        : item.label;
    case 'rollback': {
      const rb = state.rollback;
      if (!rb?.knownGood) return `${item.label} (none recorded yet)`;
      return `Roll back to known-good ${short(rb.knownGood)}${rb.subject ? ` "${rb.subject}"` : ''}`;
    }
    case 'ai':
      return state.aiCommand
        ? `Ask the AI command (${state.aiCommand})`
        : 'Ask the AI command (none configured: set ai.command in inventory/topology.yaml)';
    default:
      return item.label;
  }
}

/** The main pane, top to bottom: headline, counts, findings by severity, log excerpt, actions. */
export function mainLines(state: RecoverState, width: number): { body: Line[]; actions: Line[] } {
  const body: Line[] = [];
  const c = countFindings(state.findings);
  body.push({
    text: clip(
      `${c.fail} failing · ${c.warn} warning(s) · ${c.ok} ok${state.diagnosing ? ' · diagnosing…' : ''}`,
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
      body.push({
        text: clip(
          `${MARK[f.severity]} ${f.id}${f.service ? ` (${f.service})` : ''}: ${f.summary}`,
          width,
        ),
        style: f.severity,
      });
      const ev = f.evidence.split('\n').filter((l) => l.trim() !== '');
      for (const l of ev.slice(-3)) body.push({ text: clip(`    ${l}`, width), style: 'dim' });
      if (f.hint) body.push({ text: clip(`    fix: ${f.hint}`, width), style: 'text' });
    }
  }
  if (state.excerpt.trim()) {
    body.push({ text: 'Failing step log', style: 'heading' });
    for (const l of wrapLines(state.excerpt, width - 2, '  ').slice(-10))
      body.push({ text: l, style: 'dim' });
  }
  const actions: Line[] = [];
  if (state.confirm) {
    const rb = state.rollback;
    if (state.confirm === 'resume') {
      actions.push({
        text: clip(
          `Run resume on ${state.node}? It re-runs ${state.failed?.stage || 'the failed stage'} and the stages after it.`,
          width,
        ),
        style: 'confirm',
      });
    } else if (rb) {
      actions.push({
        text: clip(
          `Run rollback on ${state.node}? Back to ${short(rb.knownGood)}${rb.subject ? ` "${rb.subject}"` : ''} (from ${short(rb.target)}).`,
          width,
        ),
        style: 'confirm',
      });
      actions.push({
        text: clip(
          rb.changes.length
            ? `It changes back: ${rb.changes.join(', ')}`
            : "Nothing below this node's hosts folder differs.",
          width,
        ),
        style: 'text',
      });
    }
    actions.push({ text: 'y yes · n/Enter/Esc no (default)', style: 'confirm' });
    return { body, actions };
  }
  RECOVER_MENU.forEach((item, i) => {
    const disabled = disabledReason(state, item.id) !== null && item.id !== 'back';
    const key = item.key === 'esc' ? 'Esc' : item.key;
    const text = clip(
      `${i === state.cursor ? '›' : ' '} ${key.padEnd(3)} ${menuLabel(state, item)}`,
      width,
    );
    actions.push({ text, style: i === state.cursor ? 'selected' : disabled ? 'dim' : 'text' });
  });
  return { body, actions };
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
        { text: 'full log (redacted) · ↑↓ PgUp/PgDn scroll · Esc back', style: 'dim' },
        ...state.log
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
