// Benchmark: the node's side of `homelab status`. One `deploy.sh status` of an unchanged,
// deployed node (one healthy service), its CPU (user + system of deploy.sh and every program it
// waited for: docker, git, stat, timeout; not dockerd's own work) and wall time, for two versions
// of the node scripts on two nodes of their own, in alternating rounds: the scripts of a commit
// (--baseline) against this working tree's. Each round times --calls status calls in a row.
//
//   npx tsx bench/status-node.ts [--baseline REV] [--rounds 7] [--calls 10]
//
// Needs the lab (scripts/dev/setup-lab.sh): Docker with Compose v2. The 1-minute load average is
// printed with the figures.
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { NodeFixture } from '../test/support/node-fixture.js';
import { median, ms, table } from './measure.js';
import { scriptsNode } from './scripts-node.js';

const { values } = parseArgs({
  options: {
    baseline: { type: 'string', default: 'HEAD' },
    rounds: { type: 'string', default: '7' },
    calls: { type: 'string', default: '10' },
  },
});
const ROUNDS = Number(values.rounds);
const CALLS = Number(values.calls);

interface Variant {
  readonly label: string;
  readonly fx: NodeFixture;
  readonly cpu: number[];
  readonly wall: number[];
}

async function makeNode(label: string, rev: string | undefined): Promise<Variant> {
  const { fx, sha } = await scriptsNode(label === 'baseline' ? 'snb' : 'snn', rev);
  const up = await fx.run('up', ['--ref', sha]);
  if (up.code !== 0) throw new Error(`up (${label}): ${up.stdout}${up.stderr}`);
  return { label, fx, cpu: [], wall: [] };
}

/** CALLS status calls in a row under GNU time: [cpu ms, wall ms] per call. */
function timedStatus(v: Variant): [number, number] {
  const r = spawnSync(
    '/usr/bin/time',
    [
      '-f',
      '%e %U %S',
      'bash',
      '-c',
      `for ((i = 0; i < ${CALLS}; i++)); do bash "$1" status --root "$2" --node "$3" >/dev/null || exit 1; done`,
      '_',
      v.fx.deployScript(),
      v.fx.root,
      v.fx.node,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`status (${v.label}) exited ${r.status}: ${r.stderr}`);
  const [e, u, s] = (r.stderr.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
  return [((u! + s!) * 1000) / CALLS, (e! * 1000) / CALLS];
}

const baseline = await makeNode('baseline', values.baseline);
const current = await makeNode('this tree', undefined);
const loads: number[] = [];
try {
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which goes first, so a load that rises or falls hits both alike.
    for (const v of round % 2 ? [current, baseline] : [baseline, current]) {
      loads.push(loadavg()[0]!);
      const [cpu, wall] = timedStatus(v);
      v.cpu.push(cpu);
      v.wall.push(wall);
    }
  }
  const fmt = (xs: number[]): string =>
    `${ms(median(xs))} (${ms(Math.min(...xs))}–${ms(Math.max(...xs))})`;
  console.log(
    `\none deploy.sh status of an unchanged node, ${ROUNDS} rounds of ${CALLS} calls, median per call (min–max):\n`,
  );
  console.log(
    table([
      ['scripts', 'CPU', 'wall'],
      ...[baseline, current].map((v) => [
        v.label === 'baseline' ? `${values.baseline}` : v.label,
        fmt(v.cpu),
        fmt(v.wall),
      ]),
    ]),
  );
  console.log(
    `\nload average (1 min) during the rounds: ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`,
  );
} finally {
  baseline.fx.cleanup();
  current.fx.cleanup();
}
