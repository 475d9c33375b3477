// A whole homelab on this machine, as SATURN sees it: a real Git repo with inventory/topology.yaml,
// hosts/<node>/<service>/ compose files (busybox:1.36 httpd on free loopback ports) and node
// manifests; a bare remote the nodes fetch from; and nodes reached over the `ssh` transport, each
// behind its own real sshd on 127.0.0.1 (test/support/sshd.ts), each with its own root.
//
//   const hl = await createLabHomelab({ nodes: [{ name: 'alpha', services: ['web'] }] });
//   await hl.bootstrap('alpha');          // clone the repo into <root>/repo, as bootstrap does
//   await runCli(['status', '--json'], { cwd: hl.repoDir });
//   await hl.cleanup();
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTopology } from '../../src/core/inventory/parse.js';
import { manifestPath, renderManifest } from '../../src/core/inventory/manifest.js';
import { composeProject } from '../../src/core/inventory/model.js';
import { formatProblem } from '../../src/core/problem.js';
import { REPO_ROOT } from './node-fixture.js';
import { freePort } from '../../src/shell/free-port.js';
import { startSshd, type SshdLab } from './sshd.js';

export interface LabService {
  readonly name: string;
  readonly secrets?: readonly string[];
  /** Seconds before httpd starts (the healthcheck fails until then): a slow verify. */
  readonly startDelay?: number;
}

export interface LabNode {
  readonly name: string;
  readonly services: ReadonlyArray<string | LabService>;
  /** The node's wave (default: its index modulo 3). */
  readonly wave?: number;
}

export interface LabHomelabOptions {
  readonly nodes: readonly LabNode[];
  /** Extra nodes in the topology that point at a closed port (unreachable). */
  readonly deadNodes?: readonly string[];
  /** ssh ConnectTimeout in seconds. */
  readonly connectTimeout?: number;
  /** `ssh` (default): each node behind its own sshd. `local`: nodes run on SATURN itself, no sshd. */
  readonly transport?: 'ssh' | 'local';
}

export interface LabHomelab {
  readonly dir: string;
  readonly repoDir: string;
  readonly remote: string;
  readonly labs: ReadonlyMap<string, SshdLab>;
  readonly ports: ReadonlyMap<string, number>;
  rootOf(node: string): string;
  /** Clones the remote into the node's <root>/repo as its login user would, and creates config/. */
  bootstrap(node: string): void;
  writeEnv(node: string, service: string, text: string): void;
  /** Commits everything in SATURN's repo and pushes it to the remote; returns the new HEAD. */
  commit(message: string): string;
  cleanup(): Promise<void>;
}

// SATURN (root here) pushes into a remote owned by the nodes' login user. `-c safe.directory` does
// not reach the local receive-pack; a global config file does.
const gitConfig = join(tmpdir(), 'homelab-lab-gitconfig');
// Written beside and renamed into place: test files load this module at the same time, and a git
// reading a file another process has just truncated sees no safe.directory ("dubious ownership").
const gitConfigTmp = `${gitConfig}.${process.pid}.${Math.random().toString(36).slice(2)}`;
writeFileSync(
  gitConfigTmp,
  '[safe]\n\tdirectory = *\n[user]\n\temail = lab@homelab.test\n\tname = lab\n[init]\n\tdefaultBranch = main\n',
);
renameSync(gitConfigTmp, gitConfig);

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_GLOBAL: gitConfig },
  }).trim();
}

const serviceOf = (s: string | LabService): LabService => (typeof s === 'string' ? { name: s } : s);

function composeFile(
  service: string,
  port: number,
  secrets: readonly string[],
  startDelay = 0,
): string {
  const httpd = `httpd -f -p 127.0.0.1:${port} -h /www`;
  return [
    'services:',
    `  ${service}:`,
    '    image: busybox:1.36',
    '    network_mode: host',
    '    stop_signal: SIGKILL',
    `    command: ["sh", "-c", "${startDelay > 0 ? `sleep ${startDelay}; ` : ''}exec ${httpd}"]`,
    '    volumes: ["./www:/www:ro"]',
    ...(secrets.length > 0
      ? ['    environment:', ...secrets.map((k) => `      ${k}: \${${k}}`)]
      : []),
    '    healthcheck:',
    `      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:${port}/"]`,
    '      interval: 1s',
    '      timeout: 2s',
    '      retries: 3',
    ...(startDelay > 0 ? [`      start_period: ${startDelay + 5}s`] : []),
    '',
  ].join('\n');
}

