// The node protocol parser on RECORDED REAL output of scripts/deploy/deploy.sh
// (test/fixtures/protocol/*.txt, captured from a real node: bash, git, Docker + Compose v2),
// plus the edge cases a newer or broken node may produce.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { NodeEvent, NodeLine } from '../../../src/core/protocol/events.js';
import { createLineParser, parseNodeLine } from '../../../src/core/protocol/parse.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'protocol');

function fixture(name: string): NodeLine[] {
  return readFileSync(join(FIXTURES, name), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map(parseNodeLine);
}

function events(name: string): NodeEvent[] {
  return fixture(name).flatMap((l) => (l.kind === 'event' ? [l.event] : []));
}

function summary(e: NodeEvent): string {
  switch (e.type) {
    case 'step':
      return `step ${e.stage}/${e.step}${e.service ? `/${e.service}` : ''}:${e.status}`;
    case 'check':
      return `check ${e.service}/${e.check}:${e.status}`;
    case 'stage-start':
      return `start ${e.stage}`;
    case 'stage-end':
      return `end ${e.stage}:${e.result}`;
    case 'run':
      return `run ${e.stage}`;
    case 'run-end':
      return `run-end ${e.result}:${e.exit}`;
    case 'finding':
      return `finding ${e.id}:${e.severity}`;
    case 'status':
      return `status ${e.status.stage}:${e.status.stageStatus}`;
    case 'history':
      return `history ${e.stage}:${e.result}`;
    case 'confirm':
      return `confirm ${e.run}:${e.result}`;
    case 'image':
      return `image ${e.service}:${e.status}`;
    case 'resources':
      return `resources ${e.node}:${e.containers.length}`;
  }
}

describe('parseNodeLine on recorded deploy.sh output', () => {
  it('every record line of every fixture parses to an event', () => {
    for (const name of readdirSync(FIXTURES).filter((f) => f.endsWith('.txt'))) {
      const lines = fixture(name);
      const unparsed = lines.filter((l) => l.kind === 'log' && l.text.startsWith('@homelab/1 '));
      expect(unparsed, name).toEqual([]);
      expect(
        lines.some((l) => l.kind === 'event'),
        name,
      ).toBe(true);
    }
  });

  it('a resumed pipeline: run, prepare/deploy/verify stages, steps, checks and run-end', () => {
    const evs = events('resume-pipeline-ok.txt');
    const run = evs[0];
    expect(run).toMatchObject({ type: 'run', stage: 'resume', node: 'mt1' });
    expect(run?.type === 'run' && run.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(run?.type === 'run' && run.log).toMatch(/\/logs\/deploy\/deploy_\d{8}T\d{9}Z\.log$/);
    expect(run?.type === 'run' && run.pid).toBeGreaterThan(0);
    const s = evs.map(summary);
    expect(s.filter((x) => x.startsWith('start') || x.startsWith('end'))).toEqual([
      'start prepare',
      'end prepare:ok',
      'start deploy',
      'end deploy:ok',
      'start verify',
      'end verify:ok',
    ]);
    expect(s).toContain('step deploy/compose-up/web:ok');
    expect(s).toContain('check web/http:ok');
    expect(s).toContain('check api/tcp:ok');
    expect(s.at(-1)).toBe('run-end ok:0');
    const up = evs.find((e) => e.type === 'step' && e.step === 'compose-up' && e.status === 'ok');
    expect(up?.type === 'step' && up.durationMs).toBeGreaterThan(0);
    const end = evs.find((e) => e.type === 'stage-end');
    expect(end?.type === 'stage-end' && end.durationMs).toBeGreaterThan(0);
    // timestamps are epoch milliseconds and never go back
    const ts = evs.map((e) => e.ts);
    expect(ts).toEqual([...ts].sort((a, b) => a - b));
    expect(ts[0]).toBeGreaterThan(1.7e12);
  });

  it('a no-change deploy reports each service unchanged', () => {
    expect(events('deploy-unchanged.txt').map(summary)).toContain('step deploy/unchanged/web:skip');
  });

  it('a missing secret: the failed step names the .env path; stage-end carries the error', () => {
    const evs = events('prepare-missing-secret.txt');
    const fail = evs.find((e) => e.type === 'step' && e.status === 'fail');
    expect(fail).toMatchObject({ step: 'secrets', service: 'web' });
    expect(fail?.type === 'step' && fail.detail).toMatch(/\/config\/web\/\.env: missing TOKEN$/);
    expect(evs.find((e) => e.type === 'stage-end')).toMatchObject({
      result: 'failed',
      error: expect.stringContaining('missing TOKEN'),
    });
    expect(evs.at(-1)).toMatchObject({ type: 'run-end', result: 'failed', exit: 1 });
  });

  it('an unhealthy service: failing check and verify-service step name it', () => {
    const s = events('verify-unhealthy.txt').map(summary);
    expect(s).toContain('check web/health:fail');
    expect(s).toContain('step verify/verify-service/web:fail');
    expect(s).toContain('step verify/verify-service/api:ok');
    expect(s.at(-1)).toBe('run-end failed:1');
  });

  it('lock contention ends with exit 3 and names the holder', () => {
    const evs = events('deploy-locked.txt');
    expect(evs.map(summary)).toEqual(['run deploy', 'step deploy/lock:fail', 'run-end failed:3']);
    expect(evs[1]?.type === 'step' && evs[1].detail).toMatch(
      /^locked by pid \d+ \(user \w+\) running verify for [0-9a-f]{40} since /,
    );
  });

  it('SIGTERM: the stage ends failed with the signal and the run is interrupted (143)', () => {
    const evs = events('verify-sigterm.txt');
    expect(evs.at(-2)).toMatchObject({
      type: 'stage-end',
      result: 'failed',
      error: 'interrupted by SIGTERM',
    });
    expect(evs.at(-1)).toMatchObject({ type: 'run-end', result: 'interrupted', exit: 143 });
  });

  it('rollback runs rollback, deploy and verify stages in one run', () => {
    const s = events('rollback-ok.txt').map(summary);
    expect(s.filter((x) => x.startsWith('end'))).toEqual([
      'end rollback:ok',
      'end deploy:ok',
      'end verify:ok',
    ]);
  });

  it('diagnose findings', () => {
    const f = events('diagnose.txt').filter((e) => e.type === 'finding');
    expect(f.length).toBeGreaterThan(3);
    expect(f.every((e) => e.type === 'finding' && e.summary !== '')).toBe(true);
  });

  it('a --detach follower streams the same records as the log', () => {
    const s = events('detach-follow.txt').map(summary);
    expect(s[0]).toBe('run deploy');
    expect(s.at(-1)).toBe('run-end ok:0');
  });

  it('status records map snake_case to the typed record', () => {
    const [ok] = events('status-ok.txt');
    expect(ok?.type).toBe('status');
    const st = ok?.type === 'status' ? ok.status : undefined;
    expect(st).toMatchObject({
      node: 'mt1',
      bootstrapped: true,
      stage: 'deploy',
      stageStatus: 'ok',
      lock: null,
      docker: 'ok',
      runStage: 'deploy',
    });
    expect(st?.repoCommit).toMatch(/^[0-9a-f]{40}$/);
    expect(st?.knownGood).toBe(st?.repoCommit);
    expect(st?.deployed).toBe(st?.repoCommit);
    expect(
      st?.services.map(
        (s) => `${s.name}:${s.project}:${s.state}:${s.health}:${s.containers.length}`,
      ),
    ).toEqual(['web:mt1_web:running:healthy:1', 'api:mt1_api:running:healthy:1']);
    const failed = events('status-verify-failed.txt')[0];
    const fs = failed?.type === 'status' ? failed.status : undefined;
    expect(fs).toMatchObject({ stage: 'verify', stageStatus: 'failed' });
    expect(fs?.error).toContain('web');
    expect(fs?.services.find((s) => s.name === 'web')?.health).toBe('unhealthy');
    const locked = events('status-locked.txt')[0];
    expect(locked?.type === 'status' && locked.status.lock).toMatchObject({
      stage: 'verify',
      user: 'root',
    });
    expect(locked?.type === 'status' && locked.status.lock?.since).toBeGreaterThan(1.7e9);
    const interrupted = events('status-interrupted.txt')[0];
    expect(interrupted?.type === 'status' && interrupted.status).toMatchObject({
      stageStatus: 'interrupted',
      lock: null,
    });
  });

  it('human lines are log lines', () => {
    const logs = fixture('resume-pipeline-ok.txt').filter((l) => l.kind === 'log');
    expect(logs.length).toBeGreaterThan(0);
    expect(
      logs.every((l) => l.kind === 'log' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \w+: /.test(l.text)),
    ).toBe(true);
  });
});

describe('parseNodeLine on what a newer or broken node may send', () => {
  const ts = 1764431489000;
  it.each([
    ['unknown version', `@homelab/2 step {"ts":${ts},"stage":"deploy","step":"x","status":"ok"}`],
    ['unknown event', `@homelab/1 teleport {"ts":${ts}}`],
    ['malformed JSON', `@homelab/1 step {"ts":${ts},"stage":`],
    ['missing ts', '@homelab/1 stage-start {"stage":"deploy"}'],
    ['unknown stage', `@homelab/1 stage-start {"ts":${ts},"stage":"launch"}`],
    ['wrong field type', `@homelab/1 run-end {"ts":${ts},"run":"r","result":"ok","exit":"0"}`],
    ['not a record', 'deploy: compose up solaria_jellyfin'],
    ['JSON array', `@homelab/1 status [1,2]`],
  ])('%s -> log line with the text', (_, text) => {
    expect(parseNodeLine(text)).toEqual({ kind: 'log', text });
  });

  it('ignores unknown fields and keeps known optional ones', () => {
    const l = parseNodeLine(
      `@homelab/1 step {"ts":${ts},"stage":"deploy","step":"compose-up","status":"ok","service":"web","duration_ms":12,"future":{"a":1}}`,
    );
    expect(l).toEqual({
      kind: 'event',
      event: {
        type: 'step',
        ts,
        stage: 'deploy',
        step: 'compose-up',
        status: 'ok',
        service: 'web',
        durationMs: 12,
      },
    });
  });

  it('decodes escapes and strips a trailing CR', () => {
    const l = parseNodeLine(
      `@homelab/1 stage-end {"ts":${ts},"stage":"prepare","result":"failed","duration_ms":5,"error":"a\\"b\\\\c\\nd\\u0001"}\r`,
    );
    expect(l).toEqual({
      kind: 'event',
      event: {
        type: 'stage-end',
        ts,
        stage: 'prepare',
        result: 'failed',
        durationMs: 5,
        error: 'a"b\\c\nd\u0001',
      },
    });
  });

  it('a status record from a node that does not send the optional fields', () => {
    const l = parseNodeLine(`@homelab/1 status {"ts":${ts},"node":"n1","bootstrapped":false}`);
    expect(l).toEqual({
      kind: 'event',
      event: {
        type: 'status',
        ts,
        status: {
          node: 'n1',
          bootstrapped: false,
          repoCommit: '',
          stage: '',
          stageStatus: '',
          run: '',
          target: '',
          deployed: '',
          knownGood: '',
          lock: null,
          services: [],
        },
      },
    });
  });
});

describe('createLineParser', () => {
  it('splits chunks at newlines, whatever the chunk boundaries', () => {
    const text = readFileSync(join(FIXTURES, 'resume-pipeline-ok.txt'), 'utf8');
    const whole: NodeLine[] = [];
    const p1 = createLineParser((l) => whole.push(l));
    p1.push(text);
    p1.end();
    const pieces: NodeLine[] = [];
    const p2 = createLineParser((l) => pieces.push(l));
    for (let i = 0; i < text.length; i += 7) p2.push(text.slice(i, i + 7));
    p2.end();
    expect(pieces).toEqual(whole);
    expect(whole).toHaveLength(text.split('\n').filter((l) => l !== '').length);
  });

  it('delivers a last line without a newline on end()', () => {
    const got: NodeLine[] = [];
    const p = createLineParser((l) => got.push(l));
    p.push('first\nsecond');
    expect(got).toEqual([{ kind: 'log', text: 'first' }]);
    p.end();
    expect(got).toEqual([
      { kind: 'log', text: 'first' },
      { kind: 'log', text: 'second' },
    ]);
  });
});
