// A node for diagnose/recover tests: NodeFixture (a SATURN repo with this working tree's
// scripts/deploy, a remote, a node root with the repo cloned, real bash and the real Docker engine)
// holding hand-written compose files, some broken on purpose, and the findings of each run.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FindingEvent } from '../../src/core/protocol/events.js';
import { NodeFixture } from './node-fixture.js';

export type DiagFinding = Omit<FindingEvent, 'type' | 'ts'>;

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

export class DiagNode {
  private readonly fx = NodeFixture.create('dg');
  readonly services: readonly string[];

  constructor(spec: DiagNodeSpec) {
    this.services = Object.keys(spec.services);
    for (const [svc, compose] of Object.entries(spec.services))
      this.fx.writeService(svc, compose.replaceAll('{{node}}', this.node));
    this.fx.writeManifest({ extra: spec.manifest ?? [], tags: spec.tags ?? [] });
    this.commit('initial');
    this.fx.cloneNode();
    for (const d of ['state/deploy', 'logs/deploy', ...this.services.map((s) => `config/${s}`)])
      mkdirSync(join(this.root, d), { recursive: true });
  }

  get node(): string {
    return this.fx.node;
  }

  get root(): string {
    return this.fx.root;
  }

  get repo(): string {
    return this.fx.repo;
  }

  /** Writes a file into SATURN's working tree (commit() makes it part of the next commit). */
  writeRepo(path: string, text: string): void {
    const file = join(this.fx.saturn, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }

  /** Commits SATURN's tree and pushes it to the remote the node fetches from. */
  commit(message: string): string {
    return this.fx.commit(message);
  }

  writeConfig(service: string, name: string, text: string): void {
    mkdirSync(this.fx.configDir(service), { recursive: true });
    writeFileSync(join(this.fx.configDir(service), name), text, { mode: 0o600 });
  }

  project(service: string): string {
    return this.fx.project(service);
  }

  /** `docker compose up -d` of one service exactly as deploy.sh names it (no --wait: broken on purpose). */
  composeUp(service: string): void {
    const env = join(this.fx.configDir(service), '.env');
    const args = [
      'compose',
      '-p',
      this.project(service),
      '-f',
      join(this.repo, 'hosts', this.node, service, 'docker-compose.yml'),
    ];
    if (existsSync(env)) args.push('--env-file', env);
    args.push('up', '-d');
    execFileSync('docker', args, { stdio: 'ignore', timeout: 60_000 });
  }

  /** Runs deploy.sh <stage> on the node with real bash; collects its finding records. */
  async deploy(
    stage: string,
    opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; args?: readonly string[] } = {},
  ): Promise<DeployRun> {
    const env = Object.fromEntries(
      Object.entries(opts.env ?? {}).filter((e): e is [string, string] => e[1] !== undefined),
    );
    const out = await this.fx.run(stage, opts.args ?? [], {
      env,
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    });
    const findings = out.events.flatMap((e) => (e.type === 'finding' ? [withoutStamp(e)] : []));
    return { code: out.code, stdout: out.stdout, stderr: out.stderr, findings, ms: out.ms };
  }

  cleanup(): void {
    this.fx.cleanup();
  }
}

function withoutStamp({ type: _type, ts: _ts, ...finding }: FindingEvent): DiagFinding {
  return finding;
}
