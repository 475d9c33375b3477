// scripts/bootstrap/bootstrap-node.sh with real bash, real git and the real Docker engine, fed on
// stdin exactly as `homelab node bootstrap` sends it (protocol.sh + the script, `bash -s -- ARGS`).
// Each test has its own node root and bare remote.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  bootstrapScript,
  parseBootstrapStep,
} from '../../../src/shell/onboarding/bootstrap-script.js';
import type { BootstrapStep } from '../../../src/shell/onboarding/bootstrap-script.js';
import { requireLab } from '../../support/lab.js';

const ok = requireLab('docker');
const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');
const NODE = 'vega';

let script: string;
let dir: string;
let remote: string;
let work: string;
let root: string;

function git(cwd: string, ...args: string[]): string {
  const r = spawnSync('git', ['-c', 'user.email=t@homelab', '-c', 'user.name=t', ...args], {
    cwd,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

function manifest(services: Record<string, readonly string[]>): string {
  const rows = [
    'manifest\t1',
    'homelab\tlab',
    `node\t${NODE}`,
    'role\tstorage',
    'tags\t',
    'wave\t0',
  ];
  for (const [svc, secrets] of Object.entries(services)) {
    rows.push(`service\t${svc}`, ...secrets.map((k) => `secret\t${svc}\t${k}`));
  }
  return `# generated\n${rows.join('\n')}\n`;
}

function publish(services: Record<string, readonly string[]>, message: string): string {
  mkdirSync(join(work, 'hosts', NODE), { recursive: true });
  writeFileSync(join(work, 'hosts', NODE, 'node.manifest'), manifest(services));
  git(work, 'add', '-A');
  git(work, 'commit', '-qm', message);
  git(work, 'push', '-q', 'origin', 'main');
  return git(work, 'rev-parse', 'HEAD');
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly steps: BootstrapStep[];
}

function bootstrap(
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = process.env,
  standalone = false,
): Run {
  const argv = ['--node', NODE, '--remote', remote, '--root', root, '--transport', 'ssh', ...args];
  const r = standalone
    ? spawnSync('bash', [join(REPO_ROOT, 'scripts/bootstrap/bootstrap-node.sh'), ...argv], {
        encoding: 'utf8',
        env,
        timeout: 60_000,
      })
    : spawnSync('bash', ['-s', '--', ...argv], {
        input: script,
        encoding: 'utf8',
        env,
        timeout: 60_000,
      });
  const steps = r.stdout.split('\n').flatMap((l) => {
    const s = parseBootstrapStep(l);
    return s ? [s] : [];
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, steps };
}

const stepOf = (r: Run, name: string, service?: string): BootstrapStep | undefined =>
  r.steps.find((s) => s.step === name && (service === undefined || s.service === service));

/** Every path under dir with its mode, size, mtime and content: what a second run must not change. */
function snapshot(base: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    const abs = join(base, rel);
    const st = statSync(abs);
    const content = st.isFile() ? readFileSync(abs, 'latin1') : '';
    out[rel || '.'] = `${st.mode.toString(8)} ${st.size} ${st.mtimeMs} ${content}`;
    if (st.isDirectory()) for (const e of readdirSync(abs)) walk(rel ? `${rel}/${e}` : e);
  };
  walk('');
  return out;
}

const mode = (p: string): string => (statSync(p).mode & 0o777).toString(8);

beforeAll(async () => {
  script = await bootstrapScript(REPO_ROOT);
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'homelab-bootstrap-'));
  remote = join(dir, 'remote.git');
  work = join(dir, 'saturn');
  root = join(dir, 'node', 'homelab');
  git(dir, 'init', '-q', '--bare', '-b', 'main', remote);
  git(dir, 'init', '-q', '-b', 'main', work);
  git(work, 'remote', 'add', 'origin', remote);
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!ok)('bootstrap-node.sh', () => {
  it('bootstraps a fresh node: tools checked, layout with modes, repo cloned, config folders naming the secrets', () => {
    const sha = publish({ web: ['API_TOKEN', 'DB_PASSWORD'], cache: [] }, 'add vega');
    const r = bootstrap();
    expect(r.stderr).toContain('tailscale is not installed');
    expect(r.code).toBe(0);
    expect(r.steps.map((s) => [s.step, s.service ?? '', s.status, s.changed])).toEqual([
      ['root', '', 'ok', false],
      ['git', '', 'ok', false],
      ['docker', '', 'ok', false],
      ['compose', '', 'ok', false],
      ['tailscale', '', 'skip', false],
      ['layout', '', 'ok', true],
      ['repo', '', 'ok', true],
      ['manifest', '', 'ok', false],
      ['config', 'web', 'ok', true],
      ['config', 'cache', 'ok', true],
      ['summary', '', 'ok', true],
    ]);
    expect(stepOf(r, 'compose')?.detail).toMatch(/^docker compose 2\./);
    expect(stepOf(r, 'tailscale')?.detail).toContain('transport ssh does not need it');
    expect(stepOf(r, 'config', 'web')?.detail).toContain(
      `secrets to place in ${root}/config/web/.env: API_TOKEN,DB_PASSWORD`,
    );

    expect(mode(root)).toBe('755');
    expect(mode(join(root, 'state/deploy'))).toBe('700');
    expect(mode(join(root, 'logs/deploy'))).toBe('700');
    expect(mode(join(root, 'config'))).toBe('700');
    expect(mode(join(root, 'config/web'))).toBe('700');
    expect(git(join(root, 'repo'), 'rev-parse', 'HEAD')).toBe(sha);
    expect(git(join(root, 'repo'), 'remote', 'get-url', 'origin')).toBe(remote);
    const readme = readFileSync(join(root, 'config/web/README'), 'utf8');
    expect(readme).toContain(`Secrets: put these keys in ${root}/config/web/.env`);
    expect(readme).toContain('  API_TOKEN\n  DB_PASSWORD\n');
    expect(readFileSync(join(root, 'config/cache/README'), 'utf8')).toContain('Secrets: none.');
    expect(existsSync(join(root, 'config/web/.env'))).toBe(false);
  });

  it("without --root uses the node's HOMELAB_ROOT, and says where the root came from", () => {
    publish({ web: [] }, 'add vega');
    const argv = ['--node', NODE, '--remote', remote, '--transport', 'ssh'];
    const r = spawnSync('bash', ['-s', '--', ...argv], {
      input: script,
      encoding: 'utf8',
      env: { ...process.env, HOMELAB_ROOT: root },
      timeout: 60_000,
    });
    expect(r.status).toBe(0);
    const steps = r.stdout.split('\n').flatMap((l) => parseBootstrapStep(l) ?? []);
    expect(steps.find((x) => x.step === 'root')?.detail).toBe(
      `${root} (from HOMELAB_ROOT on the node)`,
    );
    expect(git(join(root, 'repo'), 'remote', 'get-url', 'origin')).toBe(remote);
    expect(stepOf(bootstrap(), 'root')?.detail).toBe(`${root} (from the inventory)`);
  });

  it('changes nothing the second time, and says so', () => {
    publish({ web: ['API_TOKEN'] }, 'add vega');
    expect(bootstrap().code).toBe(0);
    const before = snapshot(root);
    const again = bootstrap();
    expect(again.code).toBe(0);
    expect(again.steps.filter((s) => s.changed)).toEqual([]);
    expect(stepOf(again, 'layout')?.detail).toMatch(/^unchanged: /);
    expect(stepOf(again, 'repo')?.detail).toMatch(/^unchanged: /);
    expect(stepOf(again, 'config', 'web')?.detail).toMatch(/^unchanged: /);
    expect(stepOf(again, 'summary')?.detail).toBe(
      `unchanged: ${NODE} was already bootstrapped; nothing changed`,
    );
    expect(snapshot(root)).toEqual(before);
  });

  it('puts back what drifted: a loosened folder mode and an edited README', () => {
    publish({ web: ['API_TOKEN'] }, 'add vega');
    bootstrap();
    chmodSync(join(root, 'config'), 0o755);
    writeFileSync(join(root, 'config/web/README'), 'edited\n');
    const r = bootstrap();
    expect(r.code).toBe(0);
    expect(stepOf(r, 'layout')).toMatchObject({
      changed: true,
      detail: `${root}: chmod 0700 config`,
    });
    expect(stepOf(r, 'config', 'web')).toMatchObject({
      changed: true,
      detail: `updated ${root}/config/web/README; secrets to place in ${root}/config/web/.env: API_TOKEN`,
    });
    expect(mode(join(root, 'config'))).toBe('700');
    expect(readFileSync(join(root, 'config/web/README'), 'utf8')).toContain('  API_TOKEN\n');
  });

  it('runs the same from a checkout (sourcing protocol.sh beside it) as piped on stdin', () => {
    publish({ web: [] }, 'add vega');
    const piped = bootstrap();
    rmSync(root, { recursive: true });
    const standalone = bootstrap([], process.env, true);
    expect(standalone.code).toBe(0);
    expect(standalone.steps.map((s) => [s.step, s.status, s.changed])).toEqual(
      piped.steps.map((s) => [s.step, s.status, s.changed]),
    );
  });

  it('names secrets only: placed ones stop being listed and no value ever reaches the output', () => {
    publish({ web: ['API_TOKEN', 'DB_PASSWORD'] }, 'add vega');
    bootstrap();
    writeFileSync(join(root, 'config/web/.env'), 'API_TOKEN=s3cr3t-value-123\n', { mode: 0o600 });
    const r = bootstrap();
    expect(stepOf(r, 'config', 'web')?.detail).toBe(
      `unchanged: ${root}/config/web; secrets to place in ${root}/config/web/.env: DB_PASSWORD`,
    );
    expect(r.stdout + r.stderr).not.toContain('s3cr3t-value-123');
  });

  it('fetches new commits without checking them out (prepare does that), and adds a new service folder', () => {
    const first = publish({ web: [] }, 'add vega');
    bootstrap();
    const second = publish({ web: [], db: ['PG_PASSWORD'] }, 'add db');
    const r = bootstrap();
    expect(r.code).toBe(0);
    expect(stepOf(r, 'repo')).toMatchObject({
      changed: true,
      detail: `fetched origin/main: ${first.slice(0, 7)} -> ${second.slice(0, 7)} (prepare checks it out)`,
    });
    expect(stepOf(r, 'config', 'db')?.changed).toBe(true);
    expect(stepOf(r, 'config', 'web')?.changed).toBe(false);
    expect(git(join(root, 'repo'), 'rev-parse', 'HEAD')).toBe(first);
    expect(existsSync(join(root, 'config/db/README'))).toBe(true);
  });

  it('refuses a checkout that fetches from another remote, and a repo folder that is not a checkout', () => {
    publish({ web: [] }, 'add vega');
    bootstrap();
    git(join(root, 'repo'), 'remote', 'set-url', 'origin', '/elsewhere.git');
    const r = bootstrap();
    expect(r.code).toBe(1);
    expect(stepOf(r, 'repo')).toMatchObject({ status: 'fail' });
    expect(stepOf(r, 'repo')?.detail).toContain(`fetches from '/elsewhere.git', not ${remote}`);

    rmSync(join(root, 'repo'), { recursive: true });
    mkdirSync(join(root, 'repo'));
    writeFileSync(join(root, 'repo', 'notes.txt'), 'mine');
    const r2 = bootstrap();
    expect(r2.code).toBe(1);
    expect(stepOf(r2, 'repo')?.detail).toContain('is not empty and not a git checkout');
    expect(readFileSync(join(root, 'repo', 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('says which file is missing when the node has no manifest on the remote', () => {
    writeFileSync(join(work, 'README'), 'x');
    git(work, 'add', '-A');
    git(work, 'commit', '-qm', 'init');
    git(work, 'push', '-q', 'origin', 'main');
    const r = bootstrap();
    expect(r.code).toBe(1);
    expect(stepOf(r, 'manifest')?.detail).toContain(
      `hosts/${NODE}/node.manifest is not on ${remote} (main): run \`homelab node add ${NODE}\` on SATURN, commit and push`,
    );
  });

  it('stops before changing anything when a package is missing and --yes was not given', () => {
    publish({ web: [] }, 'add vega');
    // A PATH with every command of this machine except git.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const d of (process.env.PATH ?? '').split(delimiter)) {
      if (!existsSync(d)) continue;
      for (const name of readdirSync(d)) {
        if (name === 'git' || existsSync(join(bin, name))) continue;
        symlinkSync(join(d, name), join(bin, name));
      }
    }
    const r = bootstrap([], { ...process.env, PATH: bin });
    expect(r.code).toBe(10);
    expect(stepOf(r, 'git')).toMatchObject({ status: 'fail', detail: 'git is not installed' });
    expect(stepOf(r, 'packages')).toMatchObject({
      status: 'fail',
      detail: 'missing: git; rerun with --yes to install them',
    });
    expect(existsSync(root)).toBe(false);
  });

  it('requires Tailscale up when the transport is tailscale-ssh', () => {
    publish({ web: [] }, 'add vega');
    const r = bootstrap(['--transport', 'tailscale-ssh']);
    expect(r.code).toBe(1);
    expect(stepOf(r, 'tailscale')?.detail).toContain(
      "tailscale is not installed (install it and run `tailscale up`); the node's transport is tailscale-ssh",
    );
    expect(existsSync(root)).toBe(false);

    // tailscale cannot be installed here: a stand-in that answers `tailscale status` like a node that is up.
    const bin = join(dir, 'ts-bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'tailscale'), '#!/bin/sh\n[ "$1" = status ] && exit 0\nexit 1\n');
    chmodSync(join(bin, 'tailscale'), 0o755);
    const up = bootstrap(['--transport', 'tailscale-ssh'], {
      ...process.env,
      PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`,
    });
    expect(up.code).toBe(0);
    expect(stepOf(up, 'tailscale')).toMatchObject({ status: 'ok', detail: 'tailscale is up' });
  });

  it('rejects bad arguments with the usage and exit 2', () => {
    const r = spawnSync('bash', ['-s', '--', '--node', NODE], { input: script, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('bootstrap: --remote is required');
    const rel = spawnSync(
      'bash',
      ['-s', '--', '--node', NODE, '--remote', '/r.git', '--root', 'relative'],
      { input: script, encoding: 'utf8' },
    );
    expect(rel.status).toBe(2);
    expect(rel.stderr).toContain('--root must be an absolute path');
  });
});
