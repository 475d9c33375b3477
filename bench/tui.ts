// Benchmark: the TUI in a real terminal (tmux).
//  1. Launch to the first full frame with 20 nodes (every node row on screen).
//  2. While a stage streams 5,000 log lines per second, how long a keypress (j/k) takes to move
//     the selection on screen, and the process's memory over the stream.
//
//   npm run build && npx tsx bench/tui.ts [--nodes 20] [--runs 5] [--rate 5000] [--seconds 15]
//
// Needs tmux and git. The nodes use the `local` transport (no sshd needed). For part 2 the first
// node's checkout gets a stand-in deploy.sh that answers `prepare` with a flood of log lines at the
// given rate and hands every other stage (status, ...) to the real script.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLabHomelab } from '../test/support/lab-homelab.js';
import { median, ms, table } from './measure.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '20' },
    runs: { type: 'string', default: '5' },
    rate: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '15' },
    // Another build of the CLI (for example one made outside dist/ while others rebuild it).
    bin: { type: 'string' },
    // Only the stream (part 2): no launch runs.
    'stream-only': { type: 'boolean', default: false },
  },
});
const N = Number(values.nodes);
const RUNS = Number(values.runs);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const BIN = values.bin ?? join(import.meta.dirname, '..', 'bin', 'homelab.js');
const SESSION = `hlbench${process.pid}`;

// A tmux server of our own (-L): nothing else's sessions are touched, and a keeper session keeps
// the server up between launches so its start-up is not counted.
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

function launch(repoDir: string): void {
  tmux(
    'new-session',
    '-d',
    '-s',
    SESSION,
    '-x',
    '160',
    '-y',
    String(N + 30),
    `CI=false exec node ${BIN} --repo ${repoDir}`,
  );
}

function kill(): void {
  try {
    tmux('kill-session', '-t', SESSION);
  } catch {
    // gone already
  }
}

tmux('new-session', '-d', '-s', 'keeper', 'sleep 3600');
/** RSS at the start, then every quarter of the stream: flat means the later quarters do not climb. */
function rssCheckpoints(samples: readonly number[]): string {
  const at = [0, 0.25, 0.5, 0.75, 1].map((f) =>
    Math.min(samples.length - 1, Math.round(f * (samples.length - 1))),
  );
  return at.map((i) => `${i}s ${samples[i]!.toFixed(0)}`).join(', ');
}

