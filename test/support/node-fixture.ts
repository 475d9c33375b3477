// A real homelab in a temp dir for deploy.sh tests: a bare Git remote, a SATURN working clone
// holding a COPY of this working tree's scripts/deploy/ plus hosts/<node>/<service>/ (busybox httpd
// on 127.0.0.1:<free port>, network_mode host, a wget healthcheck) and hosts/<node>/node.manifest,
// and a node root with the repo cloned into <root>/repo. deploy.sh runs with real bash against the
// real Docker engine; compose projects are <node>_<service> with a random node name per fixture.
//
//   const fx = await NodeFixture.create('dp');          // node "dp<random>"
//   await fx.addService('web');                          // hosts/<node>/web/, a free port
//   fx.writeManifest();  const sha = fx.commit('init');
//   const r = await fx.run('prepare', ['--ref', sha]);  // r.code, r.stdout, r.events
//   afterAll(() => fx.cleanup());                        // compose down every project, rm -rf
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NodeEvent, NodeLine } from '../../src/core/protocol/events.js';
import { parseNodeLine } from '../../src/core/protocol/parse.js';
import { freePort } from '../../src/shell/free-port.js';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ServiceOptions {
  /** Healthcheck path: '/' answers 200; anything missing makes the service unhealthy. */
  readonly healthPath?: string;
  /** Environment entries of the container, e.g. { TOKEN: '${TOKEN:-}' } (interpolated from .env). */
  readonly environment?: Readonly<Record<string, string>>;
  /** Text of www/index.html (bind-mounted into the container). */
  readonly index?: string;
  /** Healthcheck start_period (e.g. '60s'): failures keep the container `starting` meanwhile. */
  readonly startPeriod?: string;
  /**
   * Adds a `gate` container that turns healthy after this many seconds, which the service
   * depends on: `compose up` of the project then blocks that long (a deterministic mid-deploy).
   */
  readonly gateSeconds?: number;
  /**
   * The container ignores SIGTERM (httpd is PID 1) and is killed after this many seconds: a
   * Compose recreate then holds its temp-named container that long before removing the old one.
   */
  readonly stopGraceSeconds?: number;
  /** Healthcheck retries (2): more keep a loaded machine's slow answers from reading unhealthy. */
  readonly healthRetries?: number;
}

export interface ManifestOptions {
  readonly services?: readonly string[];
  /** Extra records, TAB-separated fields, e.g. 'secret\tweb\tTOKEN'. */
  readonly extra?: readonly string[];
  readonly tags?: readonly string[];
}

export interface RunOutput {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly lines: NodeLine[];
  readonly events: NodeEvent[];
  readonly ms: number;
}

export interface RunOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