export async function createLabHomelab(opts: LabHomelabOptions): Promise<LabHomelab> {
  const dir = mkdtempSync(join(tmpdir(), 'homelab-lab-'));
  chmodSync(dir, 0o755);
  const repoDir = join(dir, 'saturn');
  const remote = join(dir, 'remote.git');
  const labs = new Map<string, SshdLab>();
  const ports = new Map<string, number>();
  const roots = new Map<string, string>();
  const timeout = opts.connectTimeout ?? 3;

  try {
    const local = opts.transport === 'local';
    const started = local ? [] : await Promise.all(opts.nodes.map(() => startSshd()));
    started.forEach((lab, i) => labs.set(opts.nodes[i]!.name, lab));
    const anyLab = started[0];

    const yaml: string[] = [
      'homelab: lab',
      'git:',
      `  remote: ${remote}`,
      '  branch: main',
      'defaults:',
      `  transport: ${local ? 'local' : 'ssh'}`,
    ];
    if (anyLab) yaml.push(`  user: ${anyLab.user}`, '  ssh:', `    connectTimeout: ${timeout}`);
    yaml.push('nodes:');
    for (const [i, node] of opts.nodes.entries()) {
      const lab = labs.get(node.name);
      const root = lab ? lab.makeDir(`root-${node.name}`) : join(dir, 'nodes', node.name);
      mkdirSync(root, { recursive: true });
      roots.set(node.name, root);
      yaml.push(
        `  ${node.name}:`,
        `    address: ${lab ? '127.0.0.1' : `127.0.1.${i + 1}`}`,
        '    role: worker',
        `    wave: ${node.wave ?? i % 3}`,
        `    root: ${root}`,
      );
      if (lab)
        yaml.push(
          '    ssh:',
          `      port: ${lab.port}`,
          `      identityFile: ${lab.keyFile}`,
          `      knownHostsFile: ${lab.knownHostsFile}`,
        );
      yaml.push('    services:');
      for (const s of node.services.map(serviceOf)) {
        yaml.push(`      - name: ${s.name}`);
        if (s.secrets?.length) yaml.push(`        secrets: [${s.secrets.join(', ')}]`);
        const port = await freePort();
        ports.set(`${node.name}/${s.name}`, port);
        const svcDir = join(repoDir, 'hosts', node.name, s.name);
        mkdirSync(join(svcDir, 'www'), { recursive: true });
        writeFileSync(join(svcDir, 'www', 'index.html'), `${node.name}/${s.name}\n`);
        writeFileSync(
          join(svcDir, 'docker-compose.yml'),
          composeFile(s.name, port, s.secrets ?? [], s.startDelay),
        );
      }
    }
    for (const dead of opts.deadNodes ?? []) {
      const port = await freePort(); // nothing listens there
      yaml.push(
        `  ${dead}:`,
        '    address: 127.0.0.1',
        '    role: worker',
        '    wave: 0',
        `    root: ${join(dir, dead)}`,
      );
      yaml.push('    ssh:', `      port: ${port}`, '    services: []');
      mkdirSync(join(repoDir, 'hosts', dead), { recursive: true });
    }
    mkdirSync(join(repoDir, 'inventory'), { recursive: true });
    const topology = `${yaml.join('\n')}\n`;
    writeFileSync(join(repoDir, 'inventory', 'topology.yaml'), topology);
    const parsed = parseTopology(topology);
    if (!parsed.inventory)
      throw new Error(`lab topology is invalid:\n${parsed.problems.map(formatProblem).join('\n')}`);
    for (const node of parsed.inventory.nodes)
      writeFileSync(join(repoDir, manifestPath(node.name)), renderManifest(parsed.inventory, node));
    cpSync(join(REPO_ROOT, 'scripts', 'deploy'), join(repoDir, 'scripts', 'deploy'), {
      recursive: true,
    });

    git(dir, 'init', '-q', '--bare', remote);
    git(repoDir, 'init', '-q');
    git(repoDir, 'remote', 'add', 'origin', remote);
    git(repoDir, 'add', '-A');
    git(repoDir, 'commit', '-q', '-m', 'lab homelab');
    git(repoDir, 'push', '-q', 'origin', 'HEAD:main');
    // The nodes' login user fetches from the remote.
    for (const lab of labs.values()) lab.grant(remote);
  } catch (err) {
    await Promise.all([...labs.values()].map((l) => l.stop()));
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const rootOf = (node: string): string => {
    const root = roots.get(node);
    if (!root) throw new Error(`no lab node ${node}`);
    return root;
  };
  const grant = (node: string, path: string): void => labs.get(node)?.grant(path);

  return {
    dir,
    repoDir,
    remote,
    labs,
    ports,
    rootOf,
    bootstrap(node) {
      const root = rootOf(node);
      git(dir, 'clone', '-q', remote, join(root, 'repo'));
      mkdirSync(join(root, 'config'), { recursive: true });
      grant(node, root);
    },
    writeEnv(node, service, text) {
      const cfg = join(rootOf(node), 'config', service);
      mkdirSync(cfg, { recursive: true });
      writeFileSync(join(cfg, '.env'), text, { mode: 0o600 });
      grant(node, cfg);
    },
    commit(message) {
      git(repoDir, 'add', '-A');
      git(repoDir, 'commit', '-q', '-m', message);
      git(repoDir, 'push', '-q', 'origin', 'HEAD:main');
      return git(repoDir, 'rev-parse', 'HEAD');
    },
    async cleanup() {
      const projects = [...ports.keys()].map((k) => {
        const [node = '', svc = ''] = k.split('/');
        return composeProject(node, svc);
      });
      for (const p of projects) {
        try {
          execFileSync('docker', ['compose', '-p', p, 'down', '--remove-orphans', '-t', '0'], {
            stdio: 'ignore',
            timeout: 60_000,
          });
        } catch {
          // not deployed
        }
      }
      await Promise.all([...labs.values()].map((l) => l.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
