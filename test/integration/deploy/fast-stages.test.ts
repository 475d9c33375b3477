// What makes a node's stages fast, run by real bash against the real Docker engine, counted by the
// docker shim (test/support/kill-harness.ts) rather than timed: verify waits for health through
// `docker events` (one `docker ps` per change, not one every half second), a run of several
// stages asks docker for its versions once, and `docker compose config` runs once per service per
// run, again only when one of the service's inputs changed.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireLab } from '../../support/lab.js';
import { writeDockerShim } from '../../support/kill-harness.js';
import { NodeFixture, REPO_ROOT } from '../../support/node-fixture.js';
import { freePort } from '../../../src/shell/free-port.js';

const ok = requireLab('docker');

/** A web service whose httpd starts after DELAY seconds: verify waits that long for health. */
function slowCompose(port: number, delay: number): string {
  return [
    'services:',
    '  web:',
    '    image: busybox:1.36',
    '    network_mode: host',
    '    stop_signal: SIGKILL',
    `    command: ["sh", "-c", "sleep ${delay}; exec httpd -f -p 127.0.0.1:${port} -h /www"]`,
    '    volumes: ["./www:/www:ro"]',
    '    healthcheck:',
    `      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:${port}/"]`,
    '      interval: 1s',
    '      timeout: 2s',
    '      retries: 3',
    `      start_period: ${delay + 20}s`,
    '',
  ].join('\n');
}

function calls(log: string): string[] {
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t')[1] ?? '');
}

describe.skipIf(!ok)('fast stages', () => {
  let fx: NodeFixture;
  let shim: string;
  let n = 0;
  const shimEnv = (): { log: string; env: Record<string, string> } => {
    n += 1;
    const log = join(fx.dir, `calls-${n}.log`);
    return { log, env: { PATH: `${shim}:${process.env.PATH ?? ''}`, SHIM_LOG: log } };
  };

  beforeAll(async () => {
    fx = NodeFixture.create('fast');
    await fx.addService('api');
    const port = await freePort();
    fx.ports.set('web', port);
    await fx.addService('web');
    fx.writeService('web', slowCompose(port, 4));
    fx.writeManifest({ extra: ['secret\tapi\tAPI_TOKEN'] });
    fx.commit('two services, web slow to start, api needs a secret');
    fx.cloneNode();
    shim = writeDockerShim(join(fx.dir, 'shim'));
  }, 60_000);

  afterAll(() => fx?.cleanup());

  it('a resume of prepare, deploy and verify asks docker its versions once and each compose config once', async () => {
    const sha = execFileSync('git', ['-C', fx.saturn, 'rev-parse', 'HEAD'], {
      encoding: 'utf8',
    }).trim();
    const failed = await fx.run('prepare', ['--ref', sha]);
    expect(failed.code, failed.stdout + failed.stderr).toBe(1);
    expect(failed.stderr).toContain('missing API_TOKEN');
    fx.writeEnv('api', 'API_TOKEN=abcdef123\n');
    const { log, env } = shimEnv();
    const r = await fx.run('resume', [], { env, timeoutMs: 120_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const ends = r.events.flatMap((e) =>
      e.type === 'stage-end' ? [`${e.stage} ${e.result}`] : [],
    );
    expect(ends).toEqual(['prepare ok', 'deploy ok', 'verify ok']);
    const c = calls(log);
    expect(c.filter((x) => /^version /.test(x))).toHaveLength(1);
    expect(c.filter((x) => /^compose version/.test(x))).toHaveLength(1);
    // prepare's config validates and hashes; deploy in the same run reuses the hash
    expect(c.filter((x) => /^compose .* config( --quiet)?$/.test(x)).sort()).toEqual([
      `compose -p ${fx.project('api')} -f ${fx.repo}/hosts/${fx.node}/api/docker-compose.yml --env-file ${fx.configDir('api')}/.env config`,
      `compose -p ${fx.project('web')} -f ${fx.repo}/hosts/${fx.node}/web/docker-compose.yml config`,
    ]);
  }, 150_000);

  it('verify waits for a slow healthcheck through docker events: a docker ps per change, not per half second', async () => {
    // web was deployed ~now by the resume; recreate it so verify waits its 4 s again
    execFileSync('docker', ['restart', '-t', '0', `${fx.project('web')}-web-1`], {
      stdio: 'ignore',
    });
    const { log, env } = shimEnv();
    const t0 = Date.now();
    const r = await fx.run('verify', [], { env, timeoutMs: 120_000 });
    const ms = Date.now() - t0;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(ms).toBeGreaterThan(3000);
    const c = calls(log);
    // verify's look at the containers (`ps -a`; the image digests' `ps --no-trunc` is once)
    const ps = c.filter((x) => /^ps -a /.test(x));
    // polling every 0.5 s for ~4 s would make 8 or more
    expect(ps.length, c.join('\n')).toBeLessThanOrEqual(4);
    expect(c.some((x) => /^events --since /.test(x))).toBe(true);
  }, 150_000);

  it('compose config runs again in the same run only when an input of the service changed', () => {
    fx.writeEnv('api', 'API_TOKEN=abcdef123\n');
    const { log, env } = shimEnv();
    const lib = join(REPO_ROOT, 'scripts', 'deploy', 'lib');
    const script = [
      'set -Eeuo pipefail',
      ...['protocol', 'redact', 'images', 'compose'].map((l) => `source "${lib}/${l}.sh"`),
      `REPO="${fx.repo}"; NODE="${fx.node}"; CONFIG_DIR="${fx.root}/config"`,
      `STATE_DIR="${fx.root}/state/deploy"`,
      'service_hash_to a web; service_hash_to b web',
      `printf 'changed\\n' >"${fx.repo}/hosts/${fx.node}/web/www/index.html"`,
      'service_hash_to c web; service_hash_to d api',
      `printf 'API_TOKEN=other456\\n' >"${fx.root}/config/api/.env"`,
      'service_hash_to e api',
      'printf "%s\\n" "$a" "$b" "$c" "$d" "$e"',
    ].join('\n');
    let out: string;
    try {
      out = execFileSync('bash', ['-c', script], {
        encoding: 'utf8',
        env: { ...process.env, ...env },
      });
    } finally {
      execFileSync('git', ['-C', fx.repo, 'checkout', '--', '.'], { stdio: 'ignore' });
      fx.writeEnv('api', 'API_TOKEN=abcdef123\n');
    }
    const [a, b, c, d, e] = out.trim().split('\n');
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(e).not.toBe(d);
    // web, web after its file changed, api, api after its .env changed: four, not five
    expect(calls(log).filter((x) => /^compose .* config$/.test(x))).toHaveLength(4);
  }, 60_000);
});
