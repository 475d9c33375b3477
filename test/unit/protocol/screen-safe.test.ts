import { describe, expect, it } from 'vitest';
import type { NodeEvent } from '../../../src/core/protocol/events.js';
import { screenSafeEvent, screenSafeLine } from '../../../src/core/protocol/screen-safe.js';

const TOKEN = `ghp_${'Z9y8X7w6V5'.repeat(4)}`;

describe('screen-safe node lines', () => {
  it('strips control sequences and redacts a log line, keeping tabs and the text around', () => {
    const line = screenSafeLine({
      kind: 'log',
      text: `a\t\x1b]52;c;aGk=\x07b \x1b[2Jc token ${TOKEN} \x1b[31md\x1b[0m\r`,
    });
    expect(line).toEqual({ kind: 'log', text: 'a\tb c token [REDACTED] d' });
  });

  it('cleans every string of a record, nested ones too, and keeps numbers, booleans and null', () => {
    const ev = {
      type: 'status',
      ts: 5,
      status: {
        node: 'n\x1b]0;t\x07',
        bootstrapped: true,
        repoCommit: 'a'.repeat(40),
        stage: 'verify',
        stageStatus: 'failed',
        run: 'r',
        target: '',
        deployed: '',
        knownGood: '',
        lock: null,
        error: `TOKEN=${TOKEN}`,
        services: [
          { name: 'w', project: 'p', state: 'running', health: 'healthy', containers: [] },
        ],
      },
    } as unknown as NodeEvent;
    const out = screenSafeEvent(ev);
    expect(out.type).toBe('status');
    if (out.type !== 'status') return;
    expect(out.ts).toBe(5);
    expect(out.status.node).toBe('n');
    expect(out.status.bootstrapped).toBe(true);
    expect(out.status.lock).toBeNull();
    expect(out.status.repoCommit).toBe('a'.repeat(40));
    expect(out.status.error).not.toContain(TOKEN);
    expect(out.status.services[0]?.name).toBe('w');
  });
});
