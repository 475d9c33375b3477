// Images in the lab's real registry (scripts/dev/setup-lab.sh runs Debian's docker-registry on
// LAB_REGISTRY). Each test gets its own repository name; versions are built FROM the local
// busybox:1.36 with a tiny Dockerfile (no network: no base image is pulled) and pushed under a
// moving tag.
//
//   const repo = new TestRepo('web');                 // 127.0.0.1:5000/h14-web-<random>
//   const v1 = repo.push('v1');                       // builds, pushes as :latest, returns the digest
//   repo.remoteDigest('latest');                      // what the registry says now (no pull)
//   repo.cleanup();                                   // removes the local tags it made
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_REGISTRY } from './lab.js';

function run(cmd: string, args: readonly string[], cwd?: string): string {
  return execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
  }).trim();
}

export class TestRepo {
  /** e.g. 127.0.0.1:5000/h14-web-k3j9x2 */
  readonly name: string;
  private readonly tags = new Set<string>();

  constructor(label: string, registry = LAB_REGISTRY) {
    this.name = `${registry}/h14-${label}-${Math.random().toString(36).slice(2, 8)}`;
  }

  ref(tag = 'latest'): string {
    return `${this.name}:${tag}`;
  }

  /**
   * Builds version VERSION (a label and a file /version holding it; `broken` makes the image's
   * httpd command exit at once) and pushes it as TAG. Returns the registry's manifest digest.
   */
  push(version: string, opts: { tag?: string; broken?: boolean } = {}): string {
    const tag = opts.tag ?? 'latest';
    const dir = mkdtempSync(join(tmpdir(), 'homelab-img-'));
    try {
      const lines = [
        'FROM busybox:1.36',
        `LABEL homelab.test.version=${version}`,
        `RUN echo ${version} > /version`,
      ];
      // A broken version: every command fails (the entrypoint exits 1), so verify fails.
      if (opts.broken) lines.push('ENTRYPOINT ["false"]');
      writeFileSync(join(dir, 'Dockerfile'), `${lines.join('\n')}\n`);
      run('docker', ['build', '-q', '-t', this.ref(tag), dir]);
      this.tags.add(this.ref(tag));
      const out = run('docker', ['push', this.ref(tag)]);
      const m = /digest: (sha256:[0-9a-f]{64})/.exec(out);
      if (!m) throw new Error(`docker push ${this.ref(tag)} printed no digest:\n${out}`);
      return m[1] ?? '';
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** The tag's manifest digest, asked of the registry's HTTP API (no pull). */
  remoteDigest(tag = 'latest'): string {
    const [host, ...path] = this.name.split('/');
    const out = run('curl', [
      '-fsSI',
      '-H',
      'Accept: application/vnd.docker.distribution.manifest.v2+json',
      `http://${host ?? ''}/v2/${path.join('/')}/manifests/${tag}`,
    ]);
    const m = /^docker-content-digest:\s*(sha256:[0-9a-f]{64})/im.exec(out);
    if (!m) throw new Error(`no Docker-Content-Digest for ${this.ref(tag)}:\n${out}`);
    return m[1] ?? '';
  }

  /** Removes the local copies of every tag this repo pushed (the node then must pull). */
  removeLocal(): void {
    const ids = run('docker', [
      'images',
      '-q',
      '--no-trunc',
      '--filter',
      `reference=${this.name}`,
    ]).split('\n');
    for (const id of new Set(ids.filter((i) => i !== ''))) {
      try {
        run('docker', ['rmi', '-f', id]);
      } catch {
        // used by a container or already gone
      }
    }
  }

  cleanup(): void {
    this.removeLocal();
  }
}

/**
 * A compose file of one service `web` running IMAGE (a TestRepo version) as busybox httpd on
 * 127.0.0.1:PORT. `health` (default 'tolerant'): 'tolerant' is healthy once /version answers and
 * tolerates a loaded machine; 'quick' fails within a few seconds (a broken version must fail
 * verify soon); 'none' has no healthcheck.
 */
export function registryWebCompose(
  image: string,
  port: number,
  health: 'tolerant' | 'quick' | 'none' = 'tolerant',
): string {
  const check =
    health === 'none'
      ? []
      : [
          '    healthcheck:',
          `      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:${port}/version"]`,
          '      interval: 1s',
          health === 'quick' ? '      timeout: 2s' : '      timeout: 10s',
          health === 'quick' ? '      retries: 5' : '      retries: 60',
        ];
  return [
    'services:',
    '  web:',
    `    image: ${image}`,
    '    network_mode: host',
    '    stop_signal: SIGKILL',
    `    command: ["httpd", "-f", "-p", "127.0.0.1:${port}", "-h", "/"]`,
    ...check,
    '',
  ].join('\n');
}
