// Soak: N rounds (default 50) of a deploy of a changed commit killed at a random point, then ONE
// `deploy.sh resume`; counts the rounds that end healthy (resume exit 0, every container running
// and healthy, state verify ok at the target, no temp files, no outage caused by the resume).
// The points: before any one docker call of the deploy (each compose call among them), and each
// docker event of web's recreate (temp container created, old one killed, died, destroyed, the
// rename, the start); the signal is SIGKILL (3 in 4) or SIGTERM. Real bash, git and Docker.
//
//   npx tsx bench/soak-kill.ts [rounds]
import {
  describePoint,
  dockerCalls,
  killedRun,
  killLab,
  nextCommit,
  resumeOnce,
  resumeProblems,
  type KillPoint,
} from '../test/support/kill-harness.js';

const rounds = Number.parseInt(process.argv[2] ?? '50', 10);
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error('usage: npx tsx bench/soak-kill.ts [rounds]  (rounds: a positive whole number)');
  process.exit(2);
}

const t0 = Date.now();
const lab = await killLab('sk', 2);
let healthy = 0;
let landed = 0;
let leftovers = 0;
const failures: string[] = [];
try {
  await nextCommit(lab);
  const calls = await dockerCalls(lab, 'deploy');
  const points: KillPoint[] = [
    ...calls.map((_, i) => ({ kind: 'call', n: i + 1 }) as const),
    { kind: 'event', action: 'create', tmp: true },
    { kind: 'event', action: 'kill', tmp: false },
    { kind: 'event', action: 'die', tmp: false },
    { kind: 'event', action: 'destroy', tmp: false },
    { kind: 'event', action: 'rename' },
    { kind: 'event', action: 'start' },
  ];
  for (let i = 1; i <= rounds; i++) {
    const point = points[Math.floor(Math.random() * points.length)] ?? points[0];
    if (!point) break;
    const signal = Math.random() < 0.75 ? 'SIGKILL' : 'SIGTERM';
    const want = await nextCommit(lab);
    const k = await killedRun(lab, 'deploy', point, signal);
    if (k.killed) landed += 1;
    const r = await resumeOnce(lab, k);
    if (r.leftoversBefore.length > 0) leftovers += 1;
    const problems = resumeProblems(lab, r, want);
    if (problems.length === 0) healthy += 1;
    else failures.push(`round ${i} (${signal} at ${describePoint(point)}): ${problems.join('; ')}`);
    console.log(
      `round ${i}/${rounds}: ${signal} at ${describePoint(point)}${k.killed ? '' : ' (not reached)'}: ` +
        `${problems.length === 0 ? 'healthy' : `NOT healthy: ${problems.join('; ')}`} ` +
        `(resume ${r.out.ms} ms)`,
    );
  }
} finally {
  lab.fx.cleanup();
}
const secs = Math.round((Date.now() - t0) / 1000);
for (const f of failures) console.log(f);
console.log(
  `soak-kill: ${healthy}/${rounds} rounds healthy after one resume ` +
    `(kill landed in ${landed}, temp-named container left by the kill in ${leftovers}), total ${secs} s`,
);
process.exit(healthy === rounds ? 0 : 1);
