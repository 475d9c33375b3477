import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../src/core/recover/findings.js';
import {
  initialRecoverState,
  mainLines,
  paneLines,
  humanLog,
  osc52,
  recoverKey,
  recoverKeyActs,
  recoverReducer,
  type RecoverState,
} from '../../../src/tui/recover/state.js';

const fail: Finding = {
  id: 'service.exited',
  severity: 'fail',
  service: 'web',
  summary: 'web-1 exited with code 3',
  evidence: 'fatal: no db\nAPI_TOKEN=tok-abcdef123',
  hint: 'read the log',
};
const ok: Finding = {
  id: 'disk.root',
  severity: 'ok',
  summary: 'root 20% used',
  evidence: '',
  hint: '',
};
const warn: Finding = {
  id: 'git.dirty',
  severity: 'warn',
  summary: 'local changes',
  evidence: ' M x',
  hint: 'discard them',
};

function withFindings(): RecoverState {
  let s = initialRecoverState({
    node: 'mercury',
    failed: { stage: 'deploy', step: 'compose-up', service: 'web' },
  });
  for (const f of [ok, warn, fail]) s = recoverReducer(s, { type: 'finding', finding: f });
  return recoverReducer(s, {
    type: 'rollback-info',
    info: {
      knownGood: 'aaaaaaaa1111',
      subject: 'web 1.0',
      target: 'bbbbbbbb2222',
      changes: ['web/docker-compose.yml'],
    },
  });
}

function keys(s: RecoverState, ...tokens: string[]): { state: RecoverState; commands: string[] } {
  const commands: string[] = [];
  for (const t of tokens) {
    const r = recoverKey(s, t);
    s = r.state;
    if (r.command) commands.push(r.command);
  }
  return { state: s, commands };
}

