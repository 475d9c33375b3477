// What a node prints reaches a screen only screen-safe: the Control strips terminal control
// sequences (OSC 52 clipboard writes, screen clears, cursor moves, other CSI/OSC, C0 controls but
// tab) and redacts credential shapes from every line and every record field of the live stream,
// whatever the node did or did not redact itself. The node here is hostile on purpose: its
// deploy.sh (behind a real sshd) prints token-shaped values and escape sequences in log lines and
// in a record's detail. `homelab run`'s stdout and stderr, and the lines the TUI gets from the
// Control, carry none of them.
import { writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeLine } from '../../../src/core/protocol/events.js';
import { openControl } from '../../../src/shell/control/control.js';
import { runCli } from '../../support/cli.js';
import { createLabHomelab, type LabHomelab } from '../../support/lab-homelab.js';
import { requireLab } from '../../support/lab.js';

const ok = requireLab('sshd');
const NODE = `ss${Math.random().toString(36).slice(2, 7)}`;

// Token shapes of the shared rule list, built at run time so no scanner flags this file.
const TOKENS = [
  `ghp_${'A1b2C3d4E5'.repeat(4)}`,
  `xoxb-${'1234567890'.repeat(2)}-abcdefghij`,
  `AKIA${'QWERTYUIOPASDFGH'}`,
  `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.${'sig'.repeat(8)}`,
];
const ESC = '\x1b';
const HOSTILE = [
  `${ESC}]52;c;${Buffer.from('rm -rf ~').toString('base64')}\x07`,
  `${ESC}[2J${ESC}[H`,
  `${ESC}]0;owned${ESC}\\`,
  `${ESC}[31mred${ESC}[0m`,
  '\r',
  '\x08\x08',
  `${ESC}P1$r${ESC}\\`,
  '\u009b2J',
];

function hostileScript(): string {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const lines = [
    ...TOKENS.map((t, i) => `container web-${i}: token=${t} ${HOSTILE[i % HOSTILE.length]}end`),
    ...HOSTILE.map((h, i) => `line ${i} ${h}after`),
    `@homelab/1 step {"type":"step","ts":1,"stage":"diagnose","step":"x","status":"fail","detail":"Authorization: Bearer ${TOKENS[0]} \\u001b]52;c;aGk=\\u0007"}`,
  ];
  return [
    '#!/usr/bin/env bash',
    'run=""; prev=""',
    'for a in "$@"; do [[ "$prev" == --run ]] && run="$a"; prev="$a"; done',
    `printf '%s\\n' '@homelab/1 run {"type":"run","ts":1,"run":"'"$run"'","stage":"diagnose","node":"${NODE}","commit":"","log":"/x","pid":1}'`,
    ...lines.map((l) => `printf '%s\\n' "$(printf '%s' '${b64(l)}' | base64 -d)"`),
    `printf '%s\\n' "$(printf '%s' '${b64(`stderr ${TOKENS[1]} ${HOSTILE[0]}`)}' | base64 -d)" >&2`,
    `printf '%s\\n' '@homelab/1 run-end {"type":"run-end","ts":2,"run":"'"$run"'","result":"ok","exit":0}'`,
  ].join('\n');
}

const unsafe = (text: string): string[] => {
  const found = TOKENS.filter((t) => text.includes(t) || text.includes(t.slice(0, 12)));
  if (/[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f]/.test(text)) found.push('a control character');
  return found;
};

describe.skipIf(!ok)('the live stream reaches a screen screen-safe', () => {
  let hl: LabHomelab;

  beforeAll(async () => {
    hl = await createLabHomelab({ nodes: [{ name: NODE, services: ['web'] }] });
    hl.bootstrap(NODE);
    const script = join(hl.rootOf(NODE), 'repo', 'scripts', 'deploy', 'deploy.sh');
    writeFileSync(script, `${hostileScript()}\n`);
    chmodSync(script, 0o755);
    hl.labs.get(NODE)!.grant(script);
  });
  afterAll(async () => {
    await hl?.cleanup();
  });

  it('homelab run prints no token and no control sequence, in text or --raw records', async () => {
    for (const raw of [false, true]) {
      const res = await runCli(['run', 'diagnose', '--node', NODE, ...(raw ? ['--raw'] : [])], {
        cwd: hl.repoDir,
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
      });
      const all = `${res.stdout}\n${res.stderr}`;
      expect(res.code, all).toBe(0);
      // The lines did arrive, cleaned: their text around the removed parts is there.
      expect(res.stdout).toContain('container web-0: token=');
      expect(res.stdout).toContain('line 0 after');
      expect(all).toContain('[REDACTED]');
      expect(unsafe(res.stdout.replace(/\n/g, ''))).toEqual([]);
      expect(unsafe(res.stderr.replace(/\n/g, ''))).toEqual([]);
    }
  });

  it('the Control hands the TUI screen-safe lines and record fields', async () => {
    const control = await openControl({ repoDir: hl.repoDir });
    try {
      const lines: NodeLine[] = [];
      const outcome = await control.runStage({
        node: NODE,
        stage: 'diagnose',
        onLine: (l) => lines.push(l),
      });
      expect(outcome.result).toBe('ok');
      const texts = lines.map((l) => (l.kind === 'log' ? l.text : JSON.stringify(l.event)));
      expect(texts.length).toBeGreaterThan(TOKENS.length + HOSTILE.length);
      for (const t of texts) expect(unsafe(t), t).toEqual([]);
      const step = lines.find((l) => l.kind === 'event' && l.event.type === 'step');
      expect(step?.kind === 'event' && step.event.type === 'step' && step.event.detail).toBe(
        'Authorization: Bearer [REDACTED] ',
      );
    } finally {
      await control.close();
    }
  });
});