const names = Array.from({ length: N }, (_, i) => `tui${String(i + 1).padStart(2, '0')}`);
const hl = await createLabHomelab({
  transport: 'local',
  nodes: names.map((name) => ({ name, services: ['web'] })),
});
try {
  names.forEach((n) => hl.bootstrap(n));
  const last = names.at(-1)!;

  // 1. First full frame: every node row on screen.
  const frames: number[] = [];
  for (let i = 0; i < (values['stream-only'] ? 0 : RUNS); i++) {
    const t0 = performance.now();
    launch(hl.repoDir);
    await waitFor((s) => names.every((n) => s.includes(n)), 60_000);
    frames.push(performance.now() - t0);
    console.log(`launch ${i + 1}: ${ms(frames.at(-1)!)}`);
    kill();
    await sleep(300);
  }

  // 2. Keypresses while a stage floods the log.
  const script = join(hl.rootOf(names[0]!), 'repo', 'scripts', 'deploy', 'deploy.sh');
  renameSync(script, `${script}.real`);
  const stats = join(hl.dir, 'flood-stats');
  writeFileSync(
    script,
    `#!/usr/bin/env bash
# bench/tui.ts stand-in: prepare floods the log at ${RATE} lines/s; every other stage is the real one.
set -Eeuo pipefail
[[ "\${1:-}" == prepare ]] || exec bash "\${BASH_SOURCE[0]}.real" "$@"
now() { date +%s%3N; }
printf '@homelab/1 run {"ts":%s,"run":"flood","stage":"prepare","node":"${names[0]}","commit":"","log":"-","pid":%s}\\n' "$(now)" "$$"
printf '@homelab/1 stage-start {"ts":%s,"stage":"prepare"}\\n' "$(now)"
start=$(now)
# The producer is perl, not a bash loop: bash forked date and sleep for every 50 lines and could
# not print 5,000 lines/s on this machine even into /dev/null (4,700 idle, ~3,200 under load).
perl -e '
  use Time::HiRes qw(time sleep);
  use POSIX qw(strftime);
  $| = 1;
  my ($rate, $secs) = (${RATE}, ${SECONDS});
  my $start = time; my $i = 0;
  while ((my $t = time - $start) < $secs) {
    my $want = int($t * $rate);
    my $clock = strftime("%H:%M:%S", localtime);
    my $out = "";
    while ($i < $want) {
      $out .= sprintf("\\e[32m%s\\e[0m prepare: flood line %d of a busy stage, with some text to wrap\\n", $clock, $i);
      $i++;
    }
    print $out;
    sleep 0.005;
  }
  open(my $f, ">", "${stats}") or die; printf $f "%d %d\\n", $i, (time - $start) * 1000;
'
printf '@homelab/1 stage-end {"ts":%s,"stage":"prepare","result":"ok","duration_ms":%s}\\n' "$(now)" "$(( $(now) - start ))"
printf '@homelab/1 run-end {"ts":%s,"run":"flood","result":"ok","exit":0}\\n' "$(now)"
`,
  );
  chmodSync(script, 0o755);

  launch(hl.repoDir);
  await waitFor((s) => s.includes(last) && s.includes('next: prepare'), 10_000);
  const pid = tmux('list-panes', '-t', SESSION, '-F', '#{pane_pid}').trim();
  const rss = (): number =>
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  const selected = (s: string): string =>
    s
      .split('\n')
      .find((l) => l.includes('▸'))
      ?.match(/tui\d+/)?.[0] ?? '';
  tmux('send-keys', '-t', SESSION, 'Enter');
  await waitFor((s) => /\by\b.*yes/.test(s), 5_000);
  tmux('send-keys', '-t', SESSION, 'y');
  await waitFor((s) => s.includes('flood line'), 10_000);

  const rssSamples: number[] = [rss()];
  const sampler = setInterval(() => rssSamples.push(rss()), 1000);
  const latencies: number[] = [];
  const streamEnd = performance.now() + (SECONDS - 3) * 1000;
  let key = 'j';
  while (performance.now() < streamEnd) {
    const before = selected(screen());
    const t0 = performance.now();
    tmux('send-keys', '-t', SESSION, key);
    await waitFor((s) => selected(s) !== before && selected(s) !== '', 5_000);
    latencies.push(performance.now() - t0);
    key = key === 'j' ? 'k' : 'j';
    await sleep(200);
  }
  clearInterval(sampler);
  while (!existsSync(stats)) await sleep(100);
  const [lines = '0', took = '1'] = readFileSync(stats, 'utf8').trim().split(' ');
  kill();

  const sorted = [...latencies].sort((a, b) => a - b);
  const p95 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))]!;
  console.log(`\nTUI in tmux, ${N} nodes:\n`);
  console.log(
    table([
      ['what', 'figure'],
      [
        `launch to first full frame (${RUNS} runs)`,
        frames.length === 0
          ? 'not measured (--stream-only)'
          : `median ${ms(median(frames))} (${ms(Math.min(...frames))}–${ms(Math.max(...frames))}); each: ${frames.map(ms).join(', ')}`,
      ],
      [
        `log stream delivered`,
        `${lines} lines in ${ms(Number(took))} = ${Math.round((Number(lines) * 1000) / Number(took))} lines/s`,
      ],
      [
        `keypress to screen while streaming (${latencies.length} presses)`,
        `median ${ms(median(latencies))}, p95 ${ms(p95)}, max ${ms(Math.max(...latencies))}`,
      ],
      [
        `RSS over the stream (MiB, 1 s samples)`,
        `${rssCheckpoints(rssSamples)}; max ${Math.max(...rssSamples).toFixed(0)}`,
      ],
    ]),
  );
} finally {
  tmux('kill-server');
  await hl.cleanup();
}