describe('recover view state', () => {
  it('lists failing findings first, then warnings, then a one-line OK summary', () => {
    const { body } = mainLines(withFindings(), 100);
    const text = body.map((l) => l.text);
    const iFail = text.findIndex((t) => t.includes('service.exited (web)'));
    const iWarn = text.findIndex((t) => t.includes('git.dirty'));
    const iOk = text.findIndex((t) => t.startsWith('✓ OK (1)'));
    expect(text[0]).toBe('1 failing · 1 warning(s) · 1 ok');
    expect(iFail).toBeGreaterThan(0);
    expect(iWarn).toBeGreaterThan(iFail);
    expect(iOk).toBeGreaterThan(iWarn);
    expect(text).toContain('      fix: read the log');
  });

  it('redacts what reaches the screen', () => {
    const { body } = mainLines(withFindings(), 100);
    expect(body.map((l) => l.text).join('\n')).not.toContain('tok-abcdef123');
  });

  it('resume and rollback go to the app, whose one confirmation asks (the view has no question of its own)', () => {
    const s = withFindings();
    expect(keys(s, 'r').commands).toEqual(['resume']);
    expect(keys(s, 'b').commands).toEqual(['rollback']);
  });

  it('shows which commit a rollback goes to', () => {
    const text = mainLines(withFindings(), 120).body.map((l) => l.text);
    expect(text).toContain('known-good aaaaaaaa "web 1.0" · target bbbbbbbb');
  });

  it('selects findings with ↑↓ and shows the selected one whole with Enter; the fix is always whole', () => {
    const long = {
      ...fail,
      evidence: ['l1', 'l2', 'l3', 'l4', 'l5'].join('\n'),
      hint: `Create it on the node: install -m 600 /dev/null /tmp/${'x'.repeat(60)}/.env, then add NOTES_TOKEN`,
    };
    let s = initialRecoverState({ node: 'n' });
    for (const f of [long, warn]) s = recoverReducer(s, { type: 'finding', finding: f });
    const before = mainLines(s, 60).body.map((l) => l.text);
    expect(before.every((t) => t.length <= 60)).toBe(true);
    // The whole fix, wrapped: every word of it is on screen.
    expect(before.join(' ').replace(/\s+/g, ' ')).toContain('then add NOTES_TOKEN');
    expect(before.join('\n')).toContain('… 2 more lines (Enter)');
    expect(before.join('\n')).not.toContain('l1');
    s = keys(s, 'enter').state;
    const after = mainLines(s, 60).body.map((l) => l.text);
    expect(after.join('\n')).toContain('l1');
    expect(keys(s, 'down').state.cursor).toBe(1);
    expect(keys(s, 'down', 'down', 'up').state.cursor).toBe(0);
    expect(
      mainLines(keys(s, 'down').state, 60).body.find((l) => l.text.startsWith('›'))?.text,
    ).toContain('git.dirty');
  });

  it('refuses rollback without a known-good commit, and says why', () => {
    const s = initialRecoverState({ node: 'venus' });
    const r = keys(s, 'b');
    expect(r.commands).toEqual([]);
    expect(r.state.notice?.text).toMatch(/no known-good commit/);
    expect(recoverKeyActs(s, 'rec-rollback')).toBe(false);
  });

  it('runs read-only actions at once, from the key table', () => {
    const s = withFindings();
    expect(keys(s, 'd').commands).toEqual(['diagnose']);
    expect(keys(s, 'p').commands).toEqual(['prompt']);
    expect(keys(s, 'a').commands).toEqual(['ai']);
    expect(keys(s, 'l').commands).toEqual(['log']);
    expect(keys(s, 'esc').commands).toEqual(['back']);
  });

  it('the full log shows human lines; v shows the raw records', () => {
    const raw = [
      '2026-12-01T10:00:00Z prepare: checking secrets',
      '@homelab/1 step {"ts":1,"stage":"prepare","step":"secrets","status":"fail","service":"notes","detail":"missing NOTES_TOKEN"}',
    ];
    expect(humanLog(raw)).toEqual([
      '10:00:00 prepare: checking secrets',
      '  ✗ secrets notes: missing NOTES_TOKEN',
    ]);
    let s = recoverReducer(withFindings(), { type: 'log', lines: raw });
    const human = paneLines(s, 200).map((l) => l.text);
    expect(human.join('\n')).not.toContain('@homelab/1');
    s = keys(s, 'v').state;
    expect(
      paneLines(s, 200)
        .map((l) => l.text)
        .join('\n'),
    ).toContain('@homelab/1 step');
  });

  it('blocks actions while something runs on the node', () => {
    const s = recoverReducer(withFindings(), { type: 'busy', what: 'resume' });
    const r = keys(s, 'd');
    expect(r.commands).toEqual([]);
    expect(r.state.notice?.text).toContain('resume is running');
  });

  it('opens the prompt pane, copies again with c, closes with Esc', () => {
    let s = recoverReducer(withFindings(), {
      type: 'prompt',
      path: '/state/recover/mercury.md',
      text: '# prompt\nPASSWORD=hunter22',
      copied: true,
    });
    expect(s.pane).toBe('prompt');
    expect(s.prompt?.text).toBe('# prompt\nPASSWORD=[REDACTED]');
    expect(keys(s, 'c').commands).toEqual(['prompt']);
    s = keys(s, 'esc').state;
    expect(s.pane).toBe('main');
  });

  it('builds the OSC 52 clipboard sequence', () => {
    expect(osc52('hi')).toBe('\x1b]52;c;aGk=\x07');
  });
});

describe('failing step log', () => {
  it('wraps error chains after a colon, so the message stays on one line', () => {
    const s = initialRecoverState({
      node: 'n',
      excerpt:
        'step secrets failed (notes): /tmp/homelab-e2e-KHi8Sl/lab/nodes/notes/config/notes/.env: missing NOTES_TOKEN',
    });
    const text = mainLines(s, 98).body.map((l) => l.text);
    expect(text).toContain('  missing NOTES_TOKEN');
  });

  it('wraps long lines at a space so the error stays readable', () => {
    const s = initialRecoverState({
      node: 'n',
      excerpt: `step secrets failed (notes): /tmp/${'x'.repeat(50)}/config/notes/.env: missing NOTES_TOKEN`,
    });
    const text = mainLines(s, 80).body.map((l) => l.text);
    expect(text).toContain('  missing NOTES_TOKEN');
    expect(text.every((t) => t.length <= 80)).toBe(true);
  });
});

describe('while diagnose runs', () => {
  it('resume and rollback may still be asked for; diagnose and the prompt wait', () => {
    const s = recoverReducer(withFindings(), { type: 'diagnose-start' });
    expect(keys(s, 'r').commands).toEqual(['resume']);
    expect(keys(s, 'b').commands).toEqual(['rollback']);
    expect(keys(s, 'p').commands).toEqual([]);
    expect(keys(s, 'p').state.notice?.text).toContain('diagnose is running');
    expect(keys(s, 'd').commands).toEqual([]);
  });
});
