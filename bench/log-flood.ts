// Benchmark: the service logs view (key l) in a real terminal (tmux) while the service prints 5,000
// lines per second for 60 s: the TUI process's memory (RSS) over the flood must stay flat (the view
// keeps 2,000 lines, batched every 50 ms, like the stage log), and a key (t, timestamps) still
// reaches the screen quickly.
//
//   npm run build && npx tsx bench/log-flood.ts [--rate 5000] [--seconds 60]
//
// Needs tmux, git and perl. One node on the `local` transport; its checkout gets a stand-in deploy.sh
// that answers `logs` with the flood (the lines Compose prints: `web-1  | <RFC 3339> text`) and
// hands every other command (status, ...) to the real script.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLabHomelab } from '../test/support/lab-homelab.js';
import { median, ms, table } from './measure.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '60' },
    // Another build of the CLI (for example one made outside dist/ while others rebuild it).
    bin: { type: 'string' },
  },
});
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const BIN = values.bin ?? join(import.meta.dirname, '..', 'bin', 'homelab.js');
const SESSION = `hlflood${process.pid}`;

const tmux = (...args: string[]): string =>
  execFileSync('tmux', ['-L', SESSION, ...args], { encoding: 'utf8' });
const screen = (): string => tmux('capture-pane', '-p', '-t', SESSION);
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

async function waitFor(pred: (text: string) => boolean, deadlineMs: number): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (pred(screen())) return performance.now() - t0;
    if (performance.now() - t0 > deadlineMs)
      throw new Error(`screen never matched; last screen:\n${screen()}`);
    await sleep(2);
  }
}

