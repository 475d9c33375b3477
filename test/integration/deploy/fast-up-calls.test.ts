// What one node's `deploy.sh up` of a changed service costs in docker calls, counted by the docker
// shim (test/support/kill-harness.ts) on real bash, the real engine and Compose v2: the compose
// version comes from the node's cache (keyed by the docker and plugin binaries), `compose config`
// runs once per service and its output gives the images too (no `config --images`), one `docker
// ps` listing serves deploy's look, leftover clean and drift record, and the same listing verify's
// first look and the image record (a new one only after compose changed containers and per health
// change), and the image cleanup asks docker nothing when the kept images did not change. A
// regression in any of these changes the counts and fails here. The same up's own processes are
// counted too, from bash's xtrace (BASH_ENV): the bash processes deploy.sh forks (subshells),
// one `git status` per run, one fork per durable state write (a small sh doing fsync, rename,
// folder fsync), and no mktemp, date or direct sync/mv.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireLab } from '../../support/lab.js';
import { writeDockerShim } from '../../support/kill-harness.js';
import { NodeFixture, REPO_ROOT } from '../../support/node-fixture.js';

const ok = requireLab('docker');
const ENV = { HOMELAB_VERIFY_TIMEOUT: '60' };
/** The most bash processes one up of this fixture may run (measured 78-79; 164 before c440d6a). */
const BASH_PROCESSES = 82;

/** The docker arguments of each call, in order, with the events wait and its new look dropped. */
function calls(log: string): string[] {
  const all = readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t')[1] ?? '');
  const out: string[] = [];
  for (let i = 0; i < all.length; i++) {
    // verify waits for a health change, then looks again: one `docker ps` per change
    if (all[i]!.startsWith('events ')) {
      if (all[i + 1]?.startsWith('ps ')) i += 1;
      continue;
    }
    out.push(all[i]!);
  }
  return out;
}

/** A call's kind: `compose config`, `compose up`, `ps`, `image inspect`... */
function kind(call: string): string {
  const words = call.split(' ');
  if (words[0] !== 'compose') return words[0] === 'image' ? `image ${words[1]}` : words[0]!;
  if (call.includes(' config --images')) return 'compose config --images';
  if (/ config$/.test(call)) return 'compose config';
  if (/ up -d/.test(call)) return 'compose up';
  return `compose ${words[1] === 'version' ? 'version' : call}`;
}

