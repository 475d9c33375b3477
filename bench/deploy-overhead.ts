// Benchmark: deploy.sh's own overhead on a no-change deploy + verify of 5 services, excluding the
// time Docker itself takes. A `docker` wrapper placed first on PATH times every docker call the
// script makes; overhead = wall time of the stage - time spent inside docker.
//
//   npx tsx bench/deploy-overhead.ts [--services 5] [--runs 5]
//
// Needs the lab (scripts/dev/setup-lab.sh): Docker engine + Compose v2.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { NodeFixture } from '../test/support/node-fixture.js';
import { median, ms, table } from './measure.js';

const { values } = parseArgs({
  options: { services: { type: 'string', default: '5' }, runs: { type: 'string', default: '5' } },
});
const SERVICES = Number(values.services);
const RUNS = Number(values.runs);

const realDocker = execFileSync('bash', ['-c', 'command -v docker'], { encoding: 'utf8' }).trim();
const shimDir = mkdtempSync(join(tmpdir(), 'hl-docker-timer-'));
const timings = join(shimDir, 'timings');
writeFileSync(
  join(shimDir, 'docker'),
  `#!/usr/bin/env bash
# Times each docker call for bench/deploy-overhead.ts, then exits as docker did.
start=$(date +%s%N)
rc=0
${realDocker} "$@" || rc=$?
printf '%s %s\\n' "$(( ($(date +%s%N) - start) / 1000 ))" "$1 \${2:-}" >> ${timings}
exit "$rc"
`,
);
chmodSync(join(shimDir, 'docker'), 0o755);

const fx = NodeFixture.create('bo');
try {
  const names = Array.from({ length: SERVICES }, (_, i) => `svc${i + 1}`);
  for (const s of names) await fx.addService(s);
  fx.writeManifest();
  const sha = fx.commit('five services');
  fx.cloneNode();
  for (const stage of ['prepare', 'deploy', 'verify']) {
    const out = await fx.run(stage, stage === 'prepare' ? ['--ref', sha] : []);
    if (out.code !== 0) throw new Error(`${stage} failed: ${out.stdout}${out.stderr}`);
  }

  const rows: Array<{ stage: string; wall: number; docker: number; calls: number }> = [];
  for (let i = 0; i < RUNS; i++) {
    for (const stage of ['deploy', 'verify']) {
      writeFileSync(timings, '');
      const out = await fx.run(stage, [], { env: { PATH: `${shimDir}:${process.env.PATH}` } });
      if (out.code !== 0) throw new Error(`${stage} failed: ${out.stdout}${out.stderr}`);
      const calls = readFileSync(timings, 'utf8').trim().split('\n').filter(Boolean);
      const docker = calls.reduce((sum, line) => sum + Number(line.split(' ')[0]) / 1000, 0);
      rows.push({ stage, wall: out.ms, docker, calls: calls.length });
    }
  }
  const pick = (stage: string) => rows.filter((r) => r.stage === stage);
  const line = (label: string, rs: typeof rows) => [
    label,
    ms(median(rs.map((r) => r.wall))),
    ms(median(rs.map((r) => r.docker))),
    String(median(rs.map((r) => r.calls))),
    ms(median(rs.map((r) => r.wall - r.docker))),
  ];
  const both = pick('deploy').map((d, i) => {
    const v = pick('verify')[i]!;
    return {
      stage: 'both',
      wall: d.wall + v.wall,
      docker: d.docker + v.docker,
      calls: d.calls + v.calls,
    };
  });
  console.log(`\nno-change deploy + verify of ${SERVICES} services, ${RUNS} runs, medians:\n`);
  console.log(
    table([
      ['stage', 'wall', 'inside docker', 'docker calls', 'deploy.sh overhead'],
      line('deploy (no change)', pick('deploy')),
      line('verify', pick('verify')),
      line('deploy + verify', both),
    ]),
  );
} finally {
  fx.cleanup();
  rmSync(shimDir, { recursive: true, force: true });
}
