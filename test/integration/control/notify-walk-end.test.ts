// The walk-end notification on the real stack: `homelab deploy --yes` over two nodes, each behind
// its own real sshd on loopback (real deploy.sh, real Docker with Compose v2), with `notify: url:`
// pointing at a real HTTP server on 127.0.0.1 (node:http). A clean walk and a walk in which one
// node fails each send exactly one walk-finished event, with the node lists, the commit, the
// result, who started it and the first finding. The failing node's service prints a secret of
// every shape test/support/secrets-corpus.ts plants (in its log and its healthcheck output, which
// is what the failure reports): no marker of any of them reaches any event.
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';
import { startHttpReceiver, type HttpReceiver } from '../../support/http-receiver.js';
import { createLabHomelab, type LabHomelab } from '../../support/lab-homelab.js';
import { requireLab } from '../../support/lab.js';
import { secretCorpus } from '../../support/secrets-corpus.js';

const ok = requireLab('docker', 'sshd');
const id = Math.random().toString(36).slice(2, 7);
const GOOD = `wg${id}`;
const BAD = `wb${id}`;
const corpus = secretCorpus(id);

interface WalkEvent {
  readonly event: string;
  readonly homelab: string;
  readonly at: string;
  readonly who: string;
  readonly result: string;
  readonly commit: string;
  readonly node?: string;
  readonly finding: string;
  readonly deployed: readonly string[];
  readonly failed: ReadonlyArray<{ readonly node: string; readonly message: string }>;
  readonly notStarted: readonly string[];
}

describe.skipIf(!ok)(
  'notify: every walk ends with one event, with its fields and no secret',
  () => {
    let hl: LabHomelab;
    let receiver: HttpReceiver | undefined;
    const bodies = (): string[] => receiver?.got.map((r) => r.body) ?? [];
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      HOMELAB_OPERATOR: 'walk-operator',
    };
    const deployAll = () => runCli(['deploy', '--yes'], { cwd: hl.repoDir, env });
    const page = (node: string, text: string): void =>
      writeFileSync(join(hl.repoDir, 'hosts', node, 'web', 'www', 'index.html'), `${text}\n`);
    /** The events received since `from`, parsed. */
    const since = (from: number): WalkEvent[] =>
      bodies()
        .slice(from)
        .map((b) => JSON.parse(b) as WalkEvent);

    beforeAll(async () => {
      receiver = await startHttpReceiver();
      const url = receiver.url('/walks');
      hl = await createLabHomelab({
        nodes: [
          { name: GOOD, wave: 0, services: ['web'] },
          { name: BAD, wave: 0, services: ['web'] },
        ],
        connectTimeout: 5,
      });
      hl.bootstrap(GOOD);
      hl.bootstrap(BAD);
      appendFileSync(
        join(hl.repoDir, 'inventory', 'topology.yaml'),
        `notify:\n  url: ${url}\n  timeoutSeconds: 5\n`,
      );
      hl.commit('notify: the walks');
    }, 120_000);

    afterAll(async () => {
      await hl?.cleanup();
      await receiver?.close();
    });

    it('a clean walk: one walk-finished event, ok, both nodes deployed at the commit', async () => {
      page(GOOD, 'good v1');
      page(BAD, 'bad v1');
      const head = hl.commit('v1 on both');
      const from = bodies().length;
      const r = await deployAll();
      expect(r.code, r.stderr).toBe(0);
      const events = since(from);
      expect(events.map((e) => e.event)).toEqual(['walk-finished']);
      const [ev] = events;
      expect(ev).toMatchObject({
        homelab: 'lab',
        who: 'walk-operator',
        result: 'ok',
        commit: head,
        finding: '',
        failed: [],
        notStarted: [],
      });
      expect([...(ev?.deployed ?? [])].sort()).toEqual([GOOD, BAD].sort());
      expect(ev?.node).toBeUndefined();
      expect(String(ev?.at)).toMatch(/^\d{4}-\d\d-\d\dT/);
    }, 240_000);

    it('a walk with a failing node: one walk-finished event naming it and its first finding, no secret in any event', async () => {
      // The failing node's service prints every planted secret and its healthcheck fails, printing
      // two of them (the failure's report quotes the healthcheck's output).
      const port = hl.ports.get(`${BAD}/web`) ?? 0;
      hl.writeEnv(BAD, 'web', corpus.envText);
      writeFileSync(
        join(hl.rootOf(BAD), 'config', 'web', 'docker-compose.override.yml'),
        corpus.override,
      );
      writeFileSync(
        join(hl.repoDir, 'hosts', BAD, 'web', 'docker-compose.yml'),
        corpus.compose(port, false),
      );
      page(GOOD, 'good v2');
      const head = hl.commit('v2: the bad node prints its secrets and fails its healthcheck');
      const from = bodies().length;
      const r = await deployAll();
      expect(r.code, r.stderr).toBe(1);
      const events = since(from);
      const walkEnds = events.filter((e) => e.event === 'walk-finished');
      expect(walkEnds).toHaveLength(1);
      const [ev] = walkEnds;
      expect(ev).toMatchObject({
        homelab: 'lab',
        who: 'walk-operator',
        result: 'failed',
        commit: head,
        node: BAD,
        deployed: [GOOD],
        notStarted: [],
      });
      expect(ev?.failed.map((f) => f.node)).toEqual([BAD]);
      // The first finding: the failed node's message, the same text the walk's failure reports.
      expect(ev?.finding).toBe(ev?.failed[0]?.message);
      expect(ev?.finding.length).toBeGreaterThan(10);
      // The node's own stage-failed event came too (once), and nothing else.
      expect(events.filter((e) => e.event === 'stage-failed').map((e) => e.node)).toEqual([BAD]);
      expect(events).toHaveLength(2);
      // No planted secret, in any shape, in any event or in what the operator saw.
      const leaks = [
        ...bodies().flatMap((b, i) => corpus.leaks(`event ${i}`, b)),
        ...corpus.leaks('deploy stdout', r.stdout),
        ...corpus.leaks('deploy stderr', r.stderr),
      ];
      expect(leaks).toEqual([]);
    }, 240_000);
  },
);
