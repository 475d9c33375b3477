// A dropped connection does not lose a stage: it runs detached on the node, and SATURN re-attaches
// to the same run from the next unread line. The connection is cut from the node's side by killing
// its sshd session processes while verify waits for a slow healthcheck.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeLine } from '../../../src/core/protocol/events.js';
import { openControl } from '../../../src/shell/control/control.js';
import type { Control } from '../../../src/shell/control/types.js';
import { createLabHomelab, type LabHomelab } from '../../support/lab-homelab.js';
import { requireLab } from '../../support/lab.js';

const ok = requireLab('docker', 'sshd');

/** Kills every sshd process below the listener (privileged monitors and their network children). */
function dropSessions(listenerPid: string): void {
  const table = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,comm='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/));
  const below = new Set([listenerPid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid = '', ppid = '', comm = ''] of table) {
      if (comm === 'sshd' && below.has(ppid) && !below.has(pid)) {
        below.add(pid);
        grew = true;
      }
    }
  }
  below.delete(listenerPid);
  if (below.size === 0) throw new Error('no sshd session to drop');
  execFileSync('kill', ['-KILL', ...below]);
}
const NODE = `ra${Math.random().toString(36).slice(2, 7)}`;

describe.skipIf(!ok)('re-attaching after a dropped connection', () => {
  let hl: LabHomelab;
  let control: Control;

  beforeAll(async () => {
    hl = await createLabHomelab({
      nodes: [{ name: NODE, services: [{ name: 'slow', startDelay: 6 }] }],
    });
    hl.bootstrap(NODE);
    control = await openControl({ repoDir: hl.repoDir });
    for (const stage of ['prepare', 'deploy'] as const)
      expect((await control.runStage({ node: NODE, stage })).result).toBe('ok');
  });
  afterAll(async () => {
    await control?.close();
    await hl?.cleanup();
  });

  it('keeps verify running on the node and follows it to its real end, without repeating a line', async () => {
    const lines: NodeLine[] = [];
    let cut = false;
    const sshdPid = readFileSync(join(hl.labs.get(NODE)!.dir, 'sshd.pid'), 'utf8').trim();
    const outcome = await control.runStage({
      node: NODE,
      stage: 'verify',
      onLine: (line) => {
        lines.push(line);
        // Once verify is under way, drop every session of the node's sshd (the listener stays).
        if (!cut && line.kind === 'event' && line.event.type === 'stage-start') {
          cut = true;
          dropSessions(sshdPid);
        }
      },
    });
    expect(cut).toBe(true);
    expect(outcome.result).toBe('ok');
    const texts = lines.map((l) => (l.kind === 'log' ? l.text : JSON.stringify(l.event)));
    expect(texts.some((t) => t.includes('lost') && t.includes('re-attaching'))).toBe(true);
    // Every record carries its own timestamp: none may arrive twice across the reconnect.
    const records = texts.filter((t) => t.startsWith('{'));
    expect(records.length - new Set(records).size).toBe(0);
    const events = lines.flatMap((l) => (l.kind === 'event' ? [l.event] : []));
    expect(events.filter((e) => e.type === 'run')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'stage-start')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'run-end')).toMatchObject([{ result: 'ok' }]);
    const probe = await control.probe(NODE);
    expect(
      probe.reachable && probe.status.stage === 'verify' && probe.status.stageStatus === 'ok',
    ).toBe(true);
  });
});