function sh(cmd: string, args: readonly string[], cwd?: string): string {
  return execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

function git(cwd: string, args: readonly string[]): string {
  return sh('git', ['-c', 'user.email=test@homelab', '-c', 'user.name=test', ...args], cwd);
}

export function eventsOf(stdout: string): NodeEvent[] {
  return stdout.split('\n').flatMap((l) => {
    const line = parseNodeLine(l);
    return line.kind === 'event' ? [line.event] : [];
  });
}

export class NodeFixture {
  readonly dir: string;
  readonly node: string;
  readonly remote: string;
  readonly saturn: string;
  readonly root: string;
  readonly repo: string;
  readonly ports = new Map<string, number>();
  /** Services written so far, in order: the default services of writeManifest(). */
  private readonly services = new Set<string>();
  private readonly projects = new Set<string>();

  private constructor(prefix: string) {
    this.dir = mkdtempSync(join(tmpdir(), 'homelab-node-'));
    this.node = `${prefix}${Math.random().toString(36).slice(2, 8)}`;
    this.remote = join(this.dir, 'remote.git');
    this.saturn = join(this.dir, 'saturn');
    this.root = join(this.dir, 'root');
    this.repo = join(this.root, 'repo');
  }

  /** A SATURN clone with scripts/deploy copied from this working tree; the node is not cloned yet. */
  static create(prefix: string): NodeFixture {
    const fx = new NodeFixture(prefix);
    git(fx.dir, ['init', '-q', '--bare', '-b', 'main', fx.remote]);
    git(fx.dir, ['init', '-q', '-b', 'main', fx.saturn]);
    git(fx.saturn, ['remote', 'add', 'origin', fx.remote]);
    mkdirSync(join(fx.saturn, 'scripts'), { recursive: true });
    cpSync(join(REPO_ROOT, 'scripts', 'deploy'), join(fx.saturn, 'scripts', 'deploy'), {
      recursive: true,
    });
    return fx;
  }

  /**
   * A node with one service `web`, prepared, deployed and verified at its first commit: the
   * starting point of the deploy-contract tests. Returns the fixture and that commit.
   */
  static async deployedWeb(
    prefix: string,
    env: Record<string, string>,
  ): Promise<{ fx: NodeFixture; sha: string }> {
    const fx = NodeFixture.create(prefix);
    await fx.addService('web');
    fx.writeManifest();
    const sha = fx.commit('one service');
    fx.cloneNode();
    for (const [stage, args] of [
      ['prepare', ['--ref', sha]],
      ['deploy', []],
      ['verify', []],
    ] as const) {
      const r = await fx.run(stage, args, { env });
      if (r.code !== 0) throw new Error(`${stage} exited ${r.code}:\n${r.stdout}${r.stderr}`);
    }
    return { fx, sha };
  }

  serviceDir(service: string): string {
    return join(this.saturn, 'hosts', this.node, service);
  }

  configDir(service: string): string {
    return join(this.root, 'config', service);
  }

  stateFile(name: string): string {
    return join(this.root, 'state', 'deploy', name);
  }

  project(service: string): string {
    return `${this.node}_${service}`;
  }

  /** Writes hosts/<node>/<service>/ (compose file + www/index.html) with a free port. */
  async addService(service: string, opts: ServiceOptions = {}): Promise<number> {
    const port = this.ports.get(service) ?? (await freePort());
    this.ports.set(service, port);
    mkdirSync(join(this.serviceDir(service), 'www'), { recursive: true });
    writeFileSync(
      join(this.serviceDir(service), 'www', 'index.html'),
      opts.index ?? `hello from ${service}\n`,
    );
    this.writeService(service, composeFile(service, port, opts));
    return port;
  }

  /** Writes hosts/<node>/<service>/docker-compose.yml as given (a service broken on purpose, say). */
  writeService(service: string, compose: string): void {
    this.services.add(service);
    this.projects.add(this.project(service));
    mkdirSync(this.serviceDir(service), { recursive: true });
    writeFileSync(join(this.serviceDir(service), 'docker-compose.yml'), compose);
  }

  removeServiceDir(service: string): void {
    rmSync(this.serviceDir(service), { recursive: true, force: true });
  }

  /** hosts/<node>/node.manifest in the documented format (docs/node-manifest.md). */
  writeManifest(opts: ManifestOptions = {}): void {
    const services = opts.services ?? [...this.services];
    const rows = [
      '# Generated from inventory/topology.yaml by `homelab manifest`. Do not edit by hand.',
      'manifest\t1',
      'homelab\ttestlab',
      `node\t${this.node}`,
      'role\ttest',
      `tags\t${(opts.tags ?? []).join(',')}`,
      'wave\t0',
      ...services.map((s) => `service\t${s}`),
      ...(opts.extra ?? []),
    ];
    mkdirSync(join(this.saturn, 'hosts', this.node), { recursive: true });
    writeFileSync(join(this.saturn, 'hosts', this.node, 'node.manifest'), `${rows.join('\n')}\n`);
  }

  /** Commits everything in the SATURN clone and pushes it; returns the sha. */
  commit(message: string): string {
    git(this.saturn, ['add', '-A']);
    git(this.saturn, ['commit', '-q', '--allow-empty', '-m', message]);
    git(this.saturn, ['push', '-q', 'origin', 'HEAD:main']);
    return git(this.saturn, ['rev-parse', 'HEAD']);
  }

  /** Clones the remote into <root>/repo (what bootstrap does on a real node). */
  cloneNode(): void {
    if (!existsSync(this.repo)) git(this.dir, ['clone', '-q', this.remote, this.repo]);
  }

  writeEnv(service: string, text: string): void {
    mkdirSync(this.configDir(service), { recursive: true });
    writeFileSync(join(this.configDir(service), '.env'), text);
  }

  writeOverride(service: string, text: string): void {
    mkdirSync(this.configDir(service), { recursive: true });
    writeFileSync(join(this.configDir(service), 'docker-compose.override.yml'), text);
  }

  deployScript(): string {
    return join(this.repo, 'scripts', 'deploy', 'deploy.sh');
  }

  /** Starts `deploy.sh <stage> --root <root> --node <node> ...args` with real bash, in its own group. */
  spawn(stage: string, args: readonly string[] = [], opts: RunOptions = {}): ChildProcess {
    return spawn(
      'bash',
      [this.deployScript(), stage, '--root', this.root, '--node', this.node, ...args],
      {
        env: { ...process.env, ...opts.env },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    );
  }

  /** Runs a stage to its end and returns its output and parsed events. */
  run(stage: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<RunOutput> {
    return collect(this.spawn(stage, args, opts), opts.timeoutMs ?? 90_000);
  }

  /** Container ids of a project (running or not), sorted. */
  containerIds(service: string): string[] {
    const out = sh('docker', [
      'ps',
      '-aq',
      '--no-trunc',
      '--filter',
      `label=com.docker.compose.project=${this.project(service)}`,
    ]);
    return out === '' ? [] : out.split('\n').sort();
  }

  /** `docker ps` state of the project's containers, e.g. ['running']. */
  containerStates(service: string): string[] {
    const out = sh('docker', [
      'ps',
      '-a',
      '--filter',
      `label=com.docker.compose.project=${this.project(service)}`,
      '--format',
      '{{.State}}',
    ]);
    return out === '' ? [] : out.split('\n');
  }

  async httpGet(service: string): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.ports.get(service) ?? 0}/`);
    return res.text();
  }

  /** Text of every file below state/ and logs/ (for "no secret leaked" checks). */
  stateAndLogText(): string {
    return [join(this.root, 'state'), join(this.root, 'logs')].map(readTree).join('\n');
  }

  logFiles(): string[] {
    const dir = join(this.root, 'logs', 'deploy');
    return existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.startsWith('deploy_'))
          .sort()
      : [];
  }

  readState(name: string): string {
    const file = this.stateFile(name);
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  /** compose down every project this fixture made, then removes the temp dir. */
  cleanup(): void {
    for (const project of this.projects) {
      try {
        execFileSync(
          'docker',
          ['compose', '-p', project, 'down', '-v', '--remove-orphans', '-t', '0'],
          { stdio: 'ignore', timeout: 60_000 },
        );
      } catch {
        // already gone
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function readTree(dir: string): string {
  if (!existsSync(dir)) return '';
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    .join('\n');
}

function composeFile(service: string, port: number, opts: ServiceOptions): string {
  const env = Object.entries(opts.environment ?? {});
  return [
    'services:',
    `  ${service}:`,
    '    image: busybox:1.36',
    '    network_mode: host',
    ...(opts.stopGraceSeconds
      ? [`    stop_grace_period: ${opts.stopGraceSeconds}s`]
      : ['    stop_signal: SIGKILL']),
    `    command: ["httpd", "-f", "-p", "127.0.0.1:${port}", "-h", "/www"]`,
    '    volumes: ["./www:/www:ro"]',
    ...(env.length > 0 ? ['    environment:', ...env.map(([k, v]) => `      ${k}: "${v}"`)] : []),
    '    healthcheck:',
    `      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:${port}${opts.healthPath ?? '/'}"]`,
    '      interval: 1s',
    '      timeout: 2s',
    `      retries: ${opts.healthRetries ?? 2}`,
    ...(opts.startPeriod ? [`      start_period: ${opts.startPeriod}`] : []),
    ...(opts.gateSeconds
      ? [
          '    depends_on:',
          '      gate:',
          '        condition: service_healthy',
          '  gate:',
          '    image: busybox:1.36',
          '    network_mode: none',
          '    stop_signal: SIGKILL',
          `    command: ["sh", "-c", "sleep ${opts.gateSeconds}; : > /tmp/ready; exec sleep 3600"]`,
          '    healthcheck:',
          '      test: ["CMD-SHELL", "test -f /tmp/ready"]',
          '      interval: 1s',
          '      timeout: 2s',
          '      retries: 30',
        ]
      : []),
    '',
  ].join('\n');
}

export function collect(child: ChildProcess, timeoutMs: number): Promise<RunOutput> {
  const t0 = Date.now();
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
      reject(
        new Error(
          `deploy.sh timed out after ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`,
        ),
      );
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const lines = stdout
        .split('\n')
        .filter((l) => l !== '')
        .map(parseNodeLine);
      const events = lines.flatMap((l) => (l.kind === 'event' ? [l.event] : []));
      resolve({ code, signal, stdout, stderr, lines, events, ms: Date.now() - t0 });
    });
  });
}
