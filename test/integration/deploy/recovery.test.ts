// deploy.sh when things go wrong on a real node: an unhealthy service, rollback to known-good,
// SIGKILL mid-deploy, resume, lock contention and unlock --force, a dropped follower (--detach).
// Each test has its own node (fixture) and waits for conditions, never for a fixed time.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type {
  NodeEvent,
  NodeStatusRecord,
  StatusEvent,
} from '../../../src/core/protocol/events.js';
import { parseNodeLine } from '../../../src/core/protocol/parse.js';
import { requireLab } from '../../support/lab.js';
import { watchEvents } from '../../support/kill-harness.js';
import { collect, NodeFixture } from '../../support/node-fixture.js';

const ok = requireLab('docker');
const ENV = { HOMELAB_VERIFY_TIMEOUT: '40' };

/** Resolves once a line of the child's stdout satisfies the predicate. */
function waitForLine(
  child: ChildProcess,
  pred: (line: string) => boolean,
  timeoutMs = 30_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(
      () => reject(new Error(`no matching line within ${timeoutMs} ms; got:\n${buf}`)),
      timeoutMs,
    );
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      const hit = buf.split('\n').find(pred);
      if (hit !== undefined) {
        clearTimeout(timer);
        resolve(hit);
      }
    });
  });
}

function isEvent(
  line: string,
  type: NodeEvent['type'],
  extra: (e: NodeEvent) => boolean = () => true,
): boolean {
  const l = parseNodeLine(line);
  return l.kind === 'event' && l.event.type === type && extra(l.event);
}

async function status(fx: NodeFixture): Promise<NodeStatusRecord> {
  const r = await fx.run('status');
  expect(r.code).toBe(0);
  return (r.events[0] as StatusEvent).status;
}

