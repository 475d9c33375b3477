// Kills deploy.sh at chosen points, driven by the events themselves (never by a sleep), then runs
// ONE `deploy.sh resume` and reports what the operator would see: for the kill-*.test.ts files
// and bench/soak-kill.ts.
//
// A `docker` shim first on PATH (writeDockerShim) counts and logs every docker invocation of the
// run; on the Nth one (SHIM_KILL_AT) it signals its own process group, which is deploy.sh's: the
// stages call docker through `timeout --foreground`, so deploy.sh, timeout, docker and the compose
// plugin share that group and die together, like a power cut. With SHIM_HANG (a regex on the
// arguments) the shim hangs instead, for the bounds tests; with SHIM_FAIL it fails (exit 1, an
// error text), the first time only with SHIM_FAIL_ONCE. Kills inside a compose recreate come from
// `docker events` on the project (the temp-named container's create, the old one's kill/die/destroy,
// the rename, the start); kills at step boundaries from the run's own `step` records.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { NodeStatusRecord, StatusEvent } from '../../src/core/protocol/events.js';
import { parseNodeLine } from '../../src/core/protocol/parse.js';
import { collect, NodeFixture, type RunOutput } from './node-fixture.js';

export const KILL_ENV = { HOMELAB_VERIFY_TIMEOUT: '40' };

/** Writes DIR/docker, a shim that logs, kills or hangs (see the header), then runs the real docker. */
export function writeDockerShim(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const real = execFileSync('bash', ['-c', 'command -v docker'], { encoding: 'utf8' }).trim();
  const shim = join(dir, 'docker');
  writeFileSync(
    shim,
    `#!/usr/bin/env bash
# test shim: see test/support/kill-harness.ts
n=0
if [[ -n "\${SHIM_LOG:-}" ]]; then
  exec 7>>"\${SHIM_LOG}.lock"
  flock 7
  n=$(( $(cat "\${SHIM_LOG}.count" 2>/dev/null || echo 0) + 1 ))
  echo "\${n}" >"\${SHIM_LOG}.count"
  printf '%s\\t%s\\n' "\${n}" "$*" >>"\${SHIM_LOG}"
  exec 7>&-
fi
if [[ -n "\${SHIM_HANG:-}" && "$*" =~ \${SHIM_HANG} ]]; then
  exec sleep 3600
fi
if [[ -n "\${SHIM_FAIL:-}" && "$*" =~ \${SHIM_FAIL} ]]; then
  if [[ -z "\${SHIM_FAIL_ONCE:-}" || ! -e "\${SHIM_LOG}.failed" ]]; then
    : >"\${SHIM_LOG}.failed"
    echo "error during connect: shim says the engine is restarting" >&2
    exit 1
  fi
fi
if [[ -n "\${SHIM_KILL_AT:-}" && "\${n}" == "\${SHIM_KILL_AT}" ]] ||
  [[ -n "\${SHIM_KILL_MATCH:-}" && "$*" =~ \${SHIM_KILL_MATCH} ]]; then
  printf '%s\\t%s\\n' "\${n}" "$*" >"\${SHIM_LOG}.killed"
  pg="$(ps -o pgid= -p $$ | tr -d ' ')"
  kill -s "\${SHIM_KILL_SIG:-KILL}" -- "-\${pg}"
  exec sleep 3600
fi
exec ${real} "$@"
`,
  );
  chmodSync(shim, 0o755);
  return dir;
}

export interface KillLab {
  readonly fx: NodeFixture;
  readonly shimDir: string;
  /** The commit that is deployed and verified (known-good) before each round. */
  good: string;
  round: number;
}

/** A node with two healthy services (web changes every round, api never), deployed and verified. */
export async function killLab(prefix: string, stopGraceSeconds?: number): Promise<KillLab> {
  const fx = NodeFixture.create(prefix);
  // retries 5: a busy machine's slow healthcheck answers are not what these tests measure
  await fx.addService('web', {
    healthRetries: 5,
    ...(stopGraceSeconds ? { stopGraceSeconds } : {}),
  });
  await fx.addService('api', { healthRetries: 5 });
  fx.writeManifest();
  const good = fx.commit('two healthy services');
  fx.cloneNode();
  for (const [stage, args] of [
    ['prepare', ['--ref', good]],
    ['deploy', []],
    ['verify', []],
  ] as const) {
    const out = await fx.run(stage, args, { env: KILL_ENV });
    if (out.code !== 0) throw new Error(`${stage} failed:\n${out.stdout}${out.stderr}`);
  }
  return { fx, shimDir: writeDockerShim(join(fx.dir, 'shim')), good, round: 0 };
}

