// A simulated node for diagnose/recover tests: a SATURN repo (real git) holding this working tree's
// scripts/deploy and hosts/<node>/, cloned into <root>/repo, with deploy.sh run by real bash against
// the real Docker engine. Compose projects are <node>_<service> with a random node name.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface DiagFinding {
  readonly id: string;
  readonly severity: 'ok' | 'warn' | 'fail';
  readonly summary: string;
  readonly evidence: string;
  readonly hint: string;
  readonly service?: string;
}

export interface DeployRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly findings: DiagFinding[];
  readonly ms: number;
}

export interface DiagNodeSpec {
  /** service -> docker-compose.yml text; `{{node}}` is replaced by the node name. */
  readonly services: Record<string, string>;
  /** Extra manifest records (TAB-separated fields), e.g. ['secret\tapi\tAPI_KEY']. */
  readonly manifest?: readonly string[];
  readonly tags?: readonly string[];
}

function git(cwd: string, args: string[]): string {
  return execFileSync('git', ['-c', 'user.email=test@homelab', '-c', 'user.name=test', ...args], { cwd, encoding: 'utf8' }).trim();
}

export class DiagNode {
  readonly dir: string;
  readonly node: string;
  readonly root: string;
  readonly saturn: string;
  readonly services: readonly string[];

  constructor(spec: DiagNodeSpec) {
    this.dir = mkdtempSync(join(tmpdir(), 'homelab-diag-'));
    this.node = `dg${Math.random().toString(36).slice(2, 8)}`;
    this.root = join(this.dir, 'root');
    this.saturn = join(this.dir, 'saturn');
    this.services = Object.keys(spec.services);
    mkdirSync(join(this.saturn, 'scripts'), { recursive: true });
    cpSync(join(REPO_ROOT, 'scripts', 'deploy'), join(this.saturn, 'scripts', 'deploy'), { recursive: true });
    const manifest = [
      '# test manifest',
      'manifest\t1',
      'homelab\tlab',
      `node\t${this.node}`,
      'role\ttest',
      `tags\t${(spec.tags ?? []).join(',')}`,
      'wave\t0',
      ...this.services.map((s) => `service\t${s}`),
      ...(spec.manifest ?? []),
    ];
    this.writeRepo(`hosts/${this.node}/node.manifest`, `${manifest.join('\n')}\n`);
    for (const [svc, compose] of Object.entries(spec.services)) this.writeRepo(`hosts/${this.node}/${svc}/docker-compose.yml`, compose.replaceAll('{{node}}', this.node));
    git(this.saturn, ['init', '-q', '-b', 'main']);
    this.commit('initial');
    for (const d of ['state/deploy', 'logs/deploy', 'config']) mkdirSync(join(this.root, d), { recursive: true });
    for (const s of this.services) mkdirSync(join(this.root, 'config', s), { recursive: true });
    git(this.dir, ['clone', '-q', this.saturn, join(this.root, 'repo')]);
  }

  get repo(): string {
    return join(this.root, 'repo');
  }

  /** Writes a file into SATURN's working tree (commit() makes it part of the next commit). */
  writeRepo(path: string, text: string): void {
    const file = join(this.saturn, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }

  commit(message: string): string {
    git(this.saturn, ['add', '-A']);
    git(this.saturn, ['commit', '-q', '--allow-empty', '-m', message]);
    return git(this.saturn, ['rev-parse', 'HEAD']);
  }

  writeConfig(service: string, name: string, text: string): void {
    const dir = join(this.root, 'config', service);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, name), text, { mode: 0o600 });
  }

  project(service: string): string {
    return `${this.node}_${service}`;
  }

  /** `docker compose up -d` of one service exactly as deploy.sh names it (no --wait: broken on purpose). */
  composeUp(service: string): void {
    const env = join(this.root, 'config', service, '.env');
    const args = ['compose', '-p', this.project(service), '-f', join(this.repo, 'hosts', this.node, service, 'docker-compose.yml')];
    if (existsSync(env)) args.push('--env-file', env);
    args.push('up', '-d');
    execFileSync('docker', args, { stdio: 'ignore', timeout: 60_000 });
  }

  /** Runs deploy.sh <stage> on the node with real bash; collects finding records. */
  deploy(stage: string, opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; args?: readonly string[] } = {}): Promise<DeployRun> {
    const started = Date.now();
    return new Promise((resolve) => {
      const child = spawn('bash', [join(this.repo, 'scripts', 'deploy', 'deploy.sh'), stage, '--root', this.root, '--node', this.node, ...(opts.args ?? [])], {
        env: { ...process.env, HOMELAB_ROOT: this.root, ...opts.env },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => {
        try {
          process.kill(-(child.pid ?? 0), 'SIGKILL');
        } catch {
          /* already gone */
        }
      }, opts.timeoutMs ?? 120_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, findings: parseFindings(stdout), ms: Date.now() - started });
      });
    });
  }

  cleanup(): void {
    for (const s of this.services) {
      try {
        execFileSync('docker', ['compose', '-p', this.project(s), 'down', '-v', '--remove-orphans', '-t', '0'], { stdio: 'ignore', timeout: 60_000 });
      } catch {
        /* the project may not exist */
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function parseFindings(stdout: string): DiagFinding[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('@homelab/1 finding '))
    .map((l) => JSON.parse(l.slice('@homelab/1 finding '.length)) as DiagFinding);
}