function head(fx: NodeFixture): string {
  return execFileSync('git', ['-C', fx.repo, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
}

/** Children of PID named COMM (from /proc, no fixed wait). */
function childNamed(pid: number, comm: string): boolean {
  try {
    const out = execFileSync('ps', ['-o', 'comm=', '--ppid', String(pid)], { encoding: 'utf8' });
    return out.split('\n').some((l) => l.trim() === comm);
  } catch {
    return false; // no child at all
  }
}

async function until(
  cond: () => boolean | Promise<boolean>,
  what: string,
  ms = 30_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A node with web and api deployed and verified at `good`. */
async function healthyNode(prefix: string): Promise<{ fx: NodeFixture; good: string }> {
  const fx = NodeFixture.create(prefix);
  fixtures.push(fx);
  await fx.addService('web');
  await fx.addService('api');
  fx.writeManifest();
  const good = fx.commit('two healthy services');
  fx.cloneNode();
  for (const [stage, args] of [
    ['prepare', ['--ref', good]],
    ['deploy', []],
    ['verify', []],
  ] as const) {
    const out = await fx.run(stage, args, { env: ENV });
    expect(out.code, out.stdout + out.stderr).toBe(0);
  }
  return { fx, good };
}

/** healthyNode, then a commit whose web healthcheck fails, deployed, verify failed. */
async function failedVerifyNode(
  prefix: string,
): Promise<{ fx: NodeFixture; good: string; bad: string }> {
  const { fx, good } = await healthyNode(prefix);
  await fx.addService('web', { healthPath: '/missing.html' });
  const bad = fx.commit('web healthcheck broken');
  expect((await fx.run('prepare', ['--ref', bad])).code).toBe(0);
  expect((await fx.run('deploy')).code).toBe(0);
  const ver = await fx.run('verify', [], { env: ENV });
  expect(ver.code).toBe(1);
  return { fx, good, bad };
}

const fixtures: NodeFixture[] = [];

describe.skipIf(!ok)('deploy.sh recovery on a real node', { timeout: 180_000 }, () => {
  afterAll(() => {
    for (const fx of fixtures) fx.cleanup();
  });

  it('nothing to resume on a fresh node', async () => {
    const fx = NodeFixture.create('rc');
    fixtures.push(fx);
    await fx.addService('web');
    fx.writeManifest();
    fx.commit('one service');
    fx.cloneNode();
    const r = await fx.run('resume');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nothing to resume');
  });

  it('an unhealthy service fails verify, naming the service', async () => {
    const { fx, good } = await healthyNode('rc');
    await fx.addService('web', { healthPath: '/missing.html' });
    const bad = fx.commit('web healthcheck broken');
    expect((await fx.run('prepare', ['--ref', bad])).code).toBe(0);
    expect((await fx.run('deploy')).code).toBe(0);
    const ver = await fx.run('verify', [], { env: ENV });
    expect(ver.code).toBe(1);
    const failed = ver.events.flatMap((e) =>
      e.type === 'check' && e.status === 'fail' ? [e.service] : [],
    );
    expect(failed).toEqual(['web']);
    const end = ver.events.find((e) => e.type === 'stage-end');
    expect(end).toMatchObject({ stage: 'verify', result: 'failed' });
    expect(end?.type === 'stage-end' && end.error).toMatch(/^web: /);
    expect(ver.stderr).toContain('web');
    const st = await status(fx);
    expect(st).toMatchObject({
      stage: 'verify',
      stageStatus: 'failed',
      knownGood: good,
      deployed: bad,
    });
    expect(st.services.find((s) => s.name === 'web')?.health).toBe('unhealthy');
  });

  it('rollback --dry-run says what it would do and changes nothing', async () => {
    const { fx, good } = await failedVerifyNode('rc');
    const before = {
      head: head(fx),
      ids: fx.containerIds('web'),
      state: fx.readState('current_stage'),
      logs: fx.logFiles(),
    };
    const r = await fx.run('rollback', ['--dry-run']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`would run: git -C ${fx.repo} checkout --detach ${good}`);
    expect({
      head: head(fx),
      ids: fx.containerIds('web'),
      state: fx.readState('current_stage'),
      logs: fx.logFiles(),
    }).toEqual(before);
  });

  it('rollback checks out known-good, deploys and verifies it: the old containers run again', async () => {
    const { fx, good } = await failedVerifyNode('rc');
    const r = await fx.run('rollback', [], { env: ENV });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(
      r.events
        .filter((e) => e.type === 'stage-end')
        .map((e) => e.type === 'stage-end' && `${e.stage}:${e.result}`),
    ).toEqual(['rollback:ok', 'deploy:ok', 'verify:ok']);
    expect(head(fx)).toBe(good);
    const st = await status(fx);
    expect(st).toMatchObject({
      repoCommit: good,
      deployed: good,
      knownGood: good,
      stage: 'verify',
      stageStatus: 'ok',
    });
    expect(st.services.map((s) => `${s.name}:${s.state}:${s.health}`)).toEqual([
      'web:running:healthy',
      'api:running:healthy',
    ]);
    const test = execFileSync(
      'docker',
      ['inspect', '--format', '{{json .Config.Healthcheck.Test}}', `${fx.project('web')}-web-1`],
      { encoding: 'utf8' },
    );
    expect(test).not.toContain('missing.html');
  });

  it('resume after SIGKILL mid-deploy finishes the job', async () => {
    const { fx, good } = await healthyNode('rc');
    // web now waits 4 s for a gate container: compose up blocks meanwhile
    await fx.addService('web', { gateSeconds: 4 });
    writeFileSync(join(fx.serviceDir('web'), 'www', 'index.html'), 'web v3\n');
    writeFileSync(join(fx.serviceDir('api'), 'www', 'index.html'), 'api v3\n');
    const c3 = fx.commit('v3 pages');
    expect((await fx.run('prepare', ['--ref', c3])).code).toBe(0);
    // inside `compose up` of web, waiting for its gate: the gate container's start event says so
    let child: ChildProcess | undefined;
    const gateStarted = new Promise<void>((resolve) => {
      const stop = watchEvents(fx.project('web'), (e) => {
        if (e.Action === 'start' && (e.Actor?.Attributes?.name ?? '').endsWith('-gate-1')) {
          stop();
          resolve();
        }
      });
      child = fx.spawn('deploy');
    });
    if (!child) throw new Error('deploy did not start');
    const done = collect(child, 60_000);
    await gateStarted;
    process.kill(-(child.pid ?? 0), 'SIGKILL'); // bash and compose die at once, like a power cut
    const killed = await done;
    expect(killed.signal).toBe('SIGKILL');
    const st = await status(fx);
    expect(st).toMatchObject({
      stage: 'deploy',
      stageStatus: 'interrupted',
      lock: null,
      deployed: good,
    });

    const r = await fx.run('resume', [], { env: ENV });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(
      r.events
        .filter((e) => e.type === 'stage-start')
        .map((e) => e.type === 'stage-start' && e.stage),
    ).toEqual(['deploy', 'verify']);
    expect(await fx.httpGet('web')).toBe('web v3\n');
    expect(await fx.httpGet('api')).toBe('api v3\n');
    expect(await status(fx)).toMatchObject({
      stage: 'verify',
      stageStatus: 'ok',
      deployed: c3,
      knownGood: c3,
    });
  });

  it('resume after a failed prepare re-runs prepare, deploy and verify', async () => {
    const { fx } = await healthyNode('rc');
    fx.writeManifest({ extra: ['secret\tapi\tAPI_KEY'] });
    const c4 = fx.commit('api needs a key');
    const prep = await fx.run('prepare', ['--ref', c4]);
    expect(prep.code).toBe(1);
    expect(prep.stderr).toContain(`${join(fx.root, 'config', 'api', '.env')}: missing API_KEY`);
    fx.writeEnv('api', 'API_KEY=k-123456\n');
    const r = await fx.run('resume', [], { env: ENV });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(
      r.events
        .filter((e) => e.type === 'stage-end')
        .map((e) => e.type === 'stage-end' && `${e.stage}:${e.result}`),
    ).toEqual(['prepare:ok', 'deploy:ok', 'verify:ok']);
    expect((await status(fx)).knownGood).toBe(c4);
  });

  it('a second run exits 3 naming the holder; unlock --force stops it; resume finishes', async () => {
    const { fx } = await healthyNode('rc');
    // web stays `starting` until www/ready.html exists: verify waits for it, holding the lock
    await fx.addService('web', { healthPath: '/ready.html', startPeriod: '120s' });
    const c6 = fx.commit('web waits for ready.html');
    expect((await fx.run('prepare', ['--ref', c6])).code).toBe(0);
    expect((await fx.run('deploy')).code).toBe(0);

    // a holder killed by SIGKILL (its children live on) frees the lock at once
    const dead = fx.spawn('verify', [], { env: ENV });
    await waitForLine(dead, (l) => isEvent(l, 'stage-start'));
    // inside verify's wait loop: its wait for docker events (timeout docker events) or its nap
    await until(
      () => childNamed(dead.pid ?? 0, 'timeout') || childNamed(dead.pid ?? 0, 'sleep'),
      "verify's wait loop",
    );
    const exited = new Promise((r) => dead.once('exit', r));
    process.kill(dead.pid ?? 0, 'SIGKILL');
    await exited;
    const free = await fx.run('unlock');
    expect(free.stdout).toContain('is free');
    expect(free.code).toBe(0);

    const holder = fx.spawn('verify', [], { env: ENV });
    const holderDone = collect(holder, 60_000);
    await waitForLine(holder, (l) => isEvent(l, 'stage-start'));
    process.kill(holder.pid ?? 0, 'SIGSTOP'); // a live holder that makes no progress

    const second = await fx.run('deploy');
    expect(second.code).toBe(3);
    expect(second.stderr).toContain(`pid ${holder.pid} (user `);
    expect(second.stderr).toContain('running verify');
    expect(second.events.at(-1)).toMatchObject({ type: 'run-end', result: 'failed', exit: 3 });
    expect((await status(fx)).lock).toMatchObject({ pid: holder.pid, stage: 'verify' });

    const unlock = await fx.run('unlock');
    expect(unlock.code).toBe(3);
    expect(unlock.stdout).toContain(`pid ${holder.pid}`);
    const forced = await fx.run('unlock', ['--force']);
    expect(forced.code, forced.stdout + forced.stderr).toBe(0);
    const h = await holderDone;
    expect(h.code).toBe(143);
    expect(h.events.at(-1)).toMatchObject({ type: 'run-end', result: 'interrupted', exit: 143 });
    expect(await status(fx)).toMatchObject({
      stage: 'verify',
      stageStatus: 'interrupted',
      lock: null,
    });

    // the fix is committed on SATURN (a node deploys only commits), prepared, then resumed
    writeFileSync(join(fx.serviceDir('web'), 'www', 'ready.html'), 'ready\n');
    const c7 = fx.commit('web ready');
    expect((await fx.run('prepare', ['--ref', c7])).code).toBe(0);
    const r = await fx.run('resume', [], { env: ENV });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect((await status(fx)).stageStatus).toBe('ok');
  });

  it('--detach: the stage goes on when the follower is killed, and attach shows its end', async () => {
    const { fx } = await healthyNode('rc');
    writeFileSync(join(fx.serviceDir('web'), 'www', 'index.html'), 'web v5\n');
    const c5 = fx.commit('v5');
    expect((await fx.run('prepare', ['--ref', c5])).code).toBe(0);
    const follower = fx.spawn('deploy', ['--detach']);
    const followerDone = collect(follower, 30_000);
    const first = await waitForLine(follower, (l) => l.startsWith('@homelab/'));
    expect(isEvent(first, 'run')).toBe(true);
    process.kill(-(follower.pid ?? 0), 'SIGHUP'); // the ssh connection drops
    const f = await followerDone;
    expect(f.code).toBe(129);
    const runEv = parseNodeLine(first);
    const runId = runEv.kind === 'event' && runEv.event.type === 'run' ? runEv.event.run : '';

    // SATURN re-attaches at once, past the line it saw, and follows the run to its end
    const again = await fx.run('attach', ['--run', runId, '--from-line', '2']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.events[0]?.type).not.toBe('run');
    expect(again.events.at(-1)).toMatchObject({
      type: 'run-end',
      run: runId,
      result: 'ok',
      exit: 0,
    });
    expect((await fx.run('attach', ['--run', 'no-such-run'])).code).toBe(4);

    let st = await status(fx);
    await until(async () => {
      st = await status(fx);
      return st.stageStatus !== 'running' && st.lock === null;
    }, 'the detached run to end');
    expect(st).toMatchObject({ stage: 'deploy', stageStatus: 'ok', deployed: c5 });
    expect(await fx.httpGet('web')).toBe('web v5\n');

    const att = await fx.run('attach', ['--from-line', '1']);
    expect(att.code).toBe(0);
    expect(att.events[0]?.type).toBe('run');
    expect(att.events.at(-1)).toMatchObject({ type: 'run-end', result: 'ok', exit: 0 });
    const tail = await fx.run('attach', ['--from-line', String(att.lines.length)]);
    expect(tail.lines).toHaveLength(1);
    expect(tail.events[0]?.type).toBe('run-end');
  });
});
