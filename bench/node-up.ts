// Benchmark: the node's side of one fleet deploy. One `deploy.sh up --ref SHA --detach` (what
// SATURN starts on each node) of a service whose compose file changed, its CPU (user + system of
// deploy.sh and every process it waited for: git, docker, compose, perl, coreutils; not dockerd's
// own work) and its wall time, for two versions of the node scripts on two nodes of their own,
// in alternating rounds: the scripts of a commit (--baseline) against this working tree's.
//
//   npx tsx bench/node-up.ts [--baseline REV] [--rounds 7] [--strace] [--perf]
//
// --strace also counts, in one extra round per version, the programs the run executes (execve
// under strace -f): the forks each version costs. --perf samples one extra round per version
// with `perf record` (cpu-clock, every process of the run) and prints the CPU by program name. Needs the lab (scripts/dev/setup-lab.sh):
// Docker with Compose v2. The 1-minute load average is printed with every figure.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { NodeFixture } from '../test/support/node-fixture.js';
import { median, ms, table } from './measure.js';
import { scriptsNode } from './scripts-node.js';

const { values } = parseArgs({
  options: {
    baseline: { type: 'string', default: 'HEAD' },
    rounds: { type: 'string', default: '7' },
    strace: { type: 'boolean', default: false },
    perf: { type: 'boolean', default: false },
  },
});
const ROUNDS = Number(values.rounds);
const load = (): number => loadavg()[0]!;

interface Variant {
  readonly label: string;
  readonly fx: NodeFixture;
  round: number;
  readonly cpu: number[];
  readonly wall: number[];
  readonly loads: number[];
}

async function makeNode(label: string, rev: string | undefined): Promise<Variant> {
  const { fx, sha } = await scriptsNode(label === 'baseline' ? 'nub' : 'nun', rev);
  const first = await fx.run('up', ['--ref', sha, '--detach']);
  if (first.code !== 0) throw new Error(`first up (${label}): ${first.stdout}${first.stderr}`);
  return { label, fx, round: 0, cpu: [], wall: [], loads: [] };
}

/** A new commit changing the compose file of the node's one service (a label): a recreate. */
function change(v: Variant): string {
  v.round += 1;
  const file = join(v.fx.serviceDir('web'), 'docker-compose.yml');
  const text = readFileSync(file, 'utf8').replace(/\n {4}labels:.*\n.*\n/, '\n');
  writeFileSync(
    file,
    text.replace(
      '    image: busybox:1.36\n',
      `    image: busybox:1.36\n    labels:\n      bench.round: "${v.round}"\n`,
    ),
  );
  return v.fx.commit(`round ${v.round}`);
}

/** One timed `up`: [cpu ms, wall ms] from GNU time (rusage of the whole waited-for tree). */
function timedUp(v: Variant, sha: string, wrap: readonly string[] = []): [number, number] {
  const r = spawnSync(
    '/usr/bin/time',
    [
      '-f',
      '%e %U %S',
      ...wrap,
      'bash',
      v.fx.deployScript(),
      'up',
      '--root',
      v.fx.root,
      '--node',
      v.fx.node,
      '--ref',
      sha,
      '--detach',
    ],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  if (r.status !== 0) throw new Error(`up (${v.label}) exited ${r.status}: ${r.stdout}${r.stderr}`);
  const last = r.stderr.trim().split('\n').at(-1) ?? '';
  const [e, u, s] = last.split(' ').map(Number);
  return [(u! + s!) * 1000, e! * 1000];
}

function straceCounts(v: Variant): Map<string, number> {
  const out = join(v.fx.dir, 'strace.txt');
  timedUp(v, change(v), [
    'strace',
    '-f',
    '-qq',
    '-e',
    'trace=execve',
    '-e',
    'signal=none',
    '-o',
    out,
  ]);
  const counts = new Map<string, number>();
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    const m = /execve\("([^"]+)", \[([^\]]*)\]/.exec(line);
    if (!m || line.includes('= -1 ')) continue;
    const prog = m[1]!.split('/').at(-1)!;
    const args = m[2]!.split(', ').map((a) => a.replace(/^"|"$/g, ''));
    const key = prog === 'docker' ? `docker ${args[1] === 'compose' ? 'compose' : args[1]}` : prog;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

function perfByProgram(v: Variant): Map<string, number> {
  const data = join(v.fx.dir, 'perf.data');
  timedUp(v, change(v), ['perf', 'record', '-q', '-F', '1000', '-o', data, '--']);
  const report = execFileSync(
    'perf',
    ['report', '-i', data, '--sort', 'comm', '--stdio', '-F', 'sample,comm'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const byComm = new Map<string, number>();
  for (const line of report.split('\n')) {
    const m = /^\s+(\d+)\s+(\S.*?)\s*$/.exec(line);
    if (m) byComm.set(m[2]!, Number(m[1])); // samples at 1000 Hz: ms of CPU
  }
  return byComm;
}

function countTable(title: string, counts: Map<string, number>[], unit: string): void {
  const keys = [...new Set(counts.flatMap((c) => [...c.keys()]))].sort(
    (a, b) => (counts[0]!.get(b) ?? 0) - (counts[0]!.get(a) ?? 0),
  );
  const total = (c: Map<string, number>): number => [...c.values()].reduce((a, b) => a + b, 0);
  console.log(`\n${title}:\n`);
  console.log(
    table([
      ['program', `${values.baseline}${unit}`, `this tree${unit}`],
      ...keys.map((k) => [k, String(counts[0]!.get(k) ?? 0), String(counts[1]!.get(k) ?? 0)]),
      ['total', String(total(counts[0]!)), String(total(counts[1]!))],
    ]),
  );
}

const variants: Variant[] = [];
try {
  console.error(`setting up two nodes: scripts of ${values.baseline} and of the working tree...`);
  variants.push(await makeNode('baseline', values.baseline));
  variants.push(await makeNode('this tree', undefined));
  for (let i = 0; i < ROUNDS; i++) {
    // alternate which goes first, so neither always meets the other's leftovers
    const order = i % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      const l0 = load();
      const [cpu, wall] = timedUp(v, change(v));
      v.cpu.push(cpu);
      v.wall.push(wall);
      v.loads.push(l0, load());
      console.error(
        `round ${i + 1} ${v.label}: cpu ${ms(cpu)} wall ${ms(wall)} load ${l0.toFixed(1)}`,
      );
    }
  }
  const fmt = (xs: number[]): string =>
    `${ms(median(xs))} (${ms(Math.min(...xs))}–${ms(Math.max(...xs))})`;
  console.log(
    `\none \`deploy.sh up --detach\` of a changed service, ${ROUNDS} alternating rounds, medians (min–max):\n`,
  );
  console.log(
    table([
      ['scripts', 'node CPU (deploy.sh and its children)', 'wall', '1-min load'],
      ...variants.map((v) => [
        v.label === 'baseline' ? `${values.baseline}` : 'this tree',
        fmt(v.cpu),
        fmt(v.wall),
        `${Math.min(...v.loads).toFixed(1)}–${Math.max(...v.loads).toFixed(1)}`,
      ]),
    ]),
  );
  if (values.strace)
    countTable('programs executed by one `up` (strace -f execve)', variants.map(straceCounts), '');
  if (values.perf)
    countTable(
      `CPU by program of one \`up\` (perf record -F 1000, load ${load().toFixed(1)})`,
      variants.map(perfByProgram),
      ' (ms)',
    );
} finally {
  for (const v of variants) v.fx.cleanup();
}