const hl = await createLabHomelab({
  transport: 'local',
  nodes: [{ name: 'flood', services: ['web'] }],
});
try {
  hl.bootstrap('flood');
  const script = join(hl.rootOf('flood'), 'repo', 'scripts', 'deploy', 'deploy.sh');
  renameSync(script, `${script}.real`);
  const stats = join(hl.dir, 'flood-stats');
  writeFileSync(
    script,
    `#!/usr/bin/env bash
# bench/log-flood.ts stand-in: logs floods at ${RATE} lines/s for ${SECONDS} s; the rest is the real script.
set -Eeuo pipefail
[[ "\${1:-}" == logs ]] || exec bash "\${BASH_SOURCE[0]}.real" "$@"
exec perl -e '
  use Time::HiRes qw(time sleep);
  use POSIX qw(strftime);
  $| = 1;
  my ($rate, $secs) = (${RATE}, ${SECONDS});
  my $start = time; my $i = 0;
  while ((my $t = time - $start) < $secs) {
    my $want = int($t * $rate);
    my $clock = strftime("%Y-%m-%dT%H:%M:%S", gmtime);
    my $out = "";
    while ($i < $want) {
      $out .= sprintf("web-1  | %s.%09dZ flood line %d of a busy service, with some text to fill the row\\n", $clock, $i, $i);
      $i++;
    }
    print $out;
    sleep 0.005;
  }
  open(my $f, ">", "${stats}") or die; printf $f "%d %d\\n", $i, (time - $start) * 1000;
'
`,
  );
  chmodSync(script, 0o755);
  // The TUI process writes its own memory figures every second (heap used vs RSS tells a leak of
  // JavaScript objects from memory V8 or a native buffer holds).
  const memLog = join(hl.dir, 'flood-mem.jsonl');
  const preload = join(hl.dir, 'flood-mem.cjs');
  writeFileSync(
    preload,
    `const { appendFileSync } = require('node:fs');
const v8 = require('node:v8');
setInterval(() => {
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size]));
  appendFileSync(${JSON.stringify(memLog)}, JSON.stringify({ ...process.memoryUsage(), spaces }) + '\\n');
}, 1000).unref();
`,
  );

  tmux(
    'new-session',
    '-d',
    '-s',
    SESSION,
    '-x',
    '160',
    '-y',
    '45',
    `CI=false NODE_OPTIONS='--require ${preload}' exec node ${BIN} --repo ${hl.repoDir}`,
  );
  await waitFor((s) => s.includes('flood') && s.includes('next:'), 20_000);
  const pid = tmux('list-panes', '-t', SESSION, '-F', '#{pane_pid}').trim();
  const rss = (): number =>
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  const before = rss();
  tmux('send-keys', '-t', SESSION, 'l');
  await waitFor((s) => s.includes('flood line'), 20_000);

  const memStart = existsSync(memLog) ? readFileSync(memLog, 'utf8').split('\n').length - 1 : 0;
  const samples: number[] = [rss()];
  const sampler = setInterval(() => samples.push(rss()), 1000);
  const latencies: number[] = [];
  const end = performance.now() + (SECONDS - 3) * 1000;
  let on = false;
  while (performance.now() < end) {
    const t0 = performance.now();
    tmux('send-keys', '-t', SESSION, 't');
    on = !on;
    await waitFor((s) => s.includes(' · timestamps') === on, 5_000);
    latencies.push(performance.now() - t0);
    await sleep(1000);
  }
  clearInterval(sampler);
  while (!existsSync(stats)) await sleep(100);
  const [lines = '0', took = '1'] = readFileSync(stats, 'utf8').trim().split(' ');
  const held = /logs: web on flood · \S+ · ([\d,]+) lines/.exec(screen())?.[1] ?? '?';
  tmux('kill-server');

  const at = [0, 0.25, 0.5, 0.75, 1].map((f) =>
    Math.min(samples.length - 1, Math.round(f * (samples.length - 1))),
  );
  const mib = (b: number): string => (b / 1048576).toFixed(0);
  const mem = readFileSync(memLog, 'utf8')
    .trim()
    .split('\n')
    .slice(memStart)
    .map((l) => JSON.parse(l) as NodeJS.MemoryUsage & { spaces: Record<string, number> });
  const memAt = [0, 0.25, 0.5, 0.75, 1].map(
    (f) => mem[Math.min(mem.length - 1, Math.round(f * (mem.length - 1)))],
  );
  const sorted = [...latencies].sort((a, b) => a - b);
  const p95 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? 0;
  console.log(`\nService logs view in tmux, ${RATE} lines/s for ${SECONDS} s:\n`);
  console.log(
    table([
      ['what', 'figure'],
      [
        'lines delivered',
        `${lines} in ${ms(Number(took))} = ${Math.round((Number(lines) * 1000) / Number(took))} lines/s`,
      ],
      ['lines held by the view at the end', held],
      ['RSS before opening the view (MiB)', before.toFixed(0)],
      [
        'RSS over the flood (MiB, at 0/25/50/75/100 %)',
        `${at.map((i) => `${i}s ${samples[i]?.toFixed(0) ?? '?'}`).join(', ')}; max ${Math.max(...samples).toFixed(0)}`,
      ],
      [
        'heap used / heap total / external+array buffers (MiB, at 0/25/50/75/100 %)',
        memAt
          .map((m) =>
            m ? `${mib(m.heapUsed)}/${mib(m.heapTotal)}/${mib(m.external + m.arrayBuffers)}` : '?',
          )
          .join(', '),
      ],
      [
        'V8 spaces at the end (MiB)',
        Object.entries(mem.at(-1)?.spaces ?? {})
          .map(([k, v]) => `${k.replace(/_space$/, '')} ${mib(v)}`)
          .join(', '),
      ],
      [
        'V8 spaces at the start (MiB)',
        Object.entries(mem[0]?.spaces ?? {})
          .map(([k, v]) => `${k.replace(/_space$/, '')} ${mib(v)}`)
          .join(', '),
      ],
      ['RSS every second (MiB)', samples.map((x) => x.toFixed(0)).join(' ')],
      [
        `key t to screen during the flood (${latencies.length} presses)`,
        `median ${ms(median(latencies))}, p95 ${ms(p95)}, max ${ms(Math.max(...latencies))}`,
      ],
      [
        'load average at the end',
        readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
      ],
    ]),
  );
} finally {
  try {
    tmux('kill-server');
  } catch {
    // gone
  }
  await hl.cleanup();
}
