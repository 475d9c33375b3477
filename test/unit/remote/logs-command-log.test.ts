// The command log: a bounded ring of the commands run on nodes, each with its argv quoted as it went
// out, its exit code and duration; the runner records every command (real local transport here).
import { describe, expect, it } from 'vitest';
import type { NodeSpec } from '../../../src/core/inventory/model.js';
import { shellJoin } from '../../../src/core/remote/quote.js';
import { CommandLog, describeCommand } from '../../../src/shell/transport/command-log.js';
import { createRunner } from '../../../src/shell/transport/runner.js';

const node: NodeSpec = {
  name: 'saturn',
  address: 'localhost',
  role: 'control',
  tags: [],
  transport: 'local',
  user: 'root',
  root: '/opt/homelab',
  repo: '/opt/homelab/repo',
  wave: 0,
  ssh: { connectTimeout: 5 },
  services: [],
};

describe('command log', () => {
  it('keeps the newest `capacity` commands, oldest first, each completed in place', () => {
    let t = 1000;
    const log = new CommandLog({ capacity: 3, now: () => t });
    const ends = [1, 2, 3, 4, 5].map((i) => log.start(`n${i}`, 'ssh', ['deploy.sh', 'status']));
    expect(log.list().map((e) => e.node)).toEqual(['n3', 'n4', 'n5']);
    t = 2000;
    ends[3]?.({ end: 'exit', exitCode: 3, durationMs: 12 });
    ends[0]?.({ end: 'exit', exitCode: 0, durationMs: 1 }); // gone from the ring: ignored
    const n4 = log.list('n4')[0];
    expect(n4).toMatchObject({ end: 'exit', exitCode: 3, durationMs: 12, startedAt: 1000 });
    expect(log.list('n5')[0]?.end).toBeUndefined();
    expect(describeCommand(n4!)).toBe('n4 exit 3 12ms  deploy.sh status');
    expect(describeCommand(log.list('n5')[0]!)).toBe('n5 running  deploy.sh status');
  });

  it('records the argv quoted exactly as it goes to the remote shell', () => {
    const log = new CommandLog();
    const argv = ['/opt/x/deploy.sh', 'logs', "it's $(id)", 'two words', ''];
    log.start('a', 'ssh', argv);
    expect(log.list()[0]?.command).toBe(shellJoin(argv));
    expect(log.list()[0]?.command).toBe(`/opt/x/deploy.sh logs 'it'\\''s $(id)' 'two words' ''`);
  });

  it('the runner records every command with its exit code and duration, a failed start too', async () => {
    const log = new CommandLog();
    const seen: string[] = [];
    log.subscribe((e) => seen.push(e.end ?? 'start'));
    const runner = createRunner(node, { commandLog: log });
    const r = await runner.run(['sh', '-c', 'sleep 0.05; exit 3']);
    await runner.run(['/nonexistent/deploy.sh', 'status']);
    await runner.close();
    const [first, second] = log.list();
    expect(first).toMatchObject({ node: 'saturn', transport: 'local', end: 'exit', exitCode: 3 });
    expect(first?.command).toBe(`sh -c 'sleep 0.05; exit 3'`);
    expect(first?.durationMs).toBe(r.durationMs);
    expect(first?.durationMs).toBeGreaterThanOrEqual(40);
    expect(second).toMatchObject({ end: 'unreachable', exitCode: null });
    expect(seen).toEqual(['start', 'exit', 'start', 'unreachable']);
  });
});
