// Pull figures on the lab's registry (Debian's docker-registry on 127.0.0.1, setup-lab.sh) and
// engine: a cold pull (the image's own layer not on the engine; the busybox base layer is), a warm
// pull (everything present: docker asks the registry for the manifest and stops), and asking the
// registry for a tag's digest without pulling (what `homelab updates` runs on the node).
//
//   npx tsx bench/pull.ts [runs=5]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { table, timeIt } from './measure.js';

const REGISTRY = process.env.HOMELAB_LAB_REGISTRY ?? '127.0.0.1:5000';
const runs = Number(process.argv[2] ?? 5);

function docker(args: readonly string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Builds FROM busybox:1.36 with a layer of MIB MiB of random bytes and pushes it. */
function pushImage(mib: number): string {
  const ref = `${REGISTRY}/bench-pull-${mib}m-${Math.random().toString(36).slice(2, 8)}:latest`;
  const dir = mkdtempSync(join(tmpdir(), 'homelab-bench-pull-'));
  try {
    writeFileSync(
      join(dir, 'Dockerfile'),
      `FROM busybox:1.36\nRUN head -c ${mib * 1048576} /dev/urandom > /blob\n`,
    );
    docker(['build', '-q', '-t', ref, dir]);
    docker(['push', ref]);
    return ref;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const rows: string[][] = [['what', 'time']];
  for (const mib of [1, 32]) {
    const ref = pushImage(mib);
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      docker(['rmi', '-f', ref]);
      const t0 = performance.now();
      docker(['pull', '-q', ref]);
      samples.push(performance.now() - t0);
    }
    const sorted = [...samples].sort((a, b) => a - b);
    const med = sorted[Math.floor(sorted.length / 2)] ?? 0;
    const fmt = (x: number): string =>
      x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${Math.round(x)} ms`;
    rows.push([
      `cold pull, a ${mib} MiB layer`,
      `${fmt(med)} (${fmt(sorted[0] ?? 0)}–${fmt(sorted.at(-1) ?? 0)})`,
    ]);
    if (mib === 32) {
      const warm = await timeIt(runs, () => docker(['pull', '-q', ref]));
      rows.push(['warm pull (the image present: manifest only)', warm.text]);
      const ask = await timeIt(runs, () =>
        docker(['manifest', 'inspect', '--insecure', '-v', ref]),
      );
      rows.push(['the tag’s digest, no pull (docker manifest inspect)', ask.text]);
    }
    docker(['rmi', '-f', ref]);
  }
  console.log(`median of ${runs} runs (range)\n`);
  console.log(table(rows));
}

await main();