/** A new commit changing web's page, prepared on the node; returns its sha and the page text. */
export async function nextCommit(lab: KillLab): Promise<{ sha: string; page: string }> {
  lab.round += 1;
  const page = `web round ${lab.round}\n`;
  writeFileSync(join(lab.fx.serviceDir('web'), 'www', 'index.html'), page);
  const sha = lab.fx.commit(`round ${lab.round}`);
  const prep = await lab.fx.run('prepare', ['--ref', sha]);
  if (prep.code !== 0) throw new Error(`prepare failed:\n${prep.stdout}${prep.stderr}`);
  return { sha, page };
}

export type KillPoint =
  /** before the Nth docker invocation of the run is executed */
  | { readonly kind: 'call'; readonly n: number }
  /** before the first docker invocation whose arguments match the (bash) regex */
  | { readonly kind: 'match'; readonly re: string }
  /** as soon as the run has printed its Nth `step` record */
  | { readonly kind: 'step'; readonly n: number }
  /** as soon as `docker events` shows ACTION on web's project (tmp: on the temp-named container) */
  | { readonly kind: 'event'; readonly action: string; readonly tmp?: boolean };

export function describePoint(p: KillPoint): string {
  if (p.kind === 'event') return `docker event ${p.action}${p.tmp ? ' (temp container)' : ''}`;
  if (p.kind === 'match') return `docker ${p.re}`;
  return `${p.kind} ${p.n}`;
}

export interface KilledRun {
  readonly out: RunOutput;
  /** The run was really killed (it did not finish before the point came). */
  readonly killed: boolean;
  /** For call points: the docker arguments it was killed before. */
  readonly at: string;
  /**
   * Containers the killed run had begun to stop (a `kill` event): the engine finishes that stop
   * by itself (SIGKILL after the grace period) even when compose is dead, so their end is the
   * kill's doing, not the resume's.
   */
  readonly stopping: string[];
}

export function shimEnv(lab: KillLab, log: string): Record<string, string> {
  return {
    ...KILL_ENV,
    PATH: `${lab.shimDir}:${process.env.PATH ?? ''}`,
    SHIM_LOG: log,
  };
}

/** Every docker invocation of a run of STAGE (not killed), as logged by the shim. */
export async function dockerCalls(lab: KillLab, stage: string): Promise<string[]> {
  const log = join(lab.fx.dir, `calls-${Date.now()}-${Math.random().toString(36).slice(2)}.log`);
  const out = await lab.fx.run(stage, [], { env: shimEnv(lab, log) });
  if (out.code !== 0) throw new Error(`${stage} failed:\n${out.stdout}${out.stderr}`);
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t')[1] ?? '');
}

interface DockerEvent {
  readonly Action?: string;
  readonly id?: string;
  readonly time?: number;
  readonly timeNano?: number;
  readonly Actor?: { readonly Attributes?: Readonly<Record<string, string>> };
}

/** `docker events` on one compose project, from now; `stop()` ends it. */
export function watchEvents(project: string, onEvent: (e: DockerEvent) => void): () => void {
  const child = spawn(
    'docker',
    [
      'events',
      '--filter',
      'type=container',
      '--filter',
      `label=com.docker.compose.project=${project}`,
      '--format',
      '{{json .}}',
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  let buf = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let i = buf.indexOf('\n');
    while (i >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        onEvent(JSON.parse(line) as DockerEvent);
      } catch {
        // not JSON
      }
      i = buf.indexOf('\n');
    }
  });
  return () => child.kill('SIGKILL');
}

