// Every docker and git call on the node is bounded. A `docker` shim first on PATH hangs for chosen
// subcommands (test/support/kill-harness.ts); each stage must end within its bound, exit 1, and say
// "docker did not answer within N s during <what>" in its failed step; status must answer within a
// few seconds and say docker does not answer; a Git remote that accepts the TCP connection and
// never answers bounds prepare's fetch. After each, the lock is free at once (no orphan holds it).
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeEvent } from '../../../src/core/protocol/events.js';
import { requireLab } from '../../support/lab.js';
import {
  KILL_ENV,
  killLab,
  nextCommit,
  nodeStatus,
  shimEnv,
  type KillLab,
} from '../../support/kill-harness.js';

const ok = requireLab('docker');

function failedSteps(events: readonly NodeEvent[]): string[] {
  return events.flatMap((e) =>
    e.type === 'step' && e.status === 'fail' ? [`${e.step}: ${e.detail ?? ''}`] : [],
  );
}

describe.skipIf(!ok)('a hung docker or git ends each stage within its bound', () => {
  let lab: KillLab;
  let n = 0;
  const hung = (re: string, extra: Record<string, string> = {}): Record<string, string> => ({
    ...shimEnv(lab, join(lab.fx.dir, `hang-${(n += 1)}.log`)),
    SHIM_HANG: re,
    HOMELAB_DOCKER_TIMEOUT: '2',
    HOMELAB_COMPOSE_UP_TIMEOUT: '3',
    ...extra,
  });

  beforeAll(async () => {
    lab = await killLab('bh');
  }, 120_000);

  afterAll(() => lab?.fx.cleanup());

  async function lockIsFree(): Promise<void> {
    const u = await lab.fx.run('unlock');
    expect(u.stdout).toContain('is free');
  }

  it.each([
    [
      'docker version',
      '^version',
      'docker: docker does not answer: docker did not answer within 2 s during docker version',
    ],
    [
      'compose version',
      '^compose version',
      'docker: docker did not answer within 2 s during compose version',
    ],
    ['compose config', '^compose .* config', 'did not answer within 2 s during compose config of '],
  ])('prepare with a hung %s', async (_what, re, message) => {
    const sha = lab.fx.commit(`prepare ${re}`);
    const r = await lab.fx.run('prepare', ['--ref', sha], { env: hung(re) });
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(15_000);
    expect(failedSteps(r.events).join('\n')).toContain(message);
    expect(r.events.at(-1)).toMatchObject({ type: 'run-end', result: 'failed', exit: 1 });
    await lockIsFree();
  });

  it('deploy with a hung compose up', async () => {
    await nextCommit(lab);
    const r = await lab.fx.run('deploy', [], { env: hung('^compose .* up -d') });
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(20_000);
    expect(failedSteps(r.events)).toEqual([
      `compose-up: docker did not answer within 3 s during compose up of ${lab.fx.project('web')}`,
    ]);
    expect((await nodeStatus(lab.fx)).stageStatus).toBe('failed');
    await lockIsFree();
    // docker answers again: one resume finishes
    const again = await lab.fx.run('resume', [], { env: KILL_ENV });
    expect(again.code, again.stdout + again.stderr).toBe(0);
  });

  it('verify with a hung docker ps, even with a long HOMELAB_VERIFY_TIMEOUT', async () => {
    const r = await lab.fx.run('verify', [], {
      env: hung('^ps', { HOMELAB_VERIFY_TIMEOUT: '120' }),
    });
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(15_000);
    expect(failedSteps(r.events)[0]).toBe(
      'verify-service: docker did not answer within 2 s during docker ps',
    );
    await lockIsFree();
  });

  it('rollback with a hung compose up', async () => {
    await nextCommit(lab);
    expect((await lab.fx.run('deploy', [], { env: KILL_ENV })).code).toBe(0);
    const r = await lab.fx.run('rollback', [], { env: hung('^compose .* up -d') });
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(20_000);
    expect(failedSteps(r.events)).toEqual([
      `compose-up: docker did not answer within 3 s during compose up of ${lab.fx.project('web')}`,
    ]);
    await lockIsFree();
    const again = await lab.fx.run('resume', [], { env: KILL_ENV });
    expect(again.code, again.stdout + again.stderr).toBe(0);
  });

  it('status answers within a few seconds and says docker does not answer', async () => {
    const r = await lab.fx.run('status', [], { env: hung('^ps') });
    expect(r.code).toBe(0);
    expect(r.ms).toBeLessThan(6_000);
    const st = r.events.find((e) => e.type === 'status');
    expect(st?.type === 'status' && st.status.docker).toBe('unavailable');
    expect(r.stdout).toContain('"docker_error":"docker does not answer (no reply within 3 s)"');
  });

  it('a transient failure of `docker compose version` is retried, a lasting one says its text', async () => {
    const sha = lab.fx.commit('compose version flakes');
    // The node caches compose's version (state/docker-versions): without it, compose is asked.
    const uncached = (): void => rmSync(lab.fx.stateFile('docker-versions'), { force: true });
    uncached();
    const once = await lab.fx.run('prepare', ['--ref', sha], {
      env: { ...hung('^$'), SHIM_FAIL: '^compose version', SHIM_FAIL_ONCE: '1' },
    });
    expect(once.code, once.stdout + once.stderr).toBe(0);
    expect(once.stderr).toContain('docker compose version failed (exit 1)');
    uncached();
    const always = await lab.fx.run('prepare', ['--ref', sha], {
      env: { ...hung('^$'), SHIM_FAIL: '^compose version' },
    });
    expect(always.code).toBe(1);
    const fail = failedSteps(always.events).join('\n');
    expect(fail).toContain('shim says the engine is restarting');
    expect(fail).not.toContain('missing');
  });

  describe('a Git remote that accepts the connection and never answers', () => {
    let server: Server;
    const sockets: Socket[] = [];
    let port = 0;
    let origin = '';

    beforeAll(async () => {
      server = createServer((s) => sockets.push(s)); // reads nothing, says nothing
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const a = server.address();
      port = typeof a === 'object' && a ? a.port : 0;
      origin = execFileSync('git', ['-C', lab.fx.repo, 'remote', 'get-url', 'origin'], {
        encoding: 'utf8',
      }).trim();
    });

    afterAll(() => {
      execFileSync('git', ['-C', lab.fx.repo, 'remote', 'set-url', 'origin', origin]);
      for (const s of sockets) s.destroy();
      server.close();
    });

    it("bounds prepare's fetch", async () => {
      const sha = lab.fx.commit('not fetched yet');
      execFileSync('git', [
        '-C',
        lab.fx.repo,
        'remote',
        'set-url',
        'origin',
        `git://127.0.0.1:${port}/x`,
      ]);
      const r = await lab.fx.run('prepare', ['--ref', sha], {
        env: { HOMELAB_GIT_TIMEOUT: '3' },
      });
      expect(r.code).toBe(1);
      expect(r.ms).toBeLessThan(15_000);
      expect(sockets.length).toBeGreaterThan(0);
      expect(failedSteps(r.events)).toEqual([
        `fetch: git fetch origin failed and ${sha} is not present locally: git did not answer within 3 s during fetch in ${lab.fx.repo}`,
      ]);
      await lockIsFree();
    });
  });
});
