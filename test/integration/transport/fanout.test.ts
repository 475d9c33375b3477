// Fan-out to many nodes at once (mapLimit + one runner per node) over real ssh: every node
// answers, in input order, without ssh noise; figures for cold and warm rounds are printed.
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapLimit } from '../../../src/shell/fanout.js';
import { createRunner } from '../../../src/shell/transport/runner.js';
import type { NodeRunner } from '../../../src/shell/transport/types.js';
import { requireLab } from '../../support/lab.js';
import { startSshd, type SshdLab } from '../../support/sshd.js';
import { collect } from './helpers.js';

const ok = requireLab('sshd');
const NODES = 12;

describe.skipIf(!ok)('fan-out over ssh', () => {
  let lab: SshdLab;
  let controlDir: string;
  let runners: NodeRunner[] = [];

  beforeAll(async () => {
    lab = await startSshd();
    controlDir = mkdtempSync('/tmp/hl-fan-');
    runners = Array.from({ length: NODES }, (_, i) =>
      createRunner(lab.node(`node${i}`), { controlDir }),
    );
  });

  afterAll(async () => {
    await Promise.all(runners.map((r) => r.close()));
    await lab?.stop();
    if (controlDir) rmSync(controlDir, { recursive: true, force: true });
  });

  it(`runs one command on ${NODES} nodes in parallel, cold then over open connections`, async () => {
    const round = async (): Promise<{ ms: number; outs: string[][]; errs: string[] }> => {
      const t0 = performance.now();
      const results = await mapLimit(runners, NODES, (r, i) =>
        collect(r, ['echo', `hello from ${i}`]),
      );
      return {
        ms: performance.now() - t0,
        outs: results.map((c) => c.out),
        errs: results.flatMap((c) => c.err),
      };
    };
    const cold = await round();
    const warm = await round();
    for (const r of [cold, warm]) {
      expect(r.outs).toEqual(Array.from({ length: NODES }, (_, i) => [`hello from ${i}`]));
      expect(r.errs).toEqual([]);
    }
    console.log(
      `[transport figures] ${NODES} nodes in parallel on one loopback sshd: cold ${cold.ms.toFixed(0)} ms, over open masters ${warm.ms.toFixed(0)} ms`,
    );
  });
});