/** Waits until `docker events` is surely listening (it prints nothing when it starts). */
async function eventsReady(project: string, events: DockerEvent[]): Promise<void> {
  const probe = `${project}-probe-${Math.random().toString(36).slice(2, 8)}`;
  // a labelled throw-away container the filter matches: its create event says we listen
  execFileSync(
    'docker',
    [
      'create',
      '--name',
      probe,
      '--label',
      `com.docker.compose.project=${project}`,
      'busybox:1.36',
      'true',
    ],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 10_000;
  while (!events.some((e) => e.Actor?.Attributes?.name === probe) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  execFileSync('docker', ['rm', '-f', probe], { stdio: 'ignore' });
}

const TMP_NAME = /^[0-9a-f]{12}_/;

/** Runs STAGE and kills its process group with SIGNAL at POINT. */
export async function killedRun(
  lab: KillLab,
  stage: string,
  point: KillPoint,
  signal: 'SIGKILL' | 'SIGTERM',
): Promise<KilledRun> {
  const log = join(lab.fx.dir, `kill-${Date.now()}-${Math.random().toString(36).slice(2)}.log`);
  const env = shimEnv(lab, log);
  const box: { child?: ChildProcess } = {};
  let fired = false;
  const fire = (): void => {
    const pid = box.child?.pid;
    if (fired || pid === undefined) return;
    fired = true;
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  };
  if (point.kind === 'call') {
    env.SHIM_KILL_AT = String(point.n);
    env.SHIM_KILL_SIG = signal.slice(3);
  }
  if (point.kind === 'match') {
    env.SHIM_KILL_MATCH = point.re;
    env.SHIM_KILL_SIG = signal.slice(3);
  }
  const stopping = new Set<string>();
  const seen: DockerEvent[] = [];
  const project = lab.fx.project('web');
  const stop = watchEvents(project, (e) => {
    seen.push(e);
    const name = e.Actor?.Attributes?.name ?? '';
    if (e.Action === 'kill') stopping.add(e.id ?? name);
    if (point.kind !== 'event' || e.Action?.split(':')[0] !== point.action) return;
    if (point.tmp === true && !TMP_NAME.test(name)) return;
    if (point.tmp === false && TMP_NAME.test(name)) return;
    if (name.includes('-probe-')) return;
    fire();
  });
  await eventsReady(project, seen);
  const child = lab.fx.spawn(stage, [], { env });
  box.child = child;
  if (point.kind === 'step') {
    let steps = 0;
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      let i = buf.indexOf('\n');
      while (i >= 0) {
        const l = parseNodeLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
        if (l.kind === 'event' && l.event.type === 'step') {
          steps += 1;
          if (steps === point.n) fire();
        }
        i = buf.indexOf('\n');
      }
    });
  }
  const out = await collect(child, 120_000);
  // the last events of the killed run may still be on their way
  await new Promise((r) => setTimeout(r, 200));
  stop();
  const killedFile = `${log}.killed`;
  const at = existsSync(killedFile) ? readFileSync(killedFile, 'utf8').trim() : '';
  const killed =
    point.kind === 'call' || point.kind === 'match' ? at !== '' : fired && out.code !== 0;
  return { out, killed, at, stopping: [...stopping] };
}

export interface ResumeReport {
  readonly out: RunOutput;
  readonly status: NodeStatusRecord;
  /** Containers of every project of the node: "name state health". */
  readonly containers: string[];
  /** Temp files left in the state folder. */
  readonly tempFiles: string[];
  /** web was running and healthy when resume started. */
  readonly servingBefore: boolean;
  /**
   * The resume stopped a running container before compose had created its replacement
   * (an outage the resume caused); empty when not.
   */
  readonly outage: string;
  readonly page: string;
  /** The temp-named containers present when resume started. */
  readonly leftoversBefore: string[];
}

function nodeContainers(fx: NodeFixture): string[] {
  const out = execFileSync(
    'docker',
    [
      'ps',
      '-a',
      '--filter',
      'label=com.docker.compose.project',
      '--format',
      '{{.Label "com.docker.compose.project"}}\t{{.Names}}\t{{.State}}\t{{.Status}}',
    ],
    { encoding: 'utf8' },
  );
  return out
    .split('\n')
    .filter((l) => l.startsWith(`${fx.node}_`))
    .map((l) => {
      const [, name = '', state = '', st = ''] = l.split('\t');
      const health = /\(healthy\)/.test(st)
        ? 'healthy'
        : /\(unhealthy\)/.test(st)
          ? 'unhealthy'
          : /starting/.test(st)
            ? 'starting'
            : 'none';
      return `${name} ${state} ${health}`;
    })
    .sort();
}

