// What a fleet walk costs SATURN in calls (issue 13), on real parts: three nodes on the `local`
// transport running the real deploy.sh against the real Docker engine, SATURN's real Git repo and
// a real bare remote. `git` is a wrapper first on PATH that logs every `ls-remote` and runs the
// real git; the commands run on nodes are read from the process's command log.
//
// - Planning a wave asks git.remote once per remote and commit ("push first"), not once per node.
// - An unchanged fleet's walk makes exactly one call per node, `deploy.sh status`, and nothing else.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openControl } from '../../../src/shell/control/control.js';
import { walkFleet } from '../../../src/shell/control/walk.js';
import { commandLog } from '../../../src/shell/transport/command-log.js';
import { createLabHomelab, type LabHomelab } from '../../support/lab-homelab.js';
import { requireLab } from '../../support/lab.js';

const ok = requireLab('docker');
const id = Math.random().toString(36).slice(2, 6);
const NODES = ['a', 'b', 'c'].map((n) => `k${n}${id}`);

describe.skipIf(!ok)('the calls of a fleet walk', () => {
  let hl: LabHomelab;
  let bin: string;
  let lsLog: string;
  const savedPath = process.env.PATH;
  const lsRemotes = (): string[] => readFileSync(lsLog, 'utf8').split('\n').filter(Boolean);
  /** Commands run on nodes since `from` (a command log id), as "node: deploy.sh <verb>". */
  const nodeCalls = (from: number): string[] =>
    commandLog
      .list()
      .filter((e) => e.id > from && NODES.includes(e.node))
      .map((e) => `${e.node}: ${/deploy\.sh (\S+)/.exec(e.command)?.[1] ?? e.command}`);
  const lastId = (): number => commandLog.list().at(-1)?.id ?? 0;

  beforeAll(async () => {
    bin = mkdtempSync(join(tmpdir(), 'walk-calls-bin-'));
    lsLog = join(bin, 'ls-remote.log');
    writeFileSync(lsLog, '');
    const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
    writeFileSync(
      join(bin, 'git'),
      [
        '#!/bin/sh',
        `case " $* " in *" ls-remote "*) printf '%s\\n' "$*" >> '${lsLog}' ;; esac`,
        `exec '${realGit}' "$@"`,
        '',
      ].join('\n'),
    );
    chmodSync(join(bin, 'git'), 0o755);
    process.env.PATH = `${bin}:${savedPath ?? ''}`;
    hl = await createLabHomelab({
      transport: 'local',
      nodes: NODES.map((name) => ({ name, wave: 0, services: ['web'] })),
    });
    // A shared machine under load answers a healthcheck late: unhealthy only after a minute.
    for (const n of NODES) {
      const f = join(hl.repoDir, 'hosts', n, 'web', 'docker-compose.yml');
      writeFileSync(
        f,
        readFileSync(f, 'utf8')
          .replace(/^ {6}timeout: .*$/m, '      timeout: 10s')
          .replace(/^ {6}retries: .*$/m, '      retries: 60'),
      );
    }
    hl.commit('healthchecks for a loaded machine');
    for (const n of NODES) hl.bootstrap(n);
  }, 120_000);
  afterAll(async () => {
    process.env.PATH = savedPath;
    await hl?.cleanup();
    rmSync(bin, { recursive: true, force: true });
  });

  it('planning a wave of three nodes asks git.remote once for the commit, and each node runs one up', async () => {
    const control = await openControl({ repoDir: hl.repoDir });
    try {
      const from = lastId();
      const asked: number[] = [];
      const result = await walkFleet({
        control,
        granularity: 'wave',
        confirm: async (q) => {
          asked.push(q.nodes.length);
          // Every node's plan is made by now: the question comes after planning.
          expect(lsRemotes()).toHaveLength(1);
          return true;
        },
      });
      expect(result).toMatchObject({ ok: true, deployed: NODES, failed: [] });
      expect(asked).toEqual([3]);
      expect(lsRemotes()).toHaveLength(1);
      expect(lsRemotes()[0]).toContain(`ls-remote -- ${hl.remote} refs/heads/main`);
      // One status (the walk's probe) and one up per node: the plan and the run reuse that probe.
      expect(nodeCalls(from).sort()).toEqual(
        NODES.flatMap((n) => [`${n}: status`, `${n}: up`]).sort(),
      );
    } finally {
      await control.close();
    }
  }, 180_000);

  it('an unchanged fleet: exactly one status call per node, nothing else, no ls-remote', async () => {
    const control = await openControl({ repoDir: hl.repoDir });
    try {
      const from = lastId();
      const before = lsRemotes().length;
      const result = await walkFleet({
        control,
        granularity: 'wave',
        confirm: () => Promise.reject(new Error('nothing to confirm in an unchanged fleet')),
      });
      expect(result).toMatchObject({ ok: true, upToDate: NODES, deployed: [] });
      expect(nodeCalls(from).sort()).toEqual(NODES.map((n) => `${n}: status`).sort());
      expect(lsRemotes()).toHaveLength(before);
    } finally {
      await control.close();
    }
  }, 60_000);
});
