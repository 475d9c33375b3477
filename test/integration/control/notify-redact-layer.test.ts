// notify's own redaction layer (redactEvent in src/shell/notify.ts), on its own: the walk-end and
// deploy tests send events whose text the node and toScreen already cleaned, so they would pass
// without it. Here the events are built straight from outcomes that hold every secret shape SATURN
// knows (test/support/secret-shapes.ts) in every text field, and delivered for real: a POST to a
// node:http server on 127.0.0.1 and a command reading its stdin. No secret reaches either.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StageOutcome } from '../../../src/core/node/types.js';
import { REDACTED } from '../../../src/core/recover/redact.js';
import { deliver, stageFailedEvent, walkFinishedEvent } from '../../../src/shell/notify.js';
import { startHttpReceiver, type HttpReceiver } from '../../support/http-receiver.js';
import { SECRET_SHAPES } from '../../support/secret-shapes.js';

describe('notify: its own redaction layer', () => {
  let receiver: HttpReceiver | undefined;
  let url = '';
  const posted = (): string[] => receiver?.got.map((r) => r.body) ?? [];
  const dir = mkdtempSync(join(tmpdir(), 'hl-notify-redact-'));

  beforeAll(async () => {
    receiver = await startHttpReceiver();
    url = receiver.url('/topic');
  });
  afterAll(async () => {
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(SECRET_SHAPES)(
    'a %s in any field of either event is redacted',
    async (name, text, secret) => {
      const at = new Date('2026-12-01T22:00:00Z');
      const outcome: StageOutcome = {
        node: 'n1',
        stage: 'deploy',
        result: 'failed',
        exitCode: 1,
        commit: `abc1234 ${text}`,
        message: `compose up failed: ${text}`,
        durationMs: 1200,
      };
      const events = [
        stageFailedEvent(`lab ${text}`, outcome, 'alice', at),
        walkFinishedEvent(
          'lab',
          {
            ok: false,
            head: 'abc1234',
            deployed: [`n0 ${text}`],
            failed: [{ node: 'n1', message: `verify: ${text}` }],
            notStarted: [],
            declined: false,
          },
          'alice',
          at,
        ),
      ];
      const file = join(dir, `${name.replace(/\W/g, '-')}.jsonl`);
      for (const event of events) {
        const from = posted().length;
        const failures = await deliver(
          { url, command: ['sh', '-c', `cat >> '${file}'`], timeoutSeconds: 5 },
          event,
        );
        expect(failures).toEqual([]);
        expect(posted().slice(from)).toHaveLength(1);
        const sent = posted()[from]!;
        expect(sent).not.toContain(secret);
        expect(sent).toContain(REDACTED);
        expect(JSON.parse(sent)).toMatchObject({ event: event.event, who: 'alice' });
      }
      const piped = readFileSync(file, 'utf8');
      expect(piped.trim().split('\n')).toHaveLength(2);
      expect(piped).not.toContain(secret);
    },
  );
});