export async function nodeStatus(fx: NodeFixture): Promise<NodeStatusRecord> {
  const r = await fx.run('status');
  const ev = r.events.find((e): e is StatusEvent => e.type === 'status');
  if (!ev) throw new Error(`no status record:\n${r.stdout}${r.stderr}`);
  return ev.status;
}

export function tempFiles(fx: NodeFixture): string[] {
  const dir = join(fx.root, 'state', 'deploy');
  return existsSync(dir)
    ? readdirSync(dir).filter((f) => /^\.(tmp|compose-err|git-out)\./.test(f))
    : [];
}

/** ONE `deploy.sh resume`, watching web's containers with `docker events` meanwhile. */
export async function resumeOnce(lab: KillLab, killed?: KilledRun): Promise<ResumeReport> {
  const { fx } = lab;
  const stopping = new Set(killed?.stopping ?? []);
  const before = nodeContainers(fx);
  const web = before.filter((c) => c.startsWith(`${fx.project('web')}-`));
  const servingBefore =
    stopping.size === 0 && web.length > 0 && web.every((c) => c.endsWith(' running healthy'));
  const leftoversBefore = before.filter((c) => TMP_NAME.test(c));
  const events: DockerEvent[] = [];
  const stop = watchEvents(fx.project('web'), (e) => events.push(e));
  await eventsReady(fx.project('web'), events);
  const out = await fx.run('resume', [], { env: KILL_ENV });
  await new Promise((r) => setTimeout(r, 0));
  stop();
  // A running container stopped (kill/die) before any container was created by this resume.
  let outage = '';
  if (servingBefore) {
    const firstCreate = events.findIndex(
      (e) => e.Action === 'create' && !(e.Actor?.Attributes?.name ?? '').includes('-probe-'),
    );
    const firstStop = events.findIndex((e) => e.Action === 'kill' || e.Action === 'die');
    if (firstStop >= 0 && (firstCreate < 0 || firstStop < firstCreate)) {
      const e = events[firstStop];
      outage = `${e?.Action ?? ''} of ${e?.Actor?.Attributes?.name ?? ''} before compose created its replacement`;
    }
  }
  let page: string;
  try {
    page = await fx.httpGet('web');
  } catch (err) {
    page = `no answer: ${String(err)}`;
  }
  return {
    out,
    status: await nodeStatus(fx),
    containers: nodeContainers(fx),
    tempFiles: tempFiles(fx),
    servingBefore,
    outage,
    page,
    leftoversBefore,
  };
}

/** What is wrong after a kill and one resume, for a run towards SHA serving PAGE; [] when right. */
export function resumeProblems(
  lab: KillLab,
  r: ResumeReport,
  want: { readonly sha: string; readonly page: string },
): string[] {
  const { fx } = lab;
  const p: string[] = [];
  const stderr = r.out.stderr.trim().split('\n').slice(-3).join(' | ');
  if (r.out.code !== 0) p.push(`resume exited ${String(r.out.code)}: ${stderr}`);
  const s = r.status;
  if (s.stage !== 'verify' || s.stageStatus !== 'ok')
    p.push(`state says ${s.stage} ${s.stageStatus}, not verify ok`);
  if (s.knownGood !== want.sha) p.push(`known_good ${s.knownGood}, not ${want.sha}`);
  if (s.deployed !== want.sha) p.push(`deployed ${s.deployed}, not ${want.sha}`);
  const expected = [
    `${fx.project('api')}-api-1 running healthy`,
    `${fx.project('web')}-web-1 running healthy`,
  ];
  if (JSON.stringify(r.containers) !== JSON.stringify(expected))
    p.push(`containers: ${r.containers.join(', ')}`);
  if (r.tempFiles.length > 0) p.push(`temp files left: ${r.tempFiles.join(', ')}`);
  if (r.outage !== '') p.push(`outage caused by resume: ${r.outage}`);
  if (r.page !== want.page) p.push(`web serves ${JSON.stringify(r.page)}`);
  return p;
}