describe.skipIf(!ok)('one up of a changed service: its docker calls', () => {
  let fx: NodeFixture;
  let shim: string;
  let n = 0;
  let round = 0;

  function shimEnv(): { log: string; env: Record<string, string> } {
    n += 1;
    const log = join(fx.dir, `up-calls-${n}.log`);
    return { log, env: { ...ENV, PATH: `${shim}:${process.env.PATH ?? ''}`, SHIM_LOG: log } };
  }

  /** A commit changing web's compose file (a label): compose recreates web, api is unchanged. */
  function changeWeb(): string {
    round += 1;
    const file = join(fx.serviceDir('web'), 'docker-compose.yml');
    const text = readFileSync(file, 'utf8').replace(/\n {4}labels:\n.*\n/, '\n');
    writeFileSync(
      file,
      text.replace(
        '    image: busybox:1.36\n',
        `    image: busybox:1.36\n    labels:\n      round: "${round}"\n`,
      ),
    );
    return fx.commit(`web round ${round}`);
  }

  async function up(sha: string): Promise<string[]> {
    const { log, env } = shimEnv();
    const r = await fx.run('up', ['--ref', sha], { env, timeoutMs: 150_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const ends = r.events.flatMap((e) =>
      e.type === 'stage-end' ? [`${e.stage} ${e.result}`] : [],
    );
    expect(ends).toEqual(['prepare ok', 'deploy ok', 'verify ok']);
    return calls(log);
  }

  beforeAll(async () => {
    fx = NodeFixture.create('fup');
    await fx.addService('web', { healthRetries: 30 });
    await fx.addService('api', { healthRetries: 30 });
    fx.writeManifest({ extra: ['secret\tapi\tAPI_TOKEN'] });
    fx.writeEnv('api', 'API_TOKEN=abcdef123456\n');
    const first = fx.commit('two services');
    fx.cloneNode();
    shim = writeDockerShim(join(fx.dir, 'shim'));
    // the first up fills the node's caches (compose version, image cleanup) through the shim
    await up(first);
  }, 200_000);

  afterAll(() => fx?.cleanup());

  it('the second up: the cached compose version, a config per service, three listings, no image or cleanup call in verify', async () => {
    const c = await up(changeWeb());
    expect(c.map(kind), c.join('\n')).toEqual([
      // prepare: the engine answers; compose validates and hashes each service (its images too)
      'version',
      'compose config',
      'compose config',
      // deploy: one listing for what runs, the leftover clean and drift; web's image is local
      'ps',
      'image inspect',
      'compose up',
      // the drift record's new listing after compose, which verify's first look reads
      'ps',
      // verify's image record: the containers; their one image (busybox) is what deploy's look
      // read, with no pull since: not asked again (cleanup: same images, no call)
      'inspect',
    ]);
    expect(c.filter((x) => / up -d/.test(x))[0]).toContain(`-p ${fx.project('web')} `);
  }, 200_000);

  it("the second up's own processes: bash forks, one git status, one fork per state write", async () => {
    const dir = join(fx.dir, `xtrace-${round}`);
    execFileSync('mkdir', ['-p', dir]);
    const bashEnv = join(dir, 'bash-env.sh');
    // every bash deploy.sh starts (itself, the detached child, each subshell) traces to its own
    // file, on an fd of its own (stderr, which the stages capture, stays clean)
    writeFileSync(
      bashEnv,
      [
        `exec 19>>"${dir}/xt.$$"`,
        'BASH_XTRACEFD=19',
        "PS4='+${BASHPID} ${BASH_SOURCE[0]##*/} '",
        'set -x',
        '',
      ].join('\n'),
    );
    const { env } = shimEnv();
    const r = await fx.run('up', ['--ref', changeWeb()], {
      env: { ...env, BASH_ENV: bashEnv },
      timeoutMs: 150_000,
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const ours =
      /^(deploy|act|compose|drift|follow|images|lock|manifest|protocol|redact|run|stages|state|status|verify|watchdog|diagnose|logs|history|resources)\.sh$/;
    const lines: { pid: string; cmd: string }[] = [];
    for (const f of readdirSync(dir).filter((n) => n.startsWith('xt.'))) {
      for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
        const m = /^\++(\d+) (\S+) (.*)$/.exec(line);
        if (m && ours.test(m[2]!)) lines.push({ pid: m[1]!, cmd: m[3]! });
      }
    }
    const pids = new Set(lines.map((l) => l.pid));
    const starts = (p: string): number => lines.filter((l) => l.cmd.startsWith(p)).length;
    const counts = {
      gitStatus: starts('gt --no-optional-locks status'),
      writes: starts('atomic_write '),
      writeForks: starts('exec sh -c '),
      direct: starts('sync ') + starts('mv ') + starts('mktemp ') + starts('date '),
    };
    const detail = `${pids.size} bash processes; ${JSON.stringify(counts)}`;
    // prepare's checkout made the tree from a clean one: deploy and verify do not ask again
    expect(counts.gitStatus, detail).toBe(1);
    // every state write is durable with one fork, and nothing else runs sync, mv, mktemp, date
    expect(counts.writes, detail).toBeGreaterThanOrEqual(15);
    expect(counts.writeForks, detail).toBe(counts.writes);
    expect(counts.direct, detail).toBe(0);
    // deploy.sh and its bash subshells (each a fork of a large process): what is left runs docker,
    // git, compose config, the redaction filter, hashing and the state writes
    expect(pids.size, detail).toBeLessThanOrEqual(BASH_PROCESSES);
  }, 200_000);

  it('a changed docker binary (its mtime) asks compose its version again, once', async () => {
    const t = new Date();
    utimesSync(join(shim, 'docker'), t, t);
    const c = await up(changeWeb());
    expect(c.filter((x) => x === 'compose version --short')).toHaveLength(1);
    const again = await up(changeWeb());
    expect(again.filter((x) => x.startsWith('compose version'))).toEqual([]);
  }, 300_000);

  it('the images read from compose config are what `compose config --images` prints', () => {
    const dir = join(fx.dir, 'images-shape');
    execFileSync('mkdir', ['-p', dir]);
    writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox:1.36\n');
    writeFileSync(
      join(dir, 'docker-compose.yml'),
      [
        'services:',
        '  web:',
        '    image: "127.0.0.1:5000/lab/web:latest"',
        '    command: ["sh", "-c", "echo image: not-this"]',
        '    environment: { IMG: "image: nor-this" }',
        '  built:',
        '    build: .',
        "  zed: { image: 'busybox:1.36', labels: { image: x } }",
        '  "yes": { image: "yes" }',
        '  num: { image: "123" }',
        '  twin: { image: "busybox:1.36" }',
        '',
      ].join('\n'),
    );
    const lib = join(REPO_ROOT, 'scripts', 'deploy', 'lib');
    const args = ['-p', `${fx.node}_shapes`, '-f', join(dir, 'docker-compose.yml')];
    const script = [
      'set -Eeuo pipefail',
      ...['protocol', 'state', 'redact', 'images', 'compose'].map((l) => `source "${lib}/${l}.sh"`),
      'text="$(docker compose "$@" config)"',
      'config_images_to imgs "${text}"',
      'printf "%s\\n" "${imgs}"',
    ].join('\n');
    const sorted = (s: string): string[] => s.trim().split('\n').sort();
    const ours = execFileSync('bash', ['-c', script, '_', ...args], { encoding: 'utf8' });
    const compose = execFileSync('docker', ['compose', ...args, 'config', '--images'], {
      encoding: 'utf8',
    });
    expect(sorted(ours)).toEqual(sorted(compose));
    expect(sorted(ours)).toContain(`${fx.node}_shapes-built`);
  });

  it('the deployed-configuration hash is still sha256 of the whole `compose config` output', () => {
    const lib = join(REPO_ROOT, 'scripts', 'deploy', 'lib');
    const script = [
      'set -Eeuo pipefail',
      ...['protocol', 'state', 'redact', 'images', 'compose'].map((l) => `source "${lib}/${l}.sh"`),
      `REPO="${fx.repo}"; NODE="${fx.node}"; CONFIG_DIR="${fx.root}/config"`,
      `STATE_DIR="${fx.root}/state/deploy"`,
      'service_hash_to h api',
      'compose_args api',
      'want="$(docker compose "${COMPOSE_ARGS[@]}" config | sha256sum)"',
      '[[ "${CONFIG_HASH[api]}" == "${want%% *}" ]] && printf same',
    ].join('\n');
    expect(execFileSync('bash', ['-c', script], { encoding: 'utf8' })).toBe('same');
  });
});
